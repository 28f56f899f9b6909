// Results: mapping, ICSP, IDMS/ITMS, CatalogSource, UpdateService, signatures: view, copy,
// save, and the `oc apply -f` command to run.
import { useEffect, useState } from "react";
import {
  ActionGroup,
  Button,
  ClipboardCopy,
  CodeBlock,
  CodeBlockCode,
  Form,
  PageSection,
  Tab,
  Tabs,
  TabTitleText,
  Title,
  Alert,
} from "@patternfly/react-core";
import { api, FerryError, toFerryError } from "../lib/ipc";
import { ErrorAlert, FolderPicker } from "../components";
import { useAppState } from "../state";
import type { ResultsView } from "../bindings/ResultsView";
import { ReleaseSignatures } from "./release/ReleaseSignatures";

export function ResultsScreen() {
  const { resultsDir, setResultsDir } = useAppState();
  const [dir, setDir] = useState(resultsDir ?? "");
  const [view, setView] = useState<ResultsView | null>(null);
  const [tab, setTab] = useState(0);
  const [error, setError] = useState<FerryError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const load = async (d: string) => {
    setError(null);
    try {
      const v = await api.loadResults(d);
      setView(v);
      setResultsDir(d);
      setTab(0);
    } catch (e) {
      setError(toFerryError(e));
    }
  };
  useEffect(() => {
    if (resultsDir) void load(resultsDir);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const saveFile = async (name: string, content: string) => {
    try {
      const { save } = await import("@tauri-apps/plugin-dialog");
      const p = await save({ defaultPath: name });
      if (p) {
        await api.writeTextFile(p, content);
        setSaved(p);
      }
    } catch (e) {
      setError(toFerryError(e));
    }
  };

  return (
    <PageSection>
      <Title headingLevel="h2">Results</Title>
      <Form onSubmit={(e) => e.preventDefault()} style={{ maxWidth: 760 }}>
        <FolderPicker id="results-dir" label="Results folder" value={dir} onChange={setDir} />
        <ActionGroup>
          <Button variant="secondary" onClick={() => load(dir)} isDisabled={!dir} data-testid="load-results">
            Open
          </Button>
        </ActionGroup>
      </Form>
      <ErrorAlert error={error} onClose={() => setError(null)} />
      {saved && <Alert variant="success" isInline isPlain title={`Saved ${saved}`} />}
      {view && (
        <div data-testid="results-view" style={{ marginTop: "1rem" }}>
          <Title headingLevel="h3">Apply to the cluster</Title>
          {/* One command per cluster version: ICSP before 4.13, IDMS/ITMS from 4.13, never both. */}
          {!view.applyFrom413 && !view.applyBefore413 && <p data-testid="apply-command">{view.applyCommand}</p>}
          {view.applyFrom413 && (
            <>
              <p>OpenShift 4.13 and later</p>
              <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" data-testid="apply-command">
                {view.applyFrom413}
              </ClipboardCopy>
            </>
          )}
          {view.applyBefore413 && (
            <>
              <p style={{ marginTop: ".5rem" }}>OpenShift before 4.13</p>
              <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" data-testid="apply-command-before-4-13">
                {view.applyBefore413}
              </ClipboardCopy>
            </>
          )}
          <ReleaseSignatures dir={view.dir} />
          <Tabs activeKey={tab} onSelect={(_e, k) => setTab(Number(k))} aria-label="Result files" style={{ marginTop: "1rem" }}>
            {view.files.map((f, i) => (
              <Tab key={f.path} eventKey={i} title={<TabTitleText>{f.name}</TabTitleText>}>
                <ActionGroup style={{ margin: ".5rem 0" }}>
                  <Button variant="secondary" onClick={() => navigator.clipboard?.writeText(f.content)}>
                    Copy
                  </Button>
                  <Button variant="secondary" onClick={() => saveFile(f.name, f.content)}>
                    Save as…
                  </Button>
                </ActionGroup>
                <CodeBlock>
                  <CodeBlockCode className="ferry-mono">{f.content}</CodeBlockCode>
                </CodeBlock>
              </Tab>
            ))}
          </Tabs>
        </div>
      )}
    </PageSection>
  );
}
