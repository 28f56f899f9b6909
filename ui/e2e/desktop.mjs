// End-to-end test of the real desktop app: the built binary driven through tauri-driver and
// WebKitWebDriver (run it under `xvfb-run -a dbus-run-session`; scripts/test-desktop-e2e.sh does
// that and starts the real registries).
//
// Environment: FERRY_APP (binary), SRC_REGISTRY and DST_REGISTRY (host:port of two local
// docker-registry instances, the source seeded with E2E_IMAGE), WORK (a scratch folder),
// SCREENSHOTS (where to save one PNG per screen).
//
// Steps live in steps/*.mjs, run in file-name order in one app session (a module may restart the
// app with endSession()/newSession()); each default-exports an async function that calls step().
// FERRY_E2E_ONLY=<substring> runs only the modules whose file name contains it (for local work).
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { newSession, stopDriver, results } from "./lib/driver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.env.FERRY_E2E_ONLY;
const modules = readdirSync(path.join(here, "steps"))
  .filter((f) => f.endsWith(".mjs"))
  .filter((f) => !only || f.includes(only) || f.startsWith("10-"))
  .sort();

try {
  await newSession();
  for (const m of modules) {
    const mod = await import(path.join(here, "steps", m));
    await mod.default();
  }
} catch (e) {
  results.failed++;
  results.steps.push(`FAIL setup: ${e.message}`);
} finally {
  await stopDriver();
}

for (const s of results.steps) console.log(s);
console.log(`${results.steps.length - results.failed - results.skipped.length} passed, ${results.skipped.length} skipped (engine command not in this build), ${results.failed} failed`);
process.exit(results.failed ? 1 : 0);
