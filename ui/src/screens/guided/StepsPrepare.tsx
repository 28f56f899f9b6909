// The first steps: credentials (the Red Hat pull secret first), the image set (the current one,
// a new one from the template, or a file), and the plan with its sizes.
import { useEffect, useState } from "react";
import {
  ActionGroup,
  Alert,
  Button,
  Content,
  Form,
  FormGroup,
  InputGroup,
  InputGroupItem,
  TextInput,
  Title,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { api, FerryError, toFerryError } from "../../lib/ipc";
import { formatBytes } from "../../lib/format";
import { plural } from "../../lib/plural";
import { Digest, EmptyNext, ErrorAlert, LoadingRows, useAsync } from "../../components";
import { LoginsTable } from "../../components/LoginsTable";
import { PullSecretForm } from "../../components/PullSecretForm";
import { rememberFile, useAppState } from "../../state";
import type { GuidedApi } from "./model";
import type { Diagnostic } from "../../bindings/Diagnostic";

export function StepCredentials({ api: guided }: { api: GuidedApi }) {
  const { go } = useAppState();
  const logins = useAsync(() => api.listLogins(), []);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<FerryError | null>(null);
  const list = logins.data ?? [];
  // Resolves true when imported, so the form lets go of the secret.
  const importSecret = async (secret: string) => {
    setError(null);
    try {
      const added = await api.importPullSecret(secret);
      setMessage(`Imported ${plural(added.length, "registry")}: ${added.map((l) => l.registry).join(", ")}`);
      logins.reload();
      return true;
    } catch (e) {
      setError(toFerryError(e));
      return false;
    }
  };
  return (
    <>
      <Title headingLevel="h3">1. The pull secret from the Red Hat console</Title>
      <Content component="p">
        Download it from console.redhat.com/openshift/downloads (Pull secret) and drop the file here or paste it. Ferry keeps the
        secrets in the system keyring.
      </Content>
      <PullSecretForm
        id="guided-pull-secret"
        buttonTestId="guided-import-secret"
        buttonVariant="secondary"
        onImport={importSecret}
        style={{ maxWidth: 760 }}
      />
      <ErrorAlert error={error} onClose={() => setError(null)} />
      {message && <Alert variant="success" isInline title={message} data-testid="guided-secret-message" />}
      <Title headingLevel="h3" style={{ marginTop: "1rem" }}>
        Known logins
      </Title>
      {logins.loading && !logins.data ? (
        <LoadingRows label="Reading the stored logins" rows={2} />
      ) : list.length === 0 ? (
        <EmptyNext
          title="No logins yet"
          body="Import the pull secret above. Registries that allow anonymous pulls need none."
          testId="no-logins"
        />
      ) : (
        <LoginsTable logins={list} testId="guided-logins" />
      )}
      <ActionGroup>
        <Button variant="primary" onClick={guided.next} data-testid="guided-next">
          Continue
        </Button>
        <Button variant="link" onClick={() => go("credentials")}>
          Mirror registry logins and trust settings…
        </Button>
      </ActionGroup>
    </>
  );
}

function errorsOf(d: Diagnostic[]) {
  return d.filter((x) => x.severity === "error");
}

export function StepImageSet({ api: guided }: { api: GuidedApi }) {
  const { yaml, setYaml, filePath, setFilePath, go } = useAppState();
  const [path, setPath] = useState(filePath ?? "");
  const [diags, setDiags] = useState<Diagnostic[] | null>(null);
  const [error, setError] = useState<FerryError | null>(null);
  useEffect(() => {
    let live = true;
    api
      .validateImageSet(yaml)
      .then((d) => live && setDiags(d))
      .catch((e) => live && setError(toFerryError(e)));
    return () => {
      live = false;
    };
  }, [yaml]);
  const fromTemplate = async () => {
    try {
      setYaml(await api.imageSetTemplate());
      setFilePath(null);
    } catch (e) {
      setError(toFerryError(e));
    }
  };
  const open = async (p: string) => {
    setError(null);
    try {
      setYaml(await api.readTextFile(p));
      setFilePath(p);
      rememberFile(p);
    } catch (e) {
      setError(toFerryError(e));
    }
  };
  const browse = async () => {
    try {
      const { open: dialog } = await import("@tauri-apps/plugin-dialog");
      const r = await dialog({ multiple: false, filters: [{ name: "Image set", extensions: ["yaml", "yml"] }] });
      if (typeof r === "string") {
        setPath(r);
        await open(r);
      }
    } catch (e) {
      setError(toFerryError(e));
    }
  };
  const errors = diags ? errorsOf(diags) : [];
  const images = yaml.split("\n").filter((l) => /^\s*-\s*name:/.test(l)).length;
  return (
    <>
      <Title headingLevel="h3">What to mirror</Title>
      <Content component="p">
        {filePath ? `The image set from ${filePath}` : "The image set being edited (a draft kept by the app)"}: {yaml.split("\n").length}{" "}
        lines, {plural(images, "named entry", "named entries")}.
      </Content>
      <Form onSubmit={(e) => e.preventDefault()} style={{ maxWidth: 760 }}>
        <FormGroup label="Open an existing image set file" fieldId="guided-imageset-path">
          <InputGroup>
            <InputGroupItem isFill>
              <TextInput id="guided-imageset-path" value={path} onChange={(_e, v) => setPath(v)} placeholder="/home/me/imageset-config.yaml" />
            </InputGroupItem>
            <InputGroupItem>
              <Button variant="control" onClick={() => open(path)} isDisabled={!path} data-testid="guided-open">
                Open
              </Button>
            </InputGroupItem>
            <InputGroupItem>
              <Button variant="control" onClick={browse}>
                Browse…
              </Button>
            </InputGroupItem>
          </InputGroup>
        </FormGroup>
        <ActionGroup>
          <Button variant="secondary" onClick={fromTemplate} data-testid="guided-template">
            New from template
          </Button>
          <Button variant="secondary" onClick={() => go("imageset")} data-testid="guided-edit">
            Edit in the image set editor
          </Button>
        </ActionGroup>
      </Form>
      <ErrorAlert error={error} onClose={() => setError(null)} />
      {diags === null ? (
        <LoadingRows label="Checking the image set" rows={1} />
      ) : errors.length > 0 ? (
        <Alert
          isInline
          variant="danger"
          data-testid="guided-imageset-errors"
          title={`The image set has ${plural(errors.length, "problem")}`}
          actionLinks={<Button variant="link" isInline onClick={() => go("imageset")}>Fix it in the editor</Button>}
        >
          {errors.slice(0, 5).map((d) => (
            <div key={`${d.line}:${d.column}:${d.message}`}>
              Line {d.line}: {d.message}
            </div>
          ))}
        </Alert>
      ) : (
        <Alert isInline isPlain variant="success" title="The image set is valid" data-testid="guided-imageset-ok" />
      )}
      <ActionGroup>
        <Button variant="primary" onClick={guided.next} isDisabled={diags === null || errors.length > 0} data-testid="guided-next">
          Continue to the plan
        </Button>
      </ActionGroup>
    </>
  );
}

export function StepPlan({ api: guided }: { api: GuidedApi }) {
  const { yaml } = useAppState();
  const plan = useAsync(() => api.planDryRun(yaml, null), [yaml]);
  const p = plan.data;
  const images = p ? p.groups.flatMap((g) => g.images) : [];
  return (
    <>
      <Title headingLevel="h3">What the run will copy</Title>
      {plan.loading && <LoadingRows label="Resolving the images against their registries" rows={4} />}
      <ErrorAlert
        error={plan.error}
        actions={
          plan.error?.code === "unauthorized" || plan.error?.code === "tls"
            ? [{ label: "Back to credentials", onClick: () => guided.update({ step: "credentials" }) }]
            : [{ label: "Back to the image set", onClick: () => guided.update({ step: "imageset" }) }]
        }
      />
      {p && !plan.loading && images.length === 0 && (
        <EmptyNext
          title="Nothing to mirror"
          body="The image set selects no image."
          action="Back to the image set"
          onAction={() => guided.update({ step: "imageset" })}
          testId="guided-plan-empty"
        />
      )}
      {p && !plan.loading && images.length > 0 && (
        <div data-testid="guided-plan">
          <Alert
            isInline
            variant="info"
            isPlain
            data-testid="guided-plan-total"
            title={`${plural(images.length, "image")}, ${formatBytes(p.totalBytes)}, ${plural(p.parts, "archive part")}${p.blocked.length ? `; ${plural(p.blocked.length, "image")} blocked` : ""}`}
          />
          <Table aria-label="Planned images" variant="compact">
            <Thead>
              <Tr>
                <Th>Image</Th>
                <Th>Digest</Th>
                <Th>Size</Th>
              </Tr>
            </Thead>
            <Tbody>
              {images.map((i) => (
                <Tr key={i.source + i.destination}>
                  <Td className="ferry-mono">{i.source}</Td>
                  <Td>{i.digest ? <Digest value={i.digest} /> : "—"}</Td>
                  <Td>{i.bytes !== null ? formatBytes(i.bytes) : "—"}</Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        </div>
      )}
      <ActionGroup>
        <Button variant="primary" onClick={guided.next} isDisabled={!p || plan.loading || images.length === 0} data-testid="guided-next">
          Continue to the destination
        </Button>
        <Button variant="secondary" onClick={plan.reload} isDisabled={plan.loading}>
          Plan again
        </Button>
      </ActionGroup>
    </>
  );
}
