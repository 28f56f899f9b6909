// Mocked IPC for UI tests and `npm run dev:mock` only (never bundled into the app's normal
// build path: main.tsx imports this module dynamically when the mode is "mock").
// It plays the shell's contract with scripted answers, including the failure cases each screen
// must recover from: a wrong login, a full destination, media with a missing part.
import { mockIPC } from "@tauri-apps/api/mocks";
import type { Channel } from "@tauri-apps/api/core";
import type { JobEvent } from "../bindings/JobEvent";
import type { PlanSummary } from "../bindings/PlanSummary";
import type { ResultsView } from "../bindings/ResultsView";
import type { MediaReport } from "../bindings/MediaReport";
import type { HistoryEntry } from "../bindings/HistoryEntry";
import type { RegistryLogin } from "../bindings/RegistryLogin";
import { parse } from "./imageset";
import { mockPlanReleases, releaseMock } from "./mock_release";

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

export const FULL_FOLDER = "/media/full-usb";
export const BROKEN_MEDIA = "/media/broken";

type Args = Record<string, unknown>;

function fail(code: string, message: string): never {
  throw { code, message };
}

function planFor(yaml: string, destination: string | null): PlanSummary {
  const { doc } = parse(yaml);
  const extra = (doc.toJS()?.mirror?.additionalImages ?? []) as { name: string }[];
  const images = extra.map((x, i) => ({
    source: x.name,
    destination: `file://${x.name.split("/").slice(1).join("/")}`,
    digest: `sha256:${(i + 1).toString(16).padStart(64, "a")}`,
    bytes: 40 * MiB * (i + 1),
  }));
  const total = images.reduce((s, i) => s + (i.bytes ?? 0), 0);
  const archive = Number(doc.toJS()?.archiveSize ?? 0) * GiB || null;
  const full = destination === FULL_FOLDER;
  return {
    groups: [{ kind: "additional", images }],
    blocked: [{ image: "docker.io/library/busybox:latest", pattern: "busybox" }],
    totalBytes: total,
    archiveSizeBytes: archive,
    parts: archive ? Math.max(1, Math.ceil(total / archive)) : 1,
    destination: destination
      ? { path: destination, exists: true, writable: true, freeBytes: full ? 10 * MiB : 200 * GiB, totalBytes: 256 * GiB }
      : null,
    fits: destination ? !full : null,
    releases: mockPlanReleases(doc.toJS()?.mirror?.platform?.channels),
  };
}

const results: ResultsView = {
  dir: "/home/user/oc-mirror-workspace/results-1700000000",
  applyCommand:
    "oc apply -f /home/user/oc-mirror-workspace/results-1700000000/imageDigestMirrorSet.yaml -f /home/user/oc-mirror-workspace/results-1700000000/imageTagMirrorSet.yaml",
  applyFrom413:
    "oc apply -f /home/user/oc-mirror-workspace/results-1700000000/imageDigestMirrorSet.yaml -f /home/user/oc-mirror-workspace/results-1700000000/imageTagMirrorSet.yaml",
  applyBefore413: "oc apply -f /home/user/oc-mirror-workspace/results-1700000000/imageContentSourcePolicy.yaml",
  files: [
    {
      kind: "mapping",
      name: "mapping.txt",
      path: "/home/user/oc-mirror-workspace/results-1700000000/mapping.txt",
      content:
        "registry.access.redhat.com/ubi9/ubi-minimal@sha256:aaaa=mirror.example:5000/ubi9/ubi-minimal:latest\n",
    },
    {
      kind: "icsp",
      name: "imageContentSourcePolicy.yaml",
      path: "/home/user/oc-mirror-workspace/results-1700000000/imageContentSourcePolicy.yaml",
      content:
        "apiVersion: operator.openshift.io/v1alpha1\nkind: ImageContentSourcePolicy\nmetadata:\n  name: generic-0\nspec:\n  repositoryDigestMirrors:\n  - mirrors:\n    - mirror.example:5000/ubi9\n    source: registry.access.redhat.com/ubi9\n",
    },
    {
      kind: "idms",
      name: "idms-oc-mirror.yaml",
      path: "/home/user/oc-mirror-workspace/results-1700000000/idms-oc-mirror.yaml",
      content:
        "apiVersion: config.openshift.io/v1\nkind: ImageDigestMirrorSet\nmetadata:\n  name: generic-0\nspec:\n  imageDigestMirrors:\n  - mirrors:\n    - mirror.example:5000/ubi9\n    source: registry.access.redhat.com/ubi9\n",
    },
  ],
};

const history: HistoryEntry[] = [
  {
    id: "run-1",
    kind: "mirrorToDisk",
    backend: "/home/user/metadata",
    sequence: 1,
    startedAt: "2026-11-20T10:00:00Z",
    images: 12,
    bytes: 3 * GiB,
    outcome: "succeeded",
  },
  {
    id: "run-2",
    kind: "diskToMirror",
    backend: "mirror.example:5000/oc-mirror-metadata",
    sequence: 1,
    startedAt: "2026-11-21T09:30:00Z",
    images: 12,
    bytes: 3 * GiB,
    outcome: "succeeded",
  },
];

function runJob(kind: "mirrorToDisk" | "diskToMirror" | "mirrorToMirror", ch: Channel<JobEvent>, jobs: Map<string, boolean>) {
  const jobId = `job-${jobs.size + 1}`;
  jobs.set(jobId, false);
  const total = 120 * MiB;
  let done = 0;
  const step = () => {
    if (jobs.get(jobId)) {
      ch.onmessage({ event: "failed", data: { code: "cancelled", message: "cancelled by the user; start again to resume" } });
      return;
    }
    done = Math.min(total, done + 30 * MiB);
    ch.onmessage({
      event: "progress",
      data: {
        jobId,
        bytesDone: done,
        bytesTotal: total,
        bytesPerSec: 60 * MiB,
        etaSecs: Math.ceil((total - done) / (60 * MiB)),
        imagesDone: done === total ? 1 : 0,
        imagesTotal: 1,
        images: [
          {
            image: "registry.access.redhat.com/ubi9/ubi-minimal:latest",
            state: done === total ? "done" : "copying",
            bytesDone: done,
            bytesTotal: total,
            message: null,
          },
        ],
        // An export's part grows (no total); an import reads parts of known size.
        parts:
          kind === "mirrorToDisk"
            ? [{ name: "mirror_seq1_000000.tar", bytesDone: done, bytesTotal: null, done: done === total }]
            : kind === "diskToMirror"
              ? [{ name: "mirror_seq1_000000.tar", bytesDone: done, bytesTotal: total, done: done === total }]
              : [],
      },
    });
    if (done < total) {
      setTimeout(step, 120);
    } else {
      ch.onmessage({
        event: "finished",
        data: {
          jobId,
          kind,
          sequence: kind === "mirrorToMirror" ? null : 1,
          imagesCopied: 1,
          imagesUpToDate: 0,
          failed: [],
          bytes: total,
          elapsedSecs: 2,
          parts:
            kind === "mirrorToDisk"
              ? [{ name: "mirror_seq1_000000.tar", bytes: total, sha256: "3f".repeat(32) }]
              : [],
          resultsDir: kind === "mirrorToDisk" ? null : results.dir,
        },
      });
    }
  };
  setTimeout(step, 50);
  return { jobId };
}

export function installMocks() {
  const logins: RegistryLogin[] = [{ registry: "quay.io", username: "ferry-bot", source: "pull secret" }];
  const jobs = new Map<string, boolean>();
  mockIPC((cmd: string, args?: unknown) => {
    const a = (args ?? {}) as Args;
    switch (cmd) {
      case "engine_version":
        return { version: "0.1.0-mock" };
      case "image_set_template":
        return "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\narchiveSize: 4\nstorageConfig:\n  local:\n    path: ./metadata\nmirror:\n  platform:\n    channels:\n      - name: stable-4.14\n        type: ocp\n  additionalImages:\n    - name: registry.access.redhat.com/ubi9/ubi-minimal:latest\n";
      case "validate_image_set": {
        const yaml = String(a.yaml);
        const { problems } = parse(yaml);
        if (problems.length > 0) {
          return problems.map((p) => ({ path: "", line: p.line, column: p.column, message: p.message, severity: "error" }));
        }
        const lines = yaml.split("\n");
        const idx = lines.findIndex((l) => /^\s*archiveSize:\s*-/.test(l));
        return idx >= 0
          ? [{ path: "archiveSize", line: idx + 1, column: lines[idx].indexOf("-") + 1, message: "archiveSize must be a positive number of GiB", severity: "error" }]
          : [];
      }
      case "read_text_file":
        return "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  additionalImages:\n    - name: quay.io/opened/from-file:1\n";
      case "write_text_file":
        return null;
      case "folder_info": {
        const path = String(a.path);
        const full = path === FULL_FOLDER;
        return { path, exists: true, writable: true, freeBytes: full ? 10 * MiB : 200 * GiB, totalBytes: 256 * GiB };
      }
      case "plan_dry_run":
        return planFor(String(a.yaml), (a.destination as string | null) ?? null);
      case "start_mirror_to_disk":
        if (a.folder === FULL_FOLDER) {
          fail("no-space", `not enough free space at ${FULL_FOLDER}: need 125829120 bytes, 10485760 available`);
        }
        return runJob("mirrorToDisk", a.onEvent as Channel<JobEvent>, jobs);
      case "start_disk_to_mirror":
        return runJob("diskToMirror", a.onEvent as Channel<JobEvent>, jobs);
      case "start_mirror_to_mirror":
        return runJob("mirrorToMirror", a.onEvent as Channel<JobEvent>, jobs);
      case "resume_job":
        return runJob("mirrorToDisk", a.onEvent as Channel<JobEvent>, jobs);
      case "resumable_jobs":
        return [];
      case "cancel_job":
        jobs.set(String(a.jobId), true);
        return null;
      case "check_media":
      case "verify_media": {
        const folder = String(a.folder);
        const broken = folder === BROKEN_MEDIA;
        // The quick check reads no part data: its checksums are "checked while importing".
        const checked = cmd === "verify_media";
        const report: MediaReport = {
          folder,
          sequence: 1,
          parts: [
            { name: "mirror_seq1_000000.tar", bytes: 4 * GiB, present: true, checksumOk: checked ? true : null },
            { name: "mirror_seq1_000001.tar", bytes: 1 * GiB, present: !broken, checksumOk: broken || !checked ? null : true },
          ],
          images: ["registry.access.redhat.com/ubi9/ubi-minimal:latest"],
          problems: broken
            ? ["mirror_seq1_000001.tar is missing: copy it from the export media into this folder, or pick the folder that holds all parts"]
            : [],
        };
        return report;
      }
      case "load_results":
        return results;
      case "history":
        return history;
      case "list_logins":
        return logins;
      case "import_pull_secret": {
        let parsed: { auths?: Record<string, { auth?: string }> };
        try {
          parsed = JSON.parse(String(a.json));
        } catch (e) {
          fail("invalid-config", `the pull secret is not valid JSON (${String(e)}); paste the whole file from console.redhat.com`);
        }
        const added = Object.keys(parsed.auths ?? {}).map((registry) => ({ registry, username: "from-secret", source: "pull secret" }));
        logins.push(...added);
        return added;
      }
      case "add_login": {
        const l = { registry: String(a.registry), username: String(a.username), source: "keyring" };
        logins.push(l);
        return l;
      }
      case "test_login":
        if (String(a.registry).includes("bad")) {
          fail("unauthorized", `${a.registry}: authentication required or failed (credentials tried: keyring); check the user name and password`);
        }
        return `${a.registry}: login accepted`;
      case "set_trust":
      case "export_auth_file":
        return null;
      case "plugin:dialog|open":
        return "/media/usb-stick";
      case "plugin:dialog|save":
        return "/home/user/imageset.yaml";
      default: {
        const released = releaseMock(cmd, a);
        if (released !== undefined) return released;
        fail("internal", `mock: unknown command ${cmd}`);
      }
    }
  });
}
