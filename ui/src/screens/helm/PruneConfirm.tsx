// Mirror: what pruning would delete from the target, shown before anything is deleted. The
// engine computes the plan with a dry run (the target's recorded images that the image set no
// longer holds); the list shows repositories, digests and sizes read from the target. Deleting
// happens only through the confirmation dialog; "Mirror the image set" keeps them, as the
// CLI does without --prune (oc-mirror deleted by default and users lost images they wanted).
import { useState } from "react";
import { Alert, Button, Modal, ModalBody, ModalFooter, ModalHeader, Spinner } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { FerryError, toFerryError } from "../../lib/ipc";
import { formatBytes } from "../../lib/format";
import { helmApi } from "../../lib/helm";
import { ErrorAlert, type JobState } from "../../components";
import type { PrunePreview } from "../../bindings/PrunePreview";
import type { Channel } from "@tauri-apps/api/core";
import type { JobEvent } from "../../bindings/JobEvent";

type Props = {
  yaml: string;
  registry: string;
  filePath: string | null;
  job: JobState & { start: (launch: (ch: Channel<JobEvent>) => Promise<{ jobId: string }>) => Promise<void> };
};

export function PruneConfirm({ yaml, registry, filePath, job }: Props) {
  const [preview, setPreview] = useState<PrunePreview | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FerryError | null>(null);
  const [asking, setAsking] = useState(false);

  const check = async () => {
    setBusy(true);
    setError(null);
    setPreview(null);
    try {
      setPreview(await helmApi.prunePreview(yaml, registry, filePath));
    } catch (e) {
      setError(toFerryError(e));
    } finally {
      setBusy(false);
    }
  };
  const confirm = () => {
    setAsking(false);
    setPreview(null);
    void job.start((ch) => helmApi.startMirrorPruning(yaml, registry, filePath, ch));
  };
  const n = preview ? preview.images.length : 0;
  const unknown = preview ? preview.images.filter((i) => i.bytes === null).length : 0;

  return (
    <div style={{ marginTop: "1rem" }} data-testid="prune-section">
      <Button variant="secondary" onClick={check} isDisabled={!registry || busy || job.running} data-testid="prune-check">
        Check what pruning would delete
      </Button>
      {busy && <Spinner size="md" aria-label="Planning the pruning" />}
      <ErrorAlert error={error} onClose={() => setError(null)} />
      {preview && n === 0 && (
        <Alert variant="success" isInline isPlain data-testid="prune-nothing"
          title={preview.note ?? `Nothing to prune: ${preview.registry} holds no recorded image that the image set dropped`} />
      )}
      {preview && n > 0 && (
        <div data-testid="prune-plan" style={{ marginTop: ".5rem" }}>
          <Alert variant="warning" isInline
            title={`${n} image${n > 1 ? "s" : ""} in ${preview.registry} ${n > 1 ? "are" : "is"} no longer in the image set (${formatBytes(preview.knownBytes)}${unknown ? `, ${unknown} of unknown size` : ""})`}>
            "Mirror the image set" keeps them. They are deleted only if you confirm below
            {preview.planFile ? ` (plan written to ${preview.planFile})` : ""}.
          </Alert>
          <PruneTable preview={preview} />
          <Button variant="danger" onClick={() => setAsking(true)} isDisabled={job.running} data-testid="prune-delete" style={{ marginTop: ".5rem" }}>
            Mirror and delete these images…
          </Button>
        </div>
      )}
      <Modal variant="medium" isOpen={asking} onClose={() => setAsking(false)} aria-labelledby="prune-confirm-title" data-testid="prune-confirm">
        <ModalHeader title={`Delete ${n} image${n > 1 ? "s" : ""} from ${preview?.registry ?? registry}?`} labelId="prune-confirm-title" titleIconVariant="warning" />
        <ModalBody>
          {preview && <PruneTable preview={preview} />}
          <p style={{ marginTop: ".5rem" }}>
            The image set is mirrored first; then these manifests{preview && preview.children.length > 0 ? ` and ${preview.children.length} child manifests` : ""} are
            deleted from the registry (DELETE, cannot be undone; the registry's garbage collector frees the layers). Nothing is
            deleted if any image of the run fails.
          </p>
        </ModalBody>
        <ModalFooter>
          <Button variant="primary" onClick={() => setAsking(false)} data-testid="prune-keep">
            Keep them
          </Button>
          <Button variant="danger" onClick={confirm} data-testid="prune-confirm-delete">
            Delete {n} image{n > 1 ? "s" : ""} and mirror
          </Button>
        </ModalFooter>
      </Modal>
    </div>
  );
}

function PruneTable({ preview }: { preview: PrunePreview }) {
  return (
    <Table aria-label="Images pruning would delete" variant="compact">
      <Thead>
        <Tr>
          <Th>Repository</Th>
          <Th>Digest</Th>
          <Th>Size</Th>
        </Tr>
      </Thead>
      <Tbody>
        {preview.images.map((i) => (
          <Tr key={i.repository + i.digest} data-testid={`prune-item-${i.repository}`}>
            <Td className="ferry-mono">{i.repository}</Td>
            <Td className="ferry-mono">{i.digest.slice(0, 19)}…</Td>
            <Td>{i.bytes === null ? "unknown" : formatBytes(i.bytes)}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}
