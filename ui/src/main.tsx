import "@patternfly/react-core/dist/styles/base.css";
import "./app.css";
import { createRoot } from "react-dom/client";
import { App } from "./App";

async function start() {
  // Mocked IPC only in the "mock" mode (Playwright and screenshots without the Rust shell).
  if (import.meta.env.MODE === "mock") {
    const { installMocks } = await import("./lib/mock");
    installMocks();
  }
  createRoot(document.getElementById("root")!).render(<App />);
}

void start();
