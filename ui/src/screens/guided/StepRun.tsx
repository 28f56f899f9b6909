// The run: checked again right before it starts (the image set, the logins of every registry
// the plan touches, the destination's room and file system), then started with live progress.
// A failed check keeps every entry and offers its fix instead of starting.
import { useState } from "react";
import { ActionGroup, Alert, Button, Content, Title } from "@patternfly/react-core";
import { api, FerryError, toFerryError } from "../../lib/ipc";
import { formatBytes } from "../../lib/format";
import { plural } from "../../lib/plural";
import { ErrorAlert, JobProgressView, LoadingRows, toast, useJob } from "../../components";
import { useAppState } from "../../state";
import { Checks } from "./Checks";
import { requestOf, useFixes } from "./StepDestination";
import type { GuidedApi } from "./model";
import type { PreflightReport } from "../../bindings/PreflightReport";
import type { JobSummary } from "../../bindings/JobSummary";

const VERB = { m2d: "Export", d2m: "Import", m2m: "Mirror" } as const;

export function StepRun({ api: guided }: { api: GuidedApi }) {
  const { g, update } = guided;
  const mode = g.mode!;
  const { yaml, filePath } = useAppState();
  const [report, setReport] = useState<PreflightReport | null>(null);
  const [checking, setChecking] = useState(false);
  const [error, setError] = useState<FerryError | null>(null);
  const job = useJob((s: JobSummary) => {
    toast(`${VERB[mode]} finished: ${plural(s.imagesCopied, "image")} copied, ${formatBytes(s.bytes)}`, s.failed.length ? "warning" : "success");
    update({ summary: s, done: [...new Set([...g.done, "run" as const])], step: "results" });
  });

  const checkThenStart = async (text: string = yaml) => {
    setChecking(true);
    setError(null);
    setReport(null);
    let r: PreflightReport;
    try {
      r = await api.preflight(requestOf(mode, text, g.folder, g.registry));
    } catch (e) {
      setError(toFerryError(e));
      setChecking(false);
      return;
    }
    setChecking(false);
    setReport(r);
    if (!r.ready) return;
    void job.start((ch) =>
      mode === "m2d"
        ? api.startMirrorToDisk(text, g.folder, ch)
        : mode === "d2m"
          ? api.startDiskToMirror(g.folder, g.registry, ch)
          : api.startMirrorToMirror(text, g.registry, ch),
    );
  };
  const fixes = useFixes(guided, (t) => void checkThenStart(t));
  const target = mode === "m2d" ? g.folder : mode === "d2m" ? `${g.folder} → ${g.registry}` : g.registry;

  return (
    <>
      <Title headingLevel="h3">{VERB[mode]}</Title>
      <Content component="p">
        {mode === "m2d" ? "Writes the archive parts into" : mode === "d2m" ? "Pushes the parts from" : "Copies the images into"}{" "}
        <span className="ferry-mono-inline">{target}</span>
        {filePath && mode !== "d2m" ? ` (image set ${filePath})` : ""}. Everything is checked again before it starts.
      </Content>
      <ActionGroup>
        <Button
          variant="primary"
          onClick={() => checkThenStart()}
          isLoading={checking}
          isDisabled={checking || job.running}
          data-testid="guided-start"
        >
          {job.error ? `Start the ${VERB[mode].toLowerCase()} again` : `Check and start the ${VERB[mode].toLowerCase()}`}
        </Button>
      </ActionGroup>
      {checking && <LoadingRows label="Checking before the run starts" rows={3} />}
      {report && !report.ready && (
        <Alert isInline variant="danger" title="Not started: fix what is marked below; your entries are kept" data-testid="guided-not-started" />
      )}
      {report && (!report.ready || !job.running) && !job.summary && <Checks report={report} fixes={fixes} />}
      <ErrorAlert error={error} onClose={() => setError(null)} />
      <ErrorAlert
        error={job.error}
        actions={
          job.error?.code === "no-space"
            ? [{ label: "Pick another folder", onClick: fixes.pickDestination }]
            : job.error?.code === "unauthorized" || job.error?.code === "tls"
              ? [{ label: "Open credentials", onClick: fixes.openCredentials }]
              : undefined
        }
      />
      <div style={{ marginTop: "1rem" }}>
        <JobProgressView job={job} onCancel={job.cancel} />
      </div>
    </>
  );
}
