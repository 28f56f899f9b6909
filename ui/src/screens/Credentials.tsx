// Credentials: import a pull secret (paste or file), add a mirror registry login, test a login,
// trust settings, export an auth file. Secrets go straight to the engine; the UI never keeps them.
import { useState } from "react";
import {
  ActionGroup,
  Alert,
  Button,
  Card,
  CardBody,
  CardTitle,
  Checkbox,
  Form,
  FormGroup,
  PageSection,
  TextInput,
  Title,
} from "@patternfly/react-core";
import { api, FerryError, toFerryError } from "../lib/ipc";
import { ErrorAlert, useAsync } from "../components";
import { LoginsTable } from "../components/LoginsTable";
import { PullSecretForm } from "../components/PullSecretForm";

export function CredentialsScreen() {
  const logins = useAsync(() => api.listLogins(), []);
  const [registry, setRegistry] = useState("");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [caBundle, setCaBundle] = useState("");
  const [skipTls, setSkipTls] = useState(false);
  const [plainHttp, setPlainHttp] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<FerryError | null>(null);

  const act = async (f: () => Promise<string>) => {
    setError(null);
    setMessage(null);
    try {
      setMessage(await f());
      logins.reload();
    } catch (e) {
      setError(toFerryError(e));
    }
  };

  return (
    <PageSection>
      <Title headingLevel="h2">Credentials</Title>
      <ErrorAlert error={error} onClose={() => setError(null)} />
      {message && <Alert variant="success" isInline title={message} data-testid="cred-message" />}
      <div className="ferry-grid-2" style={{ marginTop: "1rem" }}>
        <Card>
          <CardTitle>Pull secret</CardTitle>
          <CardBody>
            <PullSecretForm id="pull-secret" buttonTestId="import-secret" buttonVariant="primary"
              onImport={(secret) => act(async () => {
                const added = await api.importPullSecret(secret);
                return `Imported ${added.length} registr${added.length === 1 ? "y" : "ies"}: ${added.map((l) => l.registry).join(", ")}`;
              })} />
          </CardBody>
        </Card>
        <Card>
          <CardTitle>Mirror registry login</CardTitle>
          <CardBody>
            <Form onSubmit={(e) => e.preventDefault()}>
              <FormGroup label="Registry" fieldId="login-registry">
                <TextInput id="login-registry" value={registry} onChange={(_e, v) => setRegistry(v)} placeholder="mirror.example.com:5000" />
              </FormGroup>
              <FormGroup label="User name" fieldId="login-user">
                <TextInput id="login-user" value={username} onChange={(_e, v) => setUsername(v)} autoComplete="username" />
              </FormGroup>
              <FormGroup label="Password or token" fieldId="login-password">
                <TextInput id="login-password" type="password" value={password} onChange={(_e, v) => setPassword(v)} autoComplete="current-password" />
              </FormGroup>
              <ActionGroup>
                <Button variant="primary" isDisabled={!registry || !username || !password} data-testid="add-login"
                  onClick={() => act(async () => {
                    await api.addLogin(registry, username, password);
                    setPassword("");
                    return `Saved the login for ${registry} in the keyring`;
                  })}>
                  Save login
                </Button>
                <Button variant="secondary" isDisabled={!registry} data-testid="test-login" onClick={() => act(() => api.testLogin(registry))}>
                  Test login
                </Button>
              </ActionGroup>
            </Form>
          </CardBody>
        </Card>
        <Card>
          <CardTitle>Trust settings</CardTitle>
          <CardBody>
            <Form onSubmit={(e) => e.preventDefault()}>
              <FormGroup label="CA bundle file for the registry above" fieldId="ca-bundle">
                <TextInput id="ca-bundle" value={caBundle} onChange={(_e, v) => setCaBundle(v)} placeholder="/etc/pki/mirror-ca.pem" />
              </FormGroup>
              <Checkbox id="skip-tls" label="Skip TLS verification (test registries only)" isChecked={skipTls} onChange={(_e, v) => setSkipTls(v)} />
              <Checkbox id="plain-http" label="Plain HTTP, no TLS (loopback test registries only)" isChecked={plainHttp} onChange={(_e, v) => setPlainHttp(v)} />
              <ActionGroup>
                <Button variant="secondary" isDisabled={!registry} data-testid="save-trust"
                  onClick={() => act(async () => {
                    await api.setTrust({ registry, caBundle: caBundle || null, skipTlsVerify: skipTls, plainHttp });
                    return `Trust settings saved for ${registry}`;
                  })}>
                  Save trust settings
                </Button>
              </ActionGroup>
            </Form>
          </CardBody>
        </Card>
        <Card>
          <CardTitle>Known logins</CardTitle>
          <CardBody>
            <ErrorAlert error={logins.error} />
            <LoginsTable logins={logins.data ?? []} />
            <ActionGroup>
              <Button variant="secondary"
                onClick={() => act(async () => {
                  const { save } = await import("@tauri-apps/plugin-dialog");
                  const p = await save({ defaultPath: "auth.json" });
                  if (!p) return "Export cancelled";
                  await api.exportAuthFile(p);
                  return `Wrote ${p} (mode 0600)`;
                })}>
                Export auth file…
              </Button>
            </ActionGroup>
          </CardBody>
        </Card>
      </div>
    </PageSection>
  );
}
