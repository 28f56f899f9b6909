// Import in the air gap (disk-to-mirror): pick the folder, check the media (parts present at
// their listed sizes; no data is read), show the sequence and contents, pick the target registry,
// push with progress, then the results. The import itself checks every part's hash and every
// entry's digest as it streams, so the media is read once; "Verify every byte" reads it all on
// its own and is never chained before the push. A part missing from the folder is named, with
// the fix (copy it back and check again, or pick the folder that holds it). An import the app
// did not finish (closed, killed, crashed) is offered for resume: the re-run skips every blob
// the target already holds. The end-of-run notification comes from the shell.
import { useEffect, useState } from "react";
import { ActionGroup, Alert, Button, Form, FormGroup, List, ListItem, PageSection, TextInput, Title } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { api, FerryError, toFerryError } from "../lib/ipc";
import { formatBytes } from "../lib/format";
import { ErrorAlert, FolderPicker, JobProgressView, pickFolder, useJob } from "../components";
import { useAppState } from "../state";
import type { HistoryEntry } from "../bindings/HistoryEntry";
import type { MediaReport } from "../bindings/MediaReport";

export function ImportScreen() {
  const { go, setResultsDir } = useAppState();
  const [folder, setFolder] = useState("");
  const [registry, setRegistry] = useState(() => localStorage.getItem("ferry.targetRegistry") ?? "");
  const [report, setReport] = useState<MediaReport | null>(null);
  const [error, setError] = useState<FerryError | null>(null);
  const job = useJob((s) => {
    if (s.resultsDir) setResultsDir(s.resultsDir);
  });
  const [resumable, setResumable] = useState<HistoryEntry[]>([]);
  useEffect(() => {
    api
      .resumableJobs()
      .then((all) => setResumable(all.filter((r) => r.kind === "diskToMirror")))
      .catch(() => setResumable([]));
  }, [job.summary]);
  const resume = (r: HistoryEntry) => {
    setRegistry(r.backend);
    job.start((ch) => api.resumeJob(r.id, ch));
  };

  const [full, setFull] = useState(false);
  const [checking, setChecking] = useState(false);
  const check = async (f = folder, everyByte = false) => {
    setError(null);
    setReport(null);
    setChecking(true);
    try {
      setReport(await (everyByte ? api.verifyMedia(f) : api.checkMedia(f)));
      setFull(everyByte);
    } catch (e) {
      setError(toFerryError(e));
    } finally {
      setChecking(false);
    }
  };
  const pickAnother = () =>
    pickFolder("Import folder")
      .then((p) => {
        if (p) {
          setFolder(p);
          void check(p);
        }
      })
      .catch(setError);
  const ok = report !== null && report.problems.length === 0;

  return (
    <PageSection>
      <Title headingLevel="h2">Import in the air gap</Title>
      {resumable.length > 0 && !job.running && !job.summary && (
        <Alert variant="info" isInline title="An import was interrupted" data-testid="resumable-import">
          {resumable.map((r) => (
            <div key={r.id}>
              {r.outcome.replace(/^interrupted import from /, "")} into {r.backend} ({formatBytes(r.bytes)} on the media, started {r.startedAt}).
              Resuming pushes only the blobs {r.backend} does not hold yet.{" "}
              <Button variant="link" isInline onClick={() => resume(r)} data-testid="resume-import">
                Resume
              </Button>
            </div>
          ))}
        </Alert>
      )}
      <Form onSubmit={(e) => e.preventDefault()} style={{ maxWidth: 760 }}>
        <FolderPicker id="import-folder" label="Folder with the archive parts" value={folder} onChange={(v) => { setFolder(v); setReport(null); }} />
        <ActionGroup>
          <Button variant="secondary" onClick={() => check()} isDisabled={!folder || checking} data-testid="verify-media">
            Check media
          </Button>
          <Button variant="link" onClick={() => check(folder, true)} isDisabled={!folder || checking} data-testid="verify-media-full">
            Verify every byte (reads the whole media; the import checks it anyway)
          </Button>
        </ActionGroup>
      </Form>
      <ErrorAlert
        error={error}
        actions={[
          { label: "Check again", onClick: () => void check() },
          { label: "Pick another folder", onClick: pickAnother },
        ]}
      />
      {report && (
        <div data-testid="media-report" style={{ marginTop: "1rem" }}>
          {report.problems.length > 0 ? (
            <Alert variant="danger" isInline title="The media is not complete" data-testid="media-problems"
              actionLinks={
                <>
                  <Button variant="link" isInline onClick={() => void check(folder, full)} data-testid="check-again">
                    Check again (after copying the part into {folder})
                  </Button>
                  <Button variant="link" isInline onClick={pickAnother} data-testid="pick-another">
                    Pick the folder that holds it
                  </Button>
                </>
              }>
              <List>
                {report.problems.map((p) => (
                  <ListItem key={p}>{p}</ListItem>
                ))}
              </List>
            </Alert>
          ) : (
            <Alert variant="success" isInline data-testid="media-ok"
              title={`${full ? "Media verified" : "Media complete"}: sequence ${report.sequence ?? "?"}, ${report.parts.length} part(s), ${report.images.length} image(s)${full ? "" : "; checksums are verified while pushing"}`} />
          )}
          <Table aria-label="Parts on the media" variant="compact">
            <Thead>
              <Tr>
                <Th>Part</Th>
                <Th>Size</Th>
                <Th>Present</Th>
                <Th>Checksum</Th>
              </Tr>
            </Thead>
            <Tbody>
              {report.parts.map((p) => (
                <Tr key={p.name}>
                  <Td className="ferry-mono">{p.name}</Td>
                  <Td>{formatBytes(p.bytes)}</Td>
                  <Td>{p.present ? "yes" : "missing"}</Td>
                  <Td>{p.checksumOk === null ? (p.present && !full ? "checked while importing" : "—") : p.checksumOk ? "ok" : "mismatch"}</Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
          <Title headingLevel="h3" style={{ marginTop: "1rem" }}>Images</Title>
          <List className="ferry-mono">
            {report.images.map((i) => (
              <ListItem key={i}>{i}</ListItem>
            ))}
          </List>
        </div>
      )}
      {ok && (
        <Form onSubmit={(e) => e.preventDefault()} style={{ maxWidth: 760, marginTop: "1rem" }}>
          <FormGroup label="Target registry (host[:port][/namespace])" fieldId="import-registry">
            <TextInput id="import-registry" value={registry} onChange={(_e, v) => { setRegistry(v); localStorage.setItem("ferry.targetRegistry", v); }} />
          </FormGroup>
          <ActionGroup>
            <Button variant="primary" isDisabled={!registry || job.running} data-testid="start-import"
              onClick={() => job.start((ch) => api.startDiskToMirror(folder, registry, ch))}>
              Push to registry
            </Button>
          </ActionGroup>
        </Form>
      )}
      <ErrorAlert
        error={job.error}
        actions={
          job.error?.code === "unauthorized" || job.error?.code === "tls"
            ? [{ label: "Open credentials", onClick: () => go("credentials") }]
            : job.error?.code === "archive" || job.error?.code === "sequence"
              ? [{ label: "Pick another folder", onClick: pickAnother }]
              : undefined
        }
      />
      <div style={{ marginTop: "1rem" }}>
        <JobProgressView job={job} onCancel={job.cancel} />
      </div>
      {job.summary && (
        <Alert variant={job.summary.failed.length ? "warning" : "success"} isInline data-testid="import-summary"
          title={`Import finished${job.summary.sequence !== null ? ` (sequence ${job.summary.sequence})` : ""}: ${job.summary.imagesCopied} pushed, ${job.summary.imagesUpToDate} already there, ${job.summary.failed.length} failed, ${formatBytes(job.summary.bytes)} sent`}
          actionLinks={job.summary.resultsDir ? <Button variant="link" isInline onClick={() => go("results")}>Open the results</Button> : undefined}
        />
      )}
    </PageSection>
  );
}
