// The pull-secret import form both the Credentials screen and the guided flow's first step use:
// drop, browse for or paste pull-secret.json, then import it. The secret lives in this form's
// state only until it is handed to the engine (which keeps it in the keyring).
import { useState, type CSSProperties } from "react";
import { ActionGroup, Button, FileUpload, Form } from "@patternfly/react-core";

export function PullSecretForm({
  id,
  buttonTestId,
  buttonVariant,
  onImport,
  style,
}: {
  /** FileUpload id: the text box is `#<id>`, the file input `#<id>-browse-input`. */
  id: string;
  buttonTestId: string;
  buttonVariant: "primary" | "secondary";
  /** Imports the secret; resolving `true` clears the form (the secret is no longer needed). */
  onImport: (secret: string) => Promise<boolean | void>;
  style?: CSSProperties;
}) {
  const [secret, setSecret] = useState("");
  const [name, setName] = useState("");
  const clear = () => {
    setSecret("");
    setName("");
  };
  return (
    <Form onSubmit={(e) => e.preventDefault()} style={style}>
      <FileUpload
        id={id}
        type="text"
        value={secret}
        filename={name}
        filenamePlaceholder="Drop or browse for pull-secret.json, or paste it below"
        onFileInputChange={(_e, f) => setName(f.name)}
        onDataChange={(_e, v) => setSecret(v)}
        onTextChange={(_e, v) => setSecret(v)}
        onClearClick={clear}
        allowEditingUploadedText
        browseButtonText="Browse…"
      />
      <ActionGroup>
        <Button
          variant={buttonVariant}
          isDisabled={!secret.trim()}
          data-testid={buttonTestId}
          onClick={async () => {
            if ((await onImport(secret)) === true) clear();
          }}
        >
          Import pull secret
        </Button>
      </ActionGroup>
    </Form>
  );
}
