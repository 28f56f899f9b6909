// Dry run: the images grouped by source kind, the blocked ones, the total size, the number of
// archive parts and whether it fits on the chosen destination.
import { useState } from "react";
import {
  ActionGroup,
  Alert,
  Button,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Form,
  PageSection,
  Spinner,
  Title,
} from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { api, FerryError, toFerryError } from "../lib/ipc";
import { formatBytes } from "../lib/format";
import { ErrorAlert, FolderPicker, Section } from "../components";
import { useAppState } from "../state";
import type { PlanSummary } from "../bindings/PlanSummary";
import { ReleasePlan } from "./release/ReleasePlan";
import { HelmPlan } from "./helm/HelmPlan";

const KIND_TITLES = { release: "Releases", operator: "Operators", helm: "Helm", additional: "Additional images" } as const;

export function PlanScreen() {
  const { yaml, go, filePath } = useAppState();
  const [dest, setDest] = useState("");
  const [plan, setPlan] = useState<PlanSummary | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FerryError | null>(null);

  const [helmRun, setHelmRun] = useState(0);
  const run = async () => {
    setHelmRun((n) => n + 1);
    setBusy(true);
    setError(null);
    try {
      setPlan(await api.planDryRun(yaml, dest.trim() || null, filePath));
    } catch (e) {
      setError(toFerryError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <PageSection>
      <Title headingLevel="h2">Plan (dry run)</Title>
      <Form onSubmit={(e) => e.preventDefault()} style={{ maxWidth: 720 }}>
        <FolderPicker id="plan-dest" label="Destination to check (optional)" value={dest} onChange={setDest} />
        <ActionGroup>
          <Button variant="primary" onClick={run} isDisabled={busy} data-testid="run-plan">
            Run dry run
          </Button>
          {busy && <Spinner size="md" aria-label="Planning" />}
        </ActionGroup>
      </Form>
      <ErrorAlert
        error={error}
        actions={error?.code === "invalid-config" ? [{ label: "Open the image set", onClick: () => go("imageset") }] : undefined}
      />
      {plan && (
        <div data-testid="plan-result" style={{ marginTop: "1rem" }}>
          <DescriptionList isHorizontal columnModifier={{ default: "2Col" }}>
            <DescriptionListGroup>
              <DescriptionListTerm>Images</DescriptionListTerm>
              <DescriptionListDescription>{plan.groups.reduce((n, g) => n + g.images.length, 0)}</DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>Total size</DescriptionListTerm>
              <DescriptionListDescription data-testid="plan-total">
                {plan.totalBytes > 0 ? formatBytes(plan.totalBytes) : "counted during the export"}
              </DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>Archive parts</DescriptionListTerm>
              <DescriptionListDescription data-testid="plan-parts">
                {plan.parts}
                {plan.archiveSizeBytes ? ` of up to ${formatBytes(plan.archiveSizeBytes)}` : " (no archiveSize: one part)"}
              </DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>Blocked</DescriptionListTerm>
              <DescriptionListDescription>{plan.blocked.length}</DescriptionListDescription>
            </DescriptionListGroup>
          </DescriptionList>
          {plan.destination && plan.fits === null && (
            <Alert
              style={{ marginTop: "1rem" }}
              isInline
              data-testid="plan-fits"
              variant="info"
              title={`${formatBytes(plan.destination.freeBytes)} free on ${plan.destination.path}`}
            >
              Image sizes are read during the export, which checks the room again before writing each part.
            </Alert>
          )}
          {plan.destination && plan.fits !== null && (
            <Alert
              style={{ marginTop: "1rem" }}
              isInline
              data-testid="plan-fits"
              variant={plan.fits ? "success" : "danger"}
              title={
                plan.fits
                  ? `Fits on ${plan.destination.path}: ${formatBytes(plan.destination.freeBytes)} free`
                  : `Does not fit on ${plan.destination.path}: needs ${formatBytes(plan.totalBytes)}, ${formatBytes(plan.destination.freeBytes)} free`
              }
            >
              {!plan.fits && "Pick another folder or drive, or set a smaller archiveSize and carry the parts on several media."}
            </Alert>
          )}
          <ReleasePlan releases={plan.releases ?? []} />
          {plan.groups.map((g) => (
            <Section key={g.kind} title={`${KIND_TITLES[g.kind]} (${g.images.length})`}>
              <Table aria-label={KIND_TITLES[g.kind]} variant="compact">
                <Thead>
                  <Tr>
                    <Th>Source</Th>
                    <Th>Destination</Th>
                    <Th>Size</Th>
                  </Tr>
                </Thead>
                <Tbody>
                  {g.images.map((i) => (
                    <Tr key={i.source + i.destination}>
                      <Td className="ferry-mono">{i.source}</Td>
                      <Td className="ferry-mono">{i.destination}</Td>
                      <Td>{i.bytes === null ? "—" : formatBytes(i.bytes)}</Td>
                    </Tr>
                  ))}
                </Tbody>
              </Table>
            </Section>
          ))}
          {plan.blocked.length > 0 && (
            <Section title={`Blocked (${plan.blocked.length})`}>
              <Table aria-label="Blocked images" variant="compact">
                <Thead>
                  <Tr>
                    <Th>Image</Th>
                    <Th>Matched pattern</Th>
                  </Tr>
                </Thead>
                <Tbody>
                  {plan.blocked.map((b) => (
                    <Tr key={b.image}>
                      <Td className="ferry-mono">{b.image}</Td>
                      <Td className="ferry-mono">{b.pattern}</Td>
                    </Tr>
                  ))}
                </Tbody>
              </Table>
            </Section>
          )}
        </div>
      )}
      <HelmPlan run={helmRun} />
    </PageSection>
  );
}
