// App-wide state shared by the screens: the image set being edited (as YAML text), the file it
// came from, and the last results folder. Kept small on purpose; each screen owns the rest.
import { createContext, useContext, useMemo, useState, type ReactNode } from "react";
import { STARTER } from "./lib/imageset";

export type ScreenId = "start" | "credentials" | "imageset" | "plan" | "export" | "import" | "mirror" | "results" | "history";

type AppState = {
  yaml: string;
  setYaml: (y: string) => void;
  filePath: string | null;
  setFilePath: (p: string | null) => void;
  resultsDir: string | null;
  setResultsDir: (d: string | null) => void;
  screen: ScreenId;
  go: (s: ScreenId) => void;
};

const Ctx = createContext<AppState | null>(null);

export function AppStateProvider({ children, initial = "start" }: { children: ReactNode; initial?: ScreenId }) {
  const [yaml, setYaml] = useState<string>(() => localStorage.getItem("ferry.draft") ?? STARTER);
  const [filePath, setFilePath] = useState<string | null>(null);
  const [resultsDir, setResultsDir] = useState<string | null>(null);
  const [screen, go] = useState<ScreenId>(initial);
  const value = useMemo(
    () => ({
      yaml,
      setYaml: (y: string) => {
        setYaml(y);
        // The draft survives a restart, so nothing typed is lost.
        localStorage.setItem("ferry.draft", y);
      },
      filePath,
      setFilePath,
      resultsDir,
      setResultsDir,
      screen,
      go,
    }),
    [yaml, filePath, resultsDir, screen],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useAppState(): AppState {
  const v = useContext(Ctx);
  if (!v) throw new Error("useAppState outside AppStateProvider");
  return v;
}

const RECENT_KEY = "ferry.recent";

export function recentFiles(): string[] {
  try {
    return JSON.parse(localStorage.getItem(RECENT_KEY) ?? "[]") as string[];
  } catch {
    return [];
  }
}

export function rememberFile(path: string) {
  const list = [path, ...recentFiles().filter((p) => p !== path)].slice(0, 8);
  localStorage.setItem(RECENT_KEY, JSON.stringify(list));
}
