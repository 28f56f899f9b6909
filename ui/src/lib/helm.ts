// Helm charts and pruning in the app: typed calls (src-tauri/src/cmd_helm.rs) and the edits the
// chart section and the Plan's "Remove" make to the image-set YAML (through the same Document
// API as the form, so the user's formatting elsewhere is kept).
import { isSeq } from "yaml";
import { Channel, call, type JobHandle } from "./ipc";
import { parse, type Path } from "./imageset";
import type { ChartPlanView } from "../bindings/ChartPlanView";
import type { HelmLocalChart } from "../bindings/HelmLocalChart";
import type { HelmRepoIndex } from "../bindings/HelmRepoIndex";
import type { JobEvent } from "../bindings/JobEvent";
import type { PrunePreview } from "../bindings/PrunePreview";

export const helmApi = {
  /** The repository's charts and versions (its index.yaml), read with the CLI's trust and logins. */
  repositoryIndex: (url: string) => call<HelmRepoIndex>("helm_repository_index", { url }),
  /** Name and version of a chart .tgz or folder. */
  localChart: (path: string) => call<HelmLocalChart>("helm_local_chart", { path }),
  /** Per chart of the image set, its images with provenance and flags. */
  chartPlan: (yaml: string, configPath: string | null) => call<ChartPlanView[]>("helm_chart_plan", { yaml, configPath }),
  /** What a mirror into `registry` would prune (a dry run: nothing deleted). */
  prunePreview: (yaml: string, registry: string, configPath: string | null) =>
    call<PrunePreview>("prune_preview", { yaml, registry, configPath }),
  /** Mirror and delete the pruning plan's images: only after the confirmation dialog. */
  startMirrorPruning: (yaml: string, registry: string, configPath: string | null, onEvent: Channel<JobEvent>) =>
    call<JobHandle>("start_mirror_to_mirror_pruning", { yaml, registry, configPath, onEvent }),
};

const REPOS: Path = ["mirror", "helm", "repositories"];
const LOCAL: Path = ["mirror", "helm", "local"];
const BLOCKED: Path = ["mirror", "blockedImages"];

type Item = Record<string, unknown>;

function items(text: string, path: Path): Item[] {
  const js = parse(text).doc.toJS() as unknown;
  let cur: unknown = js;
  for (const k of path) cur = cur && typeof cur === "object" ? (cur as Record<string, unknown>)[k as string] : undefined;
  return Array.isArray(cur) ? (cur as Item[]) : [];
}

/** A repository name helm would accept, from its URL (`https://charts.example.com/stable` → `charts-example-com-stable`). */
export function repoNameFor(url: string): string {
  return url
    .replace(/^[a-z]+:\/\//i, "")
    .replace(/[:/.]+/g, "-")
    .replace(/[^A-Za-z0-9-]/g, "")
    .replace(/^-+|-+$/g, "")
    .toLowerCase();
}

/** Adds (or updates the version of) `chart` under the repository with `url`, creating it when absent. */
export function addRepoChart(text: string, url: string, chart: string, version: string): string {
  const { doc } = parse(text);
  const repos = items(text, REPOS);
  const ri = repos.findIndex((r) => String(r.url ?? "").replace(/\/+$/, "") === url.replace(/\/+$/, ""));
  const entry = version ? { name: chart, version } : { name: chart };
  if (ri < 0) {
    const repo = { name: repoNameFor(url), url, charts: [entry] };
    const node = doc.getIn(REPOS, true);
    // setIn creates the missing `mirror` and `helm` maps.
    if (isSeq(node)) node.add(doc.createNode(repo));
    else doc.setIn(REPOS, doc.createNode([repo]));
    return doc.toString();
  }
  const charts = (repos[ri]?.charts as Item[] | undefined) ?? [];
  const ci = charts.findIndex((c) => c.name === chart);
  const chartsPath = [...REPOS, ri, "charts"];
  if (ci >= 0) {
    if (version) doc.setIn([...chartsPath, ci, "version"], version);
    else if (doc.hasIn([...chartsPath, ci, "version"])) doc.deleteIn([...chartsPath, ci, "version"]);
  } else {
    const node = doc.getIn(chartsPath, true);
    if (isSeq(node)) node.add(doc.createNode(entry));
    else doc.setIn(chartsPath, doc.createNode([entry]));
  }
  return doc.toString();
}

/** Adds a local chart (`mirror.helm.local[]`), or updates the path of the one with that name. */
export function addLocalChart(text: string, name: string, path: string): string {
  const { doc } = parse(text);
  const local = items(text, LOCAL);
  const i = local.findIndex((c) => c.name === name);
  if (i >= 0) {
    doc.setIn([...LOCAL, i, "path"], path);
    return doc.toString();
  }
  const node = doc.getIn(LOCAL, true);
  if (isSeq(node)) node.add(doc.createNode({ name, path }));
  else doc.setIn(LOCAL, doc.createNode([{ name, path }]));
  return doc.toString();
}

/** The patterns in `mirror.blockedImages`. */
export function blockedPatterns(text: string): string[] {
  return items(text, BLOCKED).map((b) => String(b.name ?? ""));
}

/** Removes one image from every run: its exact pattern goes into `mirror.blockedImages`. */
export function blockImage(text: string, pattern: string): string {
  if (blockedPatterns(text).includes(pattern)) return text;
  const { doc } = parse(text);
  const node = doc.getIn(BLOCKED, true);
  if (isSeq(node)) node.add(doc.createNode({ name: pattern }));
  else doc.setIn(BLOCKED, doc.createNode([{ name: pattern }]));
  return doc.toString();
}

/** Undoes [`blockImage`]. */
export function unblockImage(text: string, pattern: string): string {
  const i = blockedPatterns(text).indexOf(pattern);
  if (i < 0) return text;
  const { doc } = parse(text);
  doc.deleteIn([...BLOCKED, i]);
  const node = doc.getIn(BLOCKED, true);
  if (isSeq(node) && node.items.length === 0) doc.deleteIn(BLOCKED);
  return doc.toString();
}
