// The guided flow's state: which workflow the user picked, where they are, and what they typed.
// Kept in localStorage so that leaving the flow to fix something (the image-set editor, the
// credentials screen) or restarting the app keeps every entry.
import { useCallback, useEffect, useState } from "react";
import type { JobSummary } from "../../bindings/JobSummary";

export type Mode = "m2d" | "m2m" | "d2m";
export type StepId = "credentials" | "imageset" | "plan" | "destination" | "run" | "results";

export const MODES: { id: Mode; title: string; body: string }[] = [
  {
    id: "m2d",
    title: "Export to media",
    body: "On a connected machine: copy the images of an image set into archive parts on a folder or USB drive, to carry into the air gap.",
  },
  {
    id: "d2m",
    title: "Import in the air gap",
    body: "On the disconnected side: push the archive parts from the media into the mirror registry and get the oc apply commands.",
  },
  {
    id: "m2m",
    title: "Connected mirror",
    body: "The mirror registry is reachable from here: copy the images straight from the source registries into it.",
  },
];

export const STEP_TITLES: Record<StepId, string> = {
  credentials: "Credentials",
  imageset: "Image set",
  plan: "Plan",
  destination: "Destination",
  run: "Run",
  results: "Results",
};

export function stepsOf(mode: Mode): StepId[] {
  return mode === "d2m"
    ? ["credentials", "destination", "run", "results"]
    : ["credentials", "imageset", "plan", "destination", "run", "results"];
}

export type Guided = {
  mode: Mode | null;
  step: StepId;
  done: StepId[];
  folder: string;
  registry: string;
  summary: JobSummary | null;
};

const KEY = "ferry.guided";
const EMPTY: Guided = { mode: null, step: "credentials", done: [], folder: "", registry: "", summary: null };

function load(): Guided {
  try {
    return { ...EMPTY, ...(JSON.parse(localStorage.getItem(KEY) ?? "{}") as Partial<Guided>) };
  } catch {
    return EMPTY;
  }
}

export function useGuided() {
  const [g, setG] = useState<Guided>(load);
  useEffect(() => localStorage.setItem(KEY, JSON.stringify(g)), [g]);
  const update = useCallback((p: Partial<Guided>) => setG((old) => ({ ...old, ...p })), []);
  /** Marks the current step done and moves to the next one. */
  const next = useCallback(
    () =>
      setG((old) => {
        if (!old.mode) return old;
        const steps = stepsOf(old.mode);
        const i = steps.indexOf(old.step);
        const done = old.done.includes(old.step) ? old.done : [...old.done, old.step];
        return { ...old, done, step: steps[Math.min(i + 1, steps.length - 1)] };
      }),
    [],
  );
  const start = useCallback(
    (mode: Mode, keep?: Partial<Guided>) => setG((old) => ({ ...EMPTY, folder: old.folder, registry: old.registry, ...keep, mode })),
    [],
  );
  const restart = useCallback(() => setG((old) => ({ ...EMPTY, folder: old.folder, registry: old.registry })), []);
  return { g, update, next, start, restart };
}

export type GuidedApi = ReturnType<typeof useGuided>;
