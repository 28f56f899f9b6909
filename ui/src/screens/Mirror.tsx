// Mirror to mirror for connected sites: the current image set straight into a registry.
import { useState } from "react";
import { ActionGroup, Alert, Button, Form, FormGroup, PageSection, TextInput, Title } from "@patternfly/react-core";
import { api } from "../lib/ipc";
import { formatBytes, formatDuration } from "../lib/format";
import { ErrorAlert, JobProgressView, useJob } from "../components";
import { useAppState } from "../state";
import { PruneConfirm } from "./helm/PruneConfirm";

export function MirrorScreen() {
  const { yaml, go, setResultsDir, filePath } = useAppState();
  const [registry, setRegistry] = useState(() => localStorage.getItem("ferry.targetRegistry") ?? "");
  // The end-of-run notification comes from the shell (one per run).
  const job = useJob((s) => {
    if (s.resultsDir) setResultsDir(s.resultsDir);
  });
  return (
    <PageSection>
      <Title headingLevel="h2">Mirror to mirror</Title>
      <Form onSubmit={(e) => e.preventDefault()} style={{ maxWidth: 760 }}>
        <FormGroup label="Target registry (host[:port][/namespace])" fieldId="mirror-registry">
          <TextInput id="mirror-registry" value={registry} onChange={(_e, v) => { setRegistry(v); localStorage.setItem("ferry.targetRegistry", v); }} placeholder="mirror.example.com:5000/ocp" />
        </FormGroup>
        <ActionGroup>
          <Button variant="primary" isDisabled={!registry || job.running} data-testid="start-mirror"
            onClick={() => job.start((ch) => api.startMirrorToMirror(yaml, registry, ch, filePath))}>
            Mirror the image set
          </Button>
          <Button variant="link" onClick={() => go("plan")}>Dry run first</Button>
        </ActionGroup>
      </Form>
      <PruneConfirm yaml={yaml} registry={registry} filePath={filePath} job={job} />
      <ErrorAlert
        error={job.error}
        actions={
          job.error?.code === "unauthorized" || job.error?.code === "denied" || job.error?.code === "tls"
            ? [{ label: "Open credentials", onClick: () => go("credentials") }]
            : job.error?.code === "invalid-config"
              ? [{ label: "Fix the image set", onClick: () => go("imageset") }]
              : undefined
        }
      />
      <div style={{ marginTop: "1rem" }}>
        <JobProgressView job={job} onCancel={job.cancel} />
      </div>
      {job.summary && (
        <Alert variant={job.summary.failed.length ? "warning" : "success"} isInline data-testid="mirror-summary"
          title={`Mirror finished: ${job.summary.imagesCopied} copied, ${job.summary.imagesUpToDate} up to date, ${job.summary.failed.length} failed, ${formatBytes(job.summary.bytes)} in ${formatDuration(job.summary.elapsedSecs)}`}
          actionLinks={job.summary.resultsDir ? <Button variant="link" isInline onClick={() => go("results")}>Open the results</Button> : undefined}
        />
      )}
    </PageSection>
  );
}
