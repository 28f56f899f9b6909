// History: past runs and sequences, grouped by storage backend.
import { Alert, Button, PageSection, Spinner, Title } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { api } from "../lib/ipc";
import { formatBytes } from "../lib/format";
import { ErrorAlert, useAsync } from "../components";
import type { HistoryEntry } from "../bindings/HistoryEntry";

const KIND = { mirrorToDisk: "Export", diskToMirror: "Import", mirrorToMirror: "Mirror" } as const;

export function HistoryScreen() {
  const { data, error, loading, reload } = useAsync(() => api.history(), []);
  const byBackend = new Map<string, HistoryEntry[]>();
  for (const e of data ?? []) byBackend.set(e.backend, [...(byBackend.get(e.backend) ?? []), e]);
  return (
    <PageSection>
      <Title headingLevel="h2">History</Title>
      <Button variant="secondary" onClick={reload}>Refresh</Button>
      {loading && <Spinner size="md" aria-label="Loading history" />}
      <ErrorAlert error={error} />
      {data && data.length === 0 && <Alert variant="info" isInline isPlain title="No runs yet." />}
      {[...byBackend.entries()].map(([backend, runs]) => (
        <div key={backend} style={{ marginTop: "1rem" }} data-testid="history-backend">
          <Title headingLevel="h3" className="ferry-mono">{backend}</Title>
          <Table aria-label={`Runs for ${backend}`} variant="compact">
            <Thead>
              <Tr>
                <Th>Started</Th>
                <Th>Kind</Th>
                <Th>Sequence</Th>
                <Th>Images</Th>
                <Th>Size</Th>
                <Th>Outcome</Th>
              </Tr>
            </Thead>
            <Tbody>
              {runs.map((r) => (
                <Tr key={r.id}>
                  <Td>{r.startedAt}</Td>
                  <Td>{KIND[r.kind]}</Td>
                  <Td>{r.sequence ?? "—"}</Td>
                  <Td>{r.images}</Td>
                  <Td>{formatBytes(r.bytes)}</Td>
                  <Td>{r.outcome}</Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        </div>
      ))}
    </PageSection>
  );
}
