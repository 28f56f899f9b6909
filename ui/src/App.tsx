import { useEffect, useState } from "react";
import {
  Brand,
  Masthead,
  MastheadBrand,
  MastheadContent,
  MastheadMain,
  Nav,
  NavItem,
  NavList,
  Page,
  PageSidebar,
  PageSidebarBody,
  Switch,
  Toolbar,
  ToolbarContent,
  ToolbarItem,
  Content,
} from "@patternfly/react-core";
import { api } from "./lib/ipc";
import { AppStateProvider, useAppState, type ScreenId } from "./state";
import { CredentialsScreen } from "./screens/Credentials";
import { ImageSetScreen } from "./screens/ImageSet";
import { PlanScreen } from "./screens/Plan";
import { ExportScreen } from "./screens/Export";
import { ImportScreen } from "./screens/Import";
import { MirrorScreen } from "./screens/Mirror";
import { ResultsScreen } from "./screens/Results";
import { HistoryScreen } from "./screens/History";
import { GuidedScreen } from "./screens/guided/Guided";
import { Toasts } from "./components";

export const SCREENS: { id: ScreenId; title: string }[] = [
  { id: "start", title: "Start (guided)" },
  { id: "credentials", title: "Credentials" },
  { id: "imageset", title: "Image set" },
  { id: "plan", title: "Plan" },
  { id: "export", title: "Export to media" },
  { id: "import", title: "Import" },
  { id: "mirror", title: "Mirror to mirror" },
  { id: "results", title: "Results" },
  { id: "history", title: "History" },
];

function useTheme(): [boolean, (dark: boolean) => void] {
  const [dark, setDark] = useState<boolean>(() => {
    const saved = localStorage.getItem("ferry.theme");
    if (saved) return saved === "dark";
    return window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
  });
  useEffect(() => {
    document.documentElement.classList.toggle("pf-v6-theme-dark", dark);
    localStorage.setItem("ferry.theme", dark ? "dark" : "light");
  }, [dark]);
  return [dark, setDark];
}

function EngineVersion() {
  const [version, setVersion] = useState<string>("…");
  useEffect(() => {
    api
      .engineVersion()
      .then((i) => setVersion(i.version))
      .catch((e) => setVersion(`unavailable (${e.message})`));
  }, []);
  return <span data-testid="engine-version">Ferry engine {version}</span>;
}

function Shell() {
  const { screen, go } = useAppState();
  const [dark, setDark] = useTheme();
  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadBrand>
          <Brand src="/ferry.png" alt="" heights={{ default: "28px" }} />
          <Content component="h1" style={{ margin: "0 0 0 .5rem", fontSize: "1.25rem" }}>
            Ferry
          </Content>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight>
          <ToolbarContent>
            <ToolbarItem>
              <EngineVersion />
            </ToolbarItem>
            <ToolbarItem>
              <Switch id="theme" label="Dark theme" isChecked={dark} onChange={(_e, v) => setDark(v)} />
            </ToolbarItem>
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );
  const sidebar = (
    <PageSidebar>
      <PageSidebarBody>
        <Nav aria-label="Screens" onSelect={(_e, item) => go(item.itemId as ScreenId)}>
          <NavList>
            {SCREENS.map((s) => (
              <NavItem key={s.id} itemId={s.id} isActive={screen === s.id} component="button" data-testid={`nav-${s.id}`}>
                {s.title}
              </NavItem>
            ))}
          </NavList>
        </Nav>
      </PageSidebarBody>
    </PageSidebar>
  );
  return (
    <Page masthead={masthead} sidebar={sidebar} isManagedSidebar>
      <Toasts />
      {screen === "start" && <GuidedScreen />}
      {screen === "credentials" && <CredentialsScreen />}
      {screen === "imageset" && <ImageSetScreen />}
      {screen === "plan" && <PlanScreen />}
      {screen === "export" && <ExportScreen />}
      {screen === "import" && <ImportScreen />}
      {screen === "mirror" && <MirrorScreen />}
      {screen === "results" && <ResultsScreen />}
      {screen === "history" && <HistoryScreen />}
    </Page>
  );
}

export function App({ initial }: { initial?: ScreenId }) {
  return (
    <AppStateProvider initial={initial}>
      <Shell />
    </AppStateProvider>
  );
}
