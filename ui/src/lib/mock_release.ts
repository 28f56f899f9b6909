// Mocked release commands for component tests only (the real ones are in src-tauri/src/
// cmd_release.rs over ferry-release). A five-release channel with one risk; the "selection"
// here is scripted so the components can be exercised, it is not the engine's algorithm.
import type { ReleaseGraphRequest } from "../bindings/ReleaseGraphRequest";
import type { ReleaseGraphView } from "../bindings/ReleaseGraphView";
import type { ReleaseSignatureRow } from "../bindings/ReleaseSignatureRow";
import type { PlanRelease } from "../bindings/PlanRelease";

export const MOCK_VERSIONS = ["4.12.9", "4.13.0", "4.13.1", "4.13.2", "4.13.3"];
const EDGES: [number, number][] = [
  [0, 1],
  [1, 2],
  [2, 3],
  [3, 4],
  [1, 3],
];

function fail(code: string, message: string): never {
  throw { code, message };
}

export function mockGraph(index: number, r: ReleaseGraphRequest): ReleaseGraphView {
  if (r.channel !== "stable-4.13") {
    fail("not-found", `channel ${r.channel} for architecture ${r.arch} not found: the update service lists no releases there`);
  }
  const nodes = MOCK_VERSIONS.map((version, i) => ({ version, payload: `quay.io/openshift-release-dev/ocp-release@sha256:${String(i).repeat(64)}` }));
  const minI = r.minVersion ? MOCK_VERSIONS.indexOf(r.minVersion) : r.full || r.maxVersion ? 0 : 4;
  const maxI = r.maxVersion ? MOCK_VERSIONS.indexOf(r.maxVersion) : 4;
  let selection: ReleaseGraphView["selection"] = null;
  let selectionError: string | null = null;
  if (minI < 0 || maxI < 0 || minI > maxI) {
    selectionError = `mirror.platform.channels[${index}]: minVersion/maxVersion not a valid pair in ${r.channel}`;
  } else {
    const releases = r.shortestPath
      ? minI === 1 && maxI === 4
        ? [1, 3, 4]
        : Array.from({ length: maxI - minI + 1 }, (_, k) => minI + k)
      : Array.from({ length: maxI - minI + 1 }, (_, k) => minI + k);
    selection = {
      min: MOCK_VERSIONS[minI],
      max: MOCK_VERSIONS[maxI],
      headsOnly: !r.full && !r.minVersion && !r.maxVersion,
      shortestPath: r.shortestPath,
      releases,
      notes: [],
    };
  }
  return {
    channel: r.channel,
    arch: r.arch,
    upstream: "https://api.openshift.com/api/upgrades_info/v1/graph",
    nodes,
    edges: EDGES,
    conditional: [
      { edges: [[2, 4]], risks: [{ name: "MockRisk", url: "https://issues.example/RISK-1", message: "a known issue" }] },
    ],
    selection,
    selectionError,
  };
}

export function mockPlanReleases(channels: unknown): PlanRelease[] {
  if (!Array.isArray(channels) || channels.length === 0) return [];
  return [
    {
      version: "4.13.3",
      arch: "amd64",
      channel: "stable-4.13",
      source: `quay.io/openshift-release-dev/ocp-release@sha256:${"4".repeat(64)}`,
      destination: "openshift/release-images:4.13.3-x86_64",
      components: 183,
      multi: false,
      bytes: 13 * 1024 ** 3,
      signature: { state: "verified", key: "567E347AD0044ADE55BA8A5F199E2F91FD431D51", identity: "quay.io/openshift-release-dev/ocp-release:4.13.3-x86_64", detail: null },
    },
  ];
}

export const MOCK_SIGNATURES: ReleaseSignatureRow[] = [
  {
    image: "mirror.example:5000/openshift/release-images:4.13.3-x86_64",
    digest: `sha256:${"4".repeat(64)}`,
    file: "release-signatures/signature-sha256-4444444444444444.json",
    signature: { state: "verified", key: "567E347AD0044ADE55BA8A5F199E2F91FD431D51", identity: "quay.io/openshift-release-dev/ocp-release:4.13.3-x86_64", detail: null },
  },
];

/** Answers the release commands; `undefined` for any other command. */
export function releaseMock(cmd: string, a: Record<string, unknown>): unknown {
  switch (cmd) {
    case "release_graph":
      return mockGraph(Number(a.index), a.request as ReleaseGraphRequest);
    case "release_channels":
      return ["candidate-4.13", "eus-4.14", "fast-4.13", "stable-4.13"];
    case "release_signatures":
      return MOCK_SIGNATURES;
    default:
      return undefined;
  }
}
