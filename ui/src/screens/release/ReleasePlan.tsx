// The dry run's releases: version, architecture, channel, components, size (measured from the
// manifests before anything downloads) and the signature status of each release.
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { formatBytes } from "../../lib/format";
import { Section } from "../../components";
import { SignatureLabel } from "./SignatureLabel";
import type { PlanRelease } from "../../bindings/PlanRelease";

export function ReleasePlan({ releases }: { releases: PlanRelease[] }) {
  if (releases.length === 0) return null;
  const total = releases.reduce((s, r) => s + (r.bytes ?? 0), 0);
  return (
    <Section title={`OpenShift releases (${releases.length})`}>
      <Table aria-label="Planned releases" variant="compact" data-testid="plan-releases">
        <Thead>
          <Tr>
            <Th>Release</Th>
            <Th>Channel</Th>
            <Th>Components</Th>
            <Th>Size</Th>
            <Th>Signature</Th>
          </Tr>
        </Thead>
        <Tbody>
          {releases.map((r) => (
            <Tr key={r.source} data-testid="plan-release" data-version={r.version}>
              <Td>
                <strong>
                  {r.version} ({r.arch}
                  {r.multi ? ", manifest list" : ""})
                </strong>
                <div className="ferry-mono" style={{ fontSize: "small" }}>
                  {r.source}
                </div>
                <div className="ferry-mono" style={{ fontSize: "small" }}>
                  → {r.destination}
                </div>
              </Td>
              <Td>{r.channel}</Td>
              <Td>{r.components}</Td>
              <Td data-testid="plan-release-size">{r.bytes === null ? "—" : formatBytes(r.bytes)}</Td>
              <Td>
                <SignatureLabel s={r.signature} />
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      <div style={{ fontSize: "small" }}>
        {formatBytes(total)} over all releases, blobs shared inside a release counted once (the total above counts blobs
        shared between releases once too).
      </div>
    </Section>
  );
}
