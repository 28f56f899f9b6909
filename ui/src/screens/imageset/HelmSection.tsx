// The editor's chart picker: a repository URL lists the charts and versions of its index.yaml
// (read by the engine with the CLI's trust settings and logins); "Add" writes
// mirror.helm.repositories[] and the YAML follows. Local charts come from the file dialog (or a
// typed path) and go into mirror.helm.local[] with the name read from their Chart.yaml.
import { useState } from "react";
import {
  Button,
  Card,
  CardBody,
  CardTitle,
  FormGroup,
  FormSelect,
  FormSelectOption,
  Label,
  Spinner,
  TextInput,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { FerryError, toFerryError } from "../../lib/ipc";
import { addLocalChart, addRepoChart, helmApi } from "../../lib/helm";
import { ErrorAlert } from "../../components";
import type { HelmRepoIndex } from "../../bindings/HelmRepoIndex";

type Props = { yaml: string; setYaml: (y: string) => void };

export function HelmSection({ yaml, setYaml }: Props) {
  const [url, setUrl] = useState("");
  const [index, setIndex] = useState<HelmRepoIndex | null>(null);
  const [picked, setPicked] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FerryError | null>(null);
  const [added, setAdded] = useState<string | null>(null);
  const [localPath, setLocalPath] = useState("");

  const list = async () => {
    setBusy(true);
    setError(null);
    setIndex(null);
    try {
      setIndex(await helmApi.repositoryIndex(url.trim()));
    } catch (e) {
      setError(toFerryError(e));
    } finally {
      setBusy(false);
    }
  };
  const add = (chart: string, version: string) => {
    setYaml(addRepoChart(yaml, index?.url ?? url.trim(), chart, version));
    setAdded(`${chart}${version ? ` ${version}` : ""}`);
  };
  const addLocal = async (path: string) => {
    setError(null);
    try {
      const c = await helmApi.localChart(path);
      setYaml(addLocalChart(yaml, c.name, c.path));
      setAdded(`${c.name} ${c.version} (local)`);
      setLocalPath("");
    } catch (e) {
      setError(toFerryError(e));
    }
  };
  const browse = async (directory: boolean) => {
    try {
      const { open } = await import("@tauri-apps/plugin-dialog");
      const p = await open(
        directory
          ? { directory: true, multiple: false, title: "Unpacked chart folder" }
          : { multiple: false, title: "Chart archive", filters: [{ name: "Helm chart", extensions: ["tgz"] }] },
      );
      if (typeof p === "string") await addLocal(p);
    } catch (e) {
      setError(toFerryError(e));
    }
  };

  return (
    <Card isCompact data-testid="helm-section" style={{ marginBottom: "1rem" }}>
      <CardTitle>Add charts</CardTitle>
      <CardBody>
        <FormGroup label="Chart repository URL" fieldId="helm-repo-url">
          <TextInput
            id="helm-repo-url"
            value={url}
            placeholder="https://charts.example.com/stable"
            onChange={(_e, v) => setUrl(v)}
            onKeyDown={(e) => e.key === "Enter" && url.trim() && list()}
          />
        </FormGroup>
        <Button variant="secondary" onClick={list} isDisabled={!url.trim() || busy} data-testid="helm-list-charts" style={{ marginTop: ".5rem" }}>
          List charts
        </Button>
        {busy && <Spinner size="md" aria-label="Reading index.yaml" />}
        <ErrorAlert error={error} onClose={() => setError(null)} />
        {added && <Label color="green" style={{ marginLeft: ".5rem" }} data-testid="helm-added">Added {added}</Label>}
        {index && (
          <Table aria-label="Charts in the repository" variant="compact" data-testid="helm-chart-list">
            <Thead>
              <Tr>
                <Th>Chart</Th>
                <Th>Version</Th>
                <Th screenReaderText="Add" />
              </Tr>
            </Thead>
            <Tbody>
              {index.charts.length === 0 && (
                <Tr>
                  <Td colSpan={3}>The index lists no charts.</Td>
                </Tr>
              )}
              {index.charts.map((c) => {
                const v = picked[c.name] ?? c.versions[0]?.version ?? "";
                const info = c.versions.find((x) => x.version === v);
                return (
                  <Tr key={c.name} data-testid={`helm-chart-${c.name}`}>
                    <Td className="ferry-mono">{c.name}</Td>
                    <Td>
                      <FormSelect
                        aria-label={`Version of ${c.name}`}
                        value={v}
                        onChange={(_e, x) => setPicked({ ...picked, [c.name]: x })}
                      >
                        {c.versions.map((x) => (
                          <FormSelectOption
                            key={x.version}
                            value={x.version}
                            label={`${x.version}${x.appVersion ? ` (app ${x.appVersion})` : ""}${x.deprecated ? " deprecated" : ""}`}
                          />
                        ))}
                      </FormSelect>
                      {info && !info.hasDigest && (
                        <Label color="orange" isCompact>no digest in the index: the archive cannot be checked</Label>
                      )}
                    </Td>
                    <Td>
                      <Button variant="link" onClick={() => add(c.name, v)} data-testid={`helm-add-${c.name}`}>
                        Add
                      </Button>
                    </Td>
                  </Tr>
                );
              })}
            </Tbody>
          </Table>
        )}
        <FormGroup label="Local chart (.tgz or folder)" fieldId="helm-local-path" style={{ marginTop: "1rem" }}>
          <TextInput id="helm-local-path" value={localPath} placeholder="/path/to/chart-1.0.0.tgz" onChange={(_e, v) => setLocalPath(v)} />
        </FormGroup>
        <div style={{ display: "flex", gap: ".5rem", marginTop: ".5rem" }}>
          <Button variant="secondary" isDisabled={!localPath.trim()} onClick={() => addLocal(localPath.trim())} data-testid="helm-add-local">
            Add local chart
          </Button>
          <Button variant="link" onClick={() => browse(false)}>
            Choose a .tgz…
          </Button>
          <Button variant="link" onClick={() => browse(true)}>
            Choose a folder…
          </Button>
        </div>
      </CardBody>
    </Card>
  );
}
