// The channel's update graph as SVG: releases left to right in the engine's semver order,
// update edges as arcs above the axis, conditional edges (known risks) dashed with their risk
// names, and the engine's selection highlighted (with shortestPath, the path's edges too).
// Drawing only: which releases are selected is the engine's answer (ReleaseGraphView.selection).
import { useState } from "react";
import { Checkbox, ExpandableSection, List, ListItem } from "@patternfly/react-core";
import type { ReleaseGraphView } from "../../bindings/ReleaseGraphView";
import { plural } from "../../lib/plural";

const DX = 34;
const PAD = 24;
const AXIS = 190;
const HEIGHT = 270;

function arc(x1: number, x2: number): { d: string; apexX: number; apexY: number } {
  const h = Math.min(AXIS - 16, 14 + Math.abs(x2 - x1) * 0.3);
  const mx = (x1 + x2) / 2;
  // A quadratic curve peaks halfway to its control point.
  return { d: `M${x1},${AXIS} Q${mx},${AXIS - 2 * h} ${x2},${AXIS}`, apexX: mx, apexY: AXIS - h };
}

/** Which node indexes to draw: the selected range (plus one neighbour each side), or all. */
function windowOf(view: ReleaseGraphView, rangeOnly: boolean): [number, number] {
  const sel = view.selection?.releases ?? [];
  if (!rangeOnly || sel.length < 2) return [0, view.nodes.length - 1];
  const lo = Math.min(...sel);
  const hi = Math.max(...sel);
  return [Math.max(0, lo - 1), Math.min(view.nodes.length - 1, hi + 1)];
}

export function ReleaseGraph({ view }: { view: ReleaseGraphView }) {
  const [rangeOnly, setRangeOnly] = useState(true);
  const [lo, hi] = windowOf(view, rangeOnly);
  const x = (k: number) => PAD + (k - lo) * DX;
  const shown = (k: number) => k >= lo && k <= hi;
  const width = PAD * 2 + (hi - lo) * DX;
  const sel = view.selection;
  const selected = new Set(sel?.releases ?? []);
  // With shortestPath the selection is the path in order: consecutive pairs are its edges.
  const pathEdges = new Set<string>();
  if (sel?.shortestPath) {
    for (let k = 1; k < sel.releases.length; k++) pathEdges.add(`${sel.releases[k - 1]}-${sel.releases[k]}`);
  }
  const edges = view.edges.filter(([f, t]) => shown(f) && shown(t));
  const risky = view.conditional.map((c) => ({ ...c, edges: c.edges.filter(([f, t]) => shown(f) && shown(t)) }));
  const riskCount = view.conditional.reduce((s, c) => s + c.edges.length, 0);

  return (
    <div data-testid="release-graph" style={{ marginTop: ".5rem" }}>
      <Checkbox
        id="rel-graph-range"
        label="Draw only the selected range"
        isChecked={rangeOnly}
        onChange={(_e, v) => setRangeOnly(v)}
      />
      {/* The graph scrolls inside its box; the page never scrolls sideways: width 0 keeps the
          wide SVG out of the form column's intrinsic width, min-width 100% fills the column. */}
      <div style={{ overflowX: "auto", width: 0, minWidth: "100%", border: "1px solid var(--pf-t--global--border--color--default, #d2d2d2)" }}>
        <svg
          width={width}
          height={HEIGHT}
          viewBox={`0 0 ${width} ${HEIGHT}`}
          role="img"
          aria-label={`Update graph of ${view.channel} (${view.arch}): ${plural(view.nodes.length, "release")}, ${plural(view.edges.length, "edge")}, ${plural(riskCount, "conditional edge")}`}
        >
          <line x1={PAD} y1={AXIS} x2={width - PAD} y2={AXIS} stroke="#8a8d90" strokeWidth={1} />
          {edges.map(([f, t]) => {
            const onPath = pathEdges.has(`${f}-${t}`);
            if (onPath) return null;
            return <path key={`e${f}-${t}`} d={arc(x(f), x(t)).d} fill="none" stroke="#6a6e73" strokeOpacity={0.18} strokeWidth={1} />;
          })}
          {risky.map((c, g) => {
            const names = c.risks.map((r) => r.name).join(", ");
            // One label per risk group, at the highest arc (the least crowded place).
            const longest = c.edges.reduce<[number, number] | null>(
              (best, e) => (best === null || Math.abs(e[1] - e[0]) > Math.abs(best[1] - best[0]) ? e : best),
              null,
            );
            return (
              <g key={`c${g}`} className="risk-group" data-risks={names}>
                {c.edges.map(([f, t]) => (
                  <path
                    key={`c${g}-${f}-${t}`}
                    className="risk-edge"
                    d={arc(x(f), x(t)).d}
                    fill="none"
                    stroke="#c46100"
                    strokeOpacity={0.55}
                    strokeDasharray="5 4"
                    strokeWidth={1.2}
                  >
                    <title>{`${view.nodes[f].version} → ${view.nodes[t].version}: conditional (${names})`}</title>
                  </path>
                ))}
                {longest && (
                  <text
                    x={arc(x(longest[0]), x(longest[1])).apexX}
                    y={arc(x(longest[0]), x(longest[1])).apexY - 3}
                    fontSize={9}
                    fill="#8f4700"
                    textAnchor="middle"
                  >
                    {names}
                  </text>
                )}
              </g>
            );
          })}
          {[...pathEdges].map((key) => {
            const [f, t] = key.split("-").map(Number);
            if (!shown(f) || !shown(t)) return null;
            return (
              <path
                key={`p${key}`}
                className="path-edge"
                data-from={view.nodes[f].version}
                data-to={view.nodes[t].version}
                d={arc(x(f), x(t)).d}
                fill="none"
                stroke="#0066cc"
                strokeWidth={3}
              />
            );
          })}
          {view.nodes.map((node, k) =>
            shown(k) ? (
              <g
                key={node.version}
                className="graph-node"
                data-version={node.version}
                data-selected={selected.has(k) ? "true" : "false"}
                transform={`translate(${x(k)},${AXIS})`}
              >
                <title>{node.payload}</title>
                <circle r={selected.has(k) ? 6 : 4} fill={selected.has(k) ? "#0066cc" : "#ffffff"} stroke="#151515" strokeWidth={1} />
                <text
                  transform="rotate(-60) translate(-10,4)"
                  fontSize={10}
                  textAnchor="end"
                  fontWeight={selected.has(k) ? 700 : 400}
                >
                  {node.version}
                </text>
              </g>
            ) : null,
          )}
        </svg>
      </div>
      <div style={{ fontSize: "small", marginTop: ".25rem" }}>
        {plural(view.nodes.length, "release")}, {plural(view.edges.length, "update edge")}, {plural(riskCount, "conditional edge")} in {view.channel} ({view.arch}).
        Blue: selected by the engine{sel?.shortestPath ? " (thick: the upgrade path)" : ""}. Dashed orange: conditional
        edges with known risks, not followed unless asked.
      </div>
      {view.conditional.length > 0 && (
        <ExpandableSection toggleText={`Risks on the conditional edges (${view.conditional.length} groups)`} isIndented>
        <List data-testid="release-risks" style={{ fontSize: "small" }}>
          {view.conditional.map((c, g) =>
            c.risks.map((r) => (
              <ListItem key={`${g}-${r.name}`}>
                <a href={r.url} target="_blank" rel="noreferrer">
                  {r.name}
                </a>{" "}
                ({c.edges.length} edge{c.edges.length === 1 ? "" : "s"}, e.g. {view.nodes[c.edges[0]?.[0]]?.version} →{" "}
                {view.nodes[c.edges[0]?.[1]]?.version}): {r.message}
              </ListItem>
            )),
          )}
        </List>
        </ExpandableSection>
      )}
    </div>
  );
}
