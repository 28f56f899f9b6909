// The releases a results folder holds and their signature status: each release-signatures/
// ConfigMap verified again by the engine against the keyring a run uses.
import { useEffect, useState } from "react";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { Title } from "@patternfly/react-core";
import { ErrorAlert } from "../../components";
import { FerryError, toFerryError } from "../../lib/ipc";
import { releaseApi } from "../../lib/ipc_release";
import { SignatureLabel } from "./SignatureLabel";
import type { ReleaseSignatureRow } from "../../bindings/ReleaseSignatureRow";

export function ReleaseSignatures({ dir }: { dir: string }) {
  const [rows, setRows] = useState<ReleaseSignatureRow[] | null>(null);
  const [error, setError] = useState<FerryError | null>(null);
  useEffect(() => {
    let stale = false;
    releaseApi
      .signatures(dir)
      .then((r) => !stale && (setRows(r), setError(null)))
      .catch((e) => !stale && (setRows(null), setError(toFerryError(e))));
    return () => {
      stale = true;
    };
  }, [dir]);
  if (error) return <ErrorAlert error={error} onClose={() => setError(null)} />;
  if (!rows || rows.length === 0) return null;
  return (
    <div data-testid="results-releases" style={{ marginTop: "1rem" }}>
      <Title headingLevel="h3">Release signatures</Title>
      <Table aria-label="Release signatures" variant="compact">
        <Thead>
          <Tr>
            <Th>Release image</Th>
            <Th>Signature file</Th>
            <Th>Status</Th>
          </Tr>
        </Thead>
        <Tbody>
          {rows.map((r) => (
            <Tr key={r.image}>
              <Td className="ferry-mono">
                {r.image}
                <div style={{ fontSize: "small" }}>{r.digest}</div>
              </Td>
              <Td className="ferry-mono">{r.file ?? "—"}</Td>
              <Td>
                <SignatureLabel s={r.signature} />
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    </div>
  );
}
