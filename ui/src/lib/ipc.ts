// Typed calls into the Rust shell. Every command rejects with the wire error {code, message};
// `call` turns that into a FerryError so screens can branch on `code`.
import { Channel, invoke } from "@tauri-apps/api/core";
import type { DestinationInfo } from "../bindings/DestinationInfo";
import type { Diagnostic } from "../bindings/Diagnostic";
import type { PreflightReport } from "../bindings/PreflightReport";
import type { PreflightRequest } from "../bindings/PreflightRequest";
import type { EngineInfo } from "../bindings/EngineInfo";
import type { ErrorCode } from "../bindings/ErrorCode";
import type { FolderInfo } from "../bindings/FolderInfo";
import type { HistoryEntry } from "../bindings/HistoryEntry";
import type { JobEvent } from "../bindings/JobEvent";
import type { MediaReport } from "../bindings/MediaReport";
import type { PlanSummary } from "../bindings/PlanSummary";
import type { RegistryLogin } from "../bindings/RegistryLogin";
import type { ResultsView } from "../bindings/ResultsView";
import type { TrustSettings } from "../bindings/TrustSettings";
import type { WireError } from "../bindings/WireError";

export class FerryError extends Error {
  code: ErrorCode | "unavailable";
  constructor(code: ErrorCode | "unavailable", message: string) {
    super(message);
    this.code = code;
  }
}

function isWireError(e: unknown): e is WireError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

export function toFerryError(e: unknown): FerryError {
  if (e instanceof FerryError) return e;
  if (isWireError(e)) return new FerryError(e.code, e.message);
  const text = String(e);
  // Tauri answers an unregistered command with this text: the engine part is not built yet.
  if (/command .* not found/i.test(text)) {
    return new FerryError("unavailable", `This build of Ferry does not offer that action yet (${text}).`);
  }
  return new FerryError("internal", text);
}

export async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toFerryError(e);
  }
}

export type JobHandle = { jobId: string };

export const api = {
  engineVersion: () => call<EngineInfo>("engine_version"),
  // Image set
  imageSetTemplate: () => call<string>("image_set_template"),
  // configPath: the image-set file (null: unsaved). Relative paths in the set resolve against its
  // folder, and validation flags what a run of an unsaved set would refuse.
  validateImageSet: (yaml: string, configPath: string | null = null) =>
    call<Diagnostic[]>("validate_image_set", { yaml, configPath }),
  readTextFile: (path: string) => call<string>("read_text_file", { path }),
  writeTextFile: (path: string, content: string) => call<void>("write_text_file", { path, content }),
  // Folders and plan
  folderInfo: (path: string) => call<FolderInfo>("folder_info", { path }),
  planDryRun: (yaml: string, destination: string | null, configPath: string | null = null) =>
    call<PlanSummary>("plan_dry_run", { yaml, destination, configPath }),
  // Jobs
  startMirrorToDisk: (yaml: string, folder: string, onEvent: Channel<JobEvent>, configPath: string | null = null) =>
    call<JobHandle>("start_mirror_to_disk", { yaml, folder, configPath, onEvent }),
  resumeJob: (jobId: string, onEvent: Channel<JobEvent>) => call<JobHandle>("resume_job", { jobId, onEvent }),
  resumableJobs: () => call<HistoryEntry[]>("resumable_jobs"),
  cancelJob: (jobId: string) => call<void>("cancel_job", { jobId }),
  verifyMedia: (folder: string) => call<MediaReport>("verify_media", { folder }),
  // Parts present at their listed sizes, no data read (the import verifies as it streams).
  checkMedia: (folder: string) => call<MediaReport>("check_media", { folder }),
  startDiskToMirror: (folder: string, registry: string, onEvent: Channel<JobEvent>) =>
    call<JobHandle>("start_disk_to_mirror", { folder, registry, onEvent }),
  startMirrorToMirror: (yaml: string, registry: string, onEvent: Channel<JobEvent>, configPath: string | null = null) =>
    call<JobHandle>("start_mirror_to_mirror", { yaml, registry, configPath, onEvent }),
  // Results and history
  loadResults: (dir: string) => call<ResultsView>("load_results", { dir }),
  history: () => call<HistoryEntry[]>("history"),
  // Credentials
  listLogins: () => call<RegistryLogin[]>("list_logins"),
  importPullSecret: (json: string) => call<RegistryLogin[]>("import_pull_secret", { json }),
  addLogin: (registry: string, username: string, password: string) =>
    call<RegistryLogin>("add_login", { registry, username, password }),
  testLogin: (registry: string) => call<string>("test_login", { registry }),
  setTrust: (settings: TrustSettings) => call<void>("set_trust", { settings }),
  exportAuthFile: (path: string) => call<void>("export_auth_file", { path }),
  // Guided flow: the destination's file system, and every check before a run starts.
  destinationInfo: (path: string) => call<DestinationInfo>("destination_info", { path }),
  preflight: (request: PreflightRequest) => call<PreflightReport>("preflight", { request }),
};

export { Channel };
