// The results: the parts written (export) with their checksums and the next step in the air
// gap, or the exact `oc apply` commands of an import or a mirror, read from its results folder.
import { ActionGroup, Alert, Button, ClipboardCopy, Content, Title } from "@patternfly/react-core";
import { api } from "../../lib/ipc";
import { formatBytes, formatDuration } from "../../lib/format";
import { plural } from "../../lib/plural";
import { EmptyNext, ErrorAlert, LoadingRows, PartsWritten, useAsync } from "../../components";
import { useAppState } from "../../state";
import type { GuidedApi } from "./model";

function ApplyCommands({ dir }: { dir: string }) {
  const view = useAsync(() => api.loadResults(dir), [dir]);
  const { setResultsDir, go } = useAppState();
  if (view.loading) return <LoadingRows label="Reading the results folder" rows={2} />;
  if (view.error) return <ErrorAlert error={view.error} />;
  const v = view.data!;
  return (
    <div data-testid="guided-apply">
      <Title headingLevel="h3" style={{ marginTop: "1rem" }}>
        Apply to the cluster
      </Title>
      {!v.applyFrom413 && !v.applyBefore413 && <Content component="p">{v.applyCommand}</Content>}
      {v.applyFrom413 && (
        <>
          <Content component="p">OpenShift 4.13 and later:</Content>
          <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" data-testid="guided-apply-413">
            {v.applyFrom413}
          </ClipboardCopy>
        </>
      )}
      {v.applyBefore413 && (
        <>
          <Content component="p" style={{ marginTop: ".5rem" }}>
            OpenShift before 4.13:
          </Content>
          <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" data-testid="guided-apply-before-413">
            {v.applyBefore413}
          </ClipboardCopy>
        </>
      )}
      <Content component="p" style={{ marginTop: ".5rem" }}>
        {plural(v.files.length, "file")} in <span className="ferry-mono-inline">{v.dir}</span>.
      </Content>
      <ActionGroup>
        <Button
          variant="secondary"
          onClick={() => {
            setResultsDir(dir);
            go("results");
          }}
        >
          View every file
        </Button>
      </ActionGroup>
    </div>
  );
}

export function StepResults({ api: guided }: { api: GuidedApi }) {
  const s = guided.g.summary;
  if (!s)
    return (
      <EmptyNext
        title="No run yet"
        body="The results appear here when the run finishes."
        action="Go to the run"
        onAction={() => guided.update({ step: "run" })}
        testId="guided-no-results"
      />
    );
  return (
    <div data-testid="guided-summary">
      <Alert
        isInline
        variant={s.failed.length ? "warning" : "success"}
        title={`Finished${s.sequence !== null ? ` (sequence ${s.sequence})` : ""}: ${plural(s.imagesCopied, "image")} copied, ${s.imagesUpToDate} already there, ${s.failed.length} failed, ${formatBytes(s.bytes)} in ${formatDuration(s.elapsedSecs)}`}
      />
      {s.failed.map((f) => (
        <Alert key={f.image} variant="danger" isInline isPlain title={`${f.image}: ${f.error.message}`} />
      ))}
      {s.parts.length > 0 && (
        <>
          <Title headingLevel="h3" style={{ marginTop: "1rem" }}>
            {plural(s.parts.length, "part")} written to {guided.g.folder}
          </Title>
          <PartsWritten parts={s.parts} testId="guided-parts" />
        </>
      )}
      {s.kind === "mirrorToDisk" && (
        <>
          <Title headingLevel="h3" style={{ marginTop: "1rem" }}>
            Next, in the air gap
          </Title>
          <Content component="p">
            Carry the media across, open Ferry on the disconnected side and choose Import in the air gap; the import gives the oc apply
            commands. From a shell, the same import is:
          </Content>
          <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" data-testid="guided-import-command">
            {`ferry mirror --from ${guided.g.folder} docker://MIRROR_REGISTRY`}
          </ClipboardCopy>
          <ActionGroup>
            <Button
              variant="primary"
              data-testid="guided-to-import"
              onClick={() => guided.start("d2m", { folder: guided.g.folder })}
            >
              Import this media now
            </Button>
          </ActionGroup>
        </>
      )}
      {s.resultsDir && <ApplyCommands dir={s.resultsDir} />}
      <ActionGroup>
        <Button variant="link" onClick={guided.restart} data-testid="guided-done">
          Start another workflow
        </Button>
      </ActionGroup>
    </div>
  );
}
