// Typed calls of the release views (src-tauri/src/cmd_release.rs). Kept apart from ipc.ts so
// the release pickers, the upgrade-path graph and the signature table share one small module.
import { call } from "./ipc";
import type { ReleaseGraphRequest } from "../bindings/ReleaseGraphRequest";
import type { ReleaseGraphView } from "../bindings/ReleaseGraphView";
import type { ReleaseSignatureRow } from "../bindings/ReleaseSignatureRow";

export const releaseApi = {
  /** The channel's graph for one architecture, with the engine's selection on it. */
  graph: (index: number, request: ReleaseGraphRequest) => call<ReleaseGraphView>("release_graph", { index, request }),
  /** The channels carrying minor `version` (X.Y), as `ferry list releases --channels`. */
  channels: (okd: boolean, version: string, arch: string) => call<string[]>("release_channels", { okd, version, arch }),
  /** The releases of a results folder and their signature status, verified again. */
  signatures: (dir: string) => call<ReleaseSignatureRow[]>("release_signatures", { dir }),
};

export const ARCHITECTURES = ["amd64", "arm64", "ppc64le", "s390x", "multi"] as const;
