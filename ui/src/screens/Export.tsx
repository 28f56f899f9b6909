// Export to removable media (mirror-to-disk): folder, free-space check, progress, cancel,
// resume after a restart and the parts with their checksums (the shell sends the notification).
import { useEffect, useState } from "react";
import {
  ActionGroup,
  Alert,
  Button,
  Form,
  PageSection,
  Title,
} from "@patternfly/react-core";
import { api, FerryError, toFerryError } from "../lib/ipc";
import { formatBytes, formatDuration } from "../lib/format";
import { ErrorAlert, FolderPicker, JobProgressView, PartsWritten, pickFolder, useJob } from "../components";
import { plural } from "../lib/plural";
import { useAppState } from "../state";
import type { PlanSummary } from "../bindings/PlanSummary";
import type { HistoryEntry } from "../bindings/HistoryEntry";

export function ExportScreen() {
  // filePath: the image-set file; its folder is where a relative storageConfig.local.path lives.
  const { yaml, go, filePath } = useAppState();
  const [folder, setFolder] = useState(() => localStorage.getItem("ferry.exportFolder") ?? "");
  const [space, setSpace] = useState<PlanSummary | null>(null);
  const [checkError, setCheckError] = useState<FerryError | null>(null);
  const [resumable, setResumable] = useState<HistoryEntry[]>([]);
  // The end-of-run notification comes from the shell (one per run, also with the window closed).
  const job = useJob();

  useEffect(() => {
    api
      .resumableJobs()
      .then((all) => setResumable(all.filter((r) => r.kind === "mirrorToDisk")))
      .catch(() => setResumable([]));
  }, [job.summary]);

  const choose = (p: string) => {
    setFolder(p);
    setSpace(null);
    localStorage.setItem("ferry.exportFolder", p);
  };
  const check = async () => {
    setCheckError(null);
    try {
      setSpace(await api.planDryRun(yaml, folder, filePath));
    } catch (e) {
      setCheckError(toFerryError(e));
    }
  };
  const pickAnother = () => pickFolder("Export folder").then((p) => p && choose(p)).catch(setCheckError);
  const s = job.summary;
  // sha256sum -c wants bare hex digests.

  return (
    <PageSection>
      <Title headingLevel="h2">Export to removable media</Title>
      {resumable.length > 0 && !job.running && (
        <Alert variant="info" isInline title="An export was interrupted" data-testid="resumable">
          {resumable.map((r) => (
            <div key={r.id}>
              {r.backend}: {formatBytes(r.bytes)} so far.{" "}
              <Button variant="link" isInline onClick={() => job.start((ch) => api.resumeJob(r.id, ch))}>
                Resume
              </Button>
            </div>
          ))}
        </Alert>
      )}
      <Form onSubmit={(e) => e.preventDefault()} style={{ maxWidth: 760 }}>
        <FolderPicker id="export-folder" label="Folder or mounted drive" value={folder} onChange={choose} />
        <ActionGroup>
          <Button variant="secondary" onClick={check} isDisabled={!folder || job.running} data-testid="check-space">
            Check free space
          </Button>
          <Button
            variant="primary"
            isDisabled={!folder || job.running || space?.fits === false}
            onClick={() => job.start((ch) => api.startMirrorToDisk(yaml, folder, ch, filePath))}
            data-testid="start-export"
          >
            Export
          </Button>
        </ActionGroup>
      </Form>
      <ErrorAlert
        error={checkError}
        actions={checkError?.code === "invalid-config" ? [{ label: "Fix the image set", onClick: () => go("imageset") }] : undefined}
      />
      {space?.destination && space.fits === null && (
        <Alert
          isInline
          data-testid="space-check"
          variant="info"
          title={`${formatBytes(space.destination.freeBytes)} free on ${space.destination.path}; image sizes are checked as the export runs`}
        />
      )}
      {space?.destination && space.fits !== null && (
        <Alert
          isInline
          data-testid="space-check"
          variant={space.fits ? "success" : "danger"}
          title={
            space.fits
              ? `${formatBytes(space.destination.freeBytes)} free; the export needs ${formatBytes(space.totalBytes)} in ${plural(space.parts, "part")}`
              : `Not enough room on ${space.destination.path}: needs ${formatBytes(space.totalBytes)}, ${formatBytes(space.destination.freeBytes)} free`
          }
          actionLinks={!space.fits ? <Button variant="link" isInline onClick={pickAnother}>Pick another folder</Button> : undefined}
        />
      )}
      <ErrorAlert
        error={job.error}
        actions={
          job.error?.code === "no-space"
            ? [{ label: "Pick another folder", onClick: pickAnother }]
            : job.error?.code === "unauthorized"
              ? [{ label: "Open credentials", onClick: () => go("credentials") }]
              : job.error?.code === "invalid-config"
                ? [{ label: "Fix the image set", onClick: () => go("imageset") }]
                : undefined
        }
      />
      <div style={{ marginTop: "1rem" }}>
        <JobProgressView job={job} onCancel={job.cancel} />
      </div>
      {s && (
        <div data-testid="export-summary" style={{ marginTop: "1rem" }}>
          <Alert
            variant={s.failed.length ? "warning" : "success"}
            isInline
            title={`Export finished${s.sequence !== null ? ` (sequence ${s.sequence})` : ""}: ${plural(s.imagesCopied, "image")} copied, ${s.imagesUpToDate} already there, ${s.failed.length} failed, ${formatBytes(s.bytes)} in ${formatDuration(s.elapsedSecs)}`}
          />
          <PartsWritten parts={s.parts} />
          {s.failed.map((f) => (
            <Alert key={f.image} variant="danger" isInline isPlain title={`${f.image}: ${f.error.message}`} />
          ))}
        </div>
      )}
    </PageSection>
  );
}
