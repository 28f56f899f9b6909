// Plan: the images each chart yields, with where each came from (values path, template line,
// annotation), hook and test images flagged, and a "Remove" per image. Removing writes the
// image's exact pattern into mirror.blockedImages: the removal is part of the image set (saved
// with it, shown in the YAML, honoured by every export and mirror, and recorded in the run's
// metadata with the mirror section), and "Restore" takes it out again.
import { useEffect, useState } from "react";
import { Alert, Button, Label, Spinner } from "@patternfly/react-core";
import { Table, Tbody, Td, Th, Thead, Tr } from "@patternfly/react-table";
import { FerryError, toFerryError } from "../../lib/ipc";
import { blockImage, blockedPatterns, helmApi, unblockImage } from "../../lib/helm";
import { parse } from "../../lib/imageset";
import { ErrorAlert, Section } from "../../components";
import { useAppState } from "../../state";
import type { ChartPlanView } from "../../bindings/ChartPlanView";

/** `run` changes each time the dry run is started: the charts are planned again with it. */
export function HelmPlan({ run }: { run: number }) {
  const { yaml, setYaml, filePath } = useAppState();
  const [charts, setCharts] = useState<ChartPlanView[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<FerryError | null>(null);
  const [changed, setChanged] = useState(false);

  useEffect(() => {
    if (run === 0) return;
    // No charts in the image set: nothing to ask the engine.
    const h = parse(yaml).doc.toJS()?.mirror?.helm;
    if (!h || ((h.repositories ?? []).length === 0 && (h.local ?? []).length === 0)) {
      setCharts([]);
      return;
    }
    let live = true;
    setBusy(true);
    setError(null);
    setChanged(false);
    helmApi
      .chartPlan(yaml, filePath)
      .then((c) => live && setCharts(c))
      .catch((e) => live && setError(toFerryError(e)))
      .finally(() => live && setBusy(false));
    return () => {
      live = false;
    };
    // Planned again only when the dry run runs, not on every edit of the YAML.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [run]);

  if (run === 0) return null;
  if (busy) return <Spinner size="md" aria-label="Reading the charts" />;
  if (error) return <ErrorAlert error={error} />;
  if (!charts || charts.length === 0) return null;
  const blocked = blockedPatterns(yaml);
  const toggle = (pattern: string, remove: boolean) => {
    setYaml(remove ? blockImage(yaml, pattern) : unblockImage(yaml, pattern));
    setChanged(true);
  };

  return (
    <div data-testid="helm-plan">
      {changed && (
        <Alert variant="info" isInline isPlain title="mirror.blockedImages changed: run the dry run again for the new totals" />
      )}
      {charts.map((c) => (
        <Section key={`${c.repository ?? "local"}/${c.name}`} title={`Chart ${c.name} ${c.version} (${c.images.filter((i) => !i.test).length} images)`}>
          <div style={{ marginBottom: ".5rem" }}>
            <Label isCompact>{c.repository ? `repository ${c.repository}` : "local chart"}</Label>{" "}
            <Label isCompact>{c.mode}</Label>
          </div>
          <Table aria-label={`Images of chart ${c.name}`} variant="compact" data-testid={`helm-plan-${c.name}`}>
            <Thead>
              <Tr>
                <Th>Image</Th>
                <Th>Found in</Th>
                <Th>Flags</Th>
                <Th screenReaderText="Remove or restore" />
              </Tr>
            </Thead>
            <Tbody>
              {c.images.map((i) => {
                const removed = blocked.includes(i.blockPattern);
                const otherBlock = !removed && i.blockedBy !== null;
                return (
                  <Tr key={i.image} data-testid={`helm-image-${i.image}`} data-removed={removed || otherBlock ? "yes" : "no"}>
                    <Td className="ferry-mono" style={removed || otherBlock || i.test ? { textDecoration: "line-through" } : undefined}>
                      {i.image}
                    </Td>
                    <Td>
                      {i.provenance.map((p) => (
                        <div key={p} className="ferry-mono">
                          {p}
                        </div>
                      ))}
                    </Td>
                    <Td>
                      {i.hook && !i.test && <Label color="orange" isCompact>hook (mirrored: install needs it)</Label>}
                      {i.test && <Label color="grey" isCompact>test (not mirrored)</Label>}
                      {otherBlock && <Label color="red" isCompact>blocked by {i.blockedBy}</Label>}
                      {removed && <Label color="red" isCompact>removed</Label>}
                    </Td>
                    <Td>
                      {!i.test && !otherBlock && (
                        <Button variant="link" isDanger={!removed} onClick={() => toggle(i.blockPattern, !removed)} data-testid={`helm-remove-${i.image}`}>
                          {removed ? "Restore" : "Remove"}
                        </Button>
                      )}
                    </Td>
                  </Tr>
                );
              })}
            </Tbody>
          </Table>
          {c.unresolved.length > 0 && (
            <Alert variant="warning" isInline title="Images the scan could not work out" style={{ marginTop: ".5rem" }}>
              {c.unresolved.map((u) => (
                <div key={u} className="ferry-mono">
                  {u}
                </div>
              ))}
              Set the values on the chart (valuesFiles / values), or add the image under Additional images.
            </Alert>
          )}
          {c.notes.map((n) => (
            <Alert key={n} variant="info" isInline isPlain title={n} />
          ))}
        </Section>
      ))}
    </div>
  );
}
