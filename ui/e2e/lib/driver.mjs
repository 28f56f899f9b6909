// The real-window test driver: a tiny W3C WebDriver client over fetch (no extra packages) for the
// built app under tauri-driver + WebKitWebDriver. desktop.mjs starts it; step modules under
// steps/ import the helpers from here. Sessions can be ended and started again (a step that
// kills or restarts the app calls endSession() then newSession()).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync, readdirSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import net from "node:net";
import path from "node:path";

export const env = {
  app: process.env.FERRY_APP,
  src: process.env.SRC_REGISTRY,
  dst: process.env.DST_REGISTRY,
  image: process.env.E2E_IMAGE ?? "e2e/app:1",
  work: process.env.WORK,
  shots: process.env.SCREENSHOTS,
};
for (const [k, v] of Object.entries({ FERRY_APP: env.app, SRC_REGISTRY: env.src, DST_REGISTRY: env.dst, WORK: env.work, SCREENSHOTS: env.shots })) {
  if (!v) throw new Error(`${k} is not set; run scripts/test-desktop-e2e.sh`);
}
mkdirSync(env.shots, { recursive: true });
// Failure shots of an earlier run must not linger next to the README's screenshots.
for (const f of readdirSync(env.shots)) if (f.startsWith("failure-")) rmSync(path.join(env.shots, f));

export { sleep };

export async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

let driver = null;
let base = null;
let sid = null;

/** Starts tauri-driver (once) and opens a new app session (launches the app). */
export async function newSession(extraCaps = {}) {
  if (!driver) {
    const port = await freePort();
    const nativePort = await freePort();
    driver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    base = `http://127.0.0.1:${port}`;
    // tauri-driver needs a moment to listen.
    for (let i = 0; ; i++) {
      try {
        await fetch(`${base}/status`);
        break;
      } catch {
        if (i > 100) throw new Error("tauri-driver did not start");
        await sleep(100);
      }
    }
  }
  const session = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: env.app, ...extraCaps }, browserName: "wry" } },
  });
  sid = session.sessionId;
  return sid;
}
/** Ends the app session (the app process exits). */
export async function endSession() {
  if (sid) await wd("DELETE", `/session/${sid}`).catch(() => {});
  sid = null;
}
export async function stopDriver() {
  await endSession();
  if (driver) driver.kill("SIGTERM");
  driver = null;
}

export async function wd(method, url, body) {
  const r = await fetch(base + url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`WebDriver ${method} ${url}: ${r.status} ${JSON.stringify(j.value ?? j).slice(0, 400)}`);
  return j.value;
}

export const S = (u) => `/session/${sid}${u}`;
const ELEM = "element-6066-11e4-a021-4f54c0e6b8a8";
// W3C says ELEM; older drivers answer {"ELEMENT": id}. Take whichever is there.
export const idOf = (v) => v?.[ELEM] ?? v?.ELEMENT ?? Object.values(v ?? {})[0];

export async function find(css, timeout = 15000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      const v = await wd("POST", S("/element"), { using: "css selector", value: css });
      const id = idOf(v);
      if (!id) throw new Error(`unexpected element answer ${JSON.stringify(v)}`);
      return id;
    } catch (e) {
      last = e;
      await sleep(150);
    }
  }
  throw new Error(`no element ${css} after ${timeout} ms (${last?.message})`);
}
export async function findByText(css, text, timeout = 15000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const els = await wd("POST", S("/elements"), { using: "css selector", value: css });
    for (const e of els) {
      const t = await wd("GET", S(`/element/${idOf(e)}/text`)).catch(() => "");
      if (t.includes(text)) return idOf(e);
    }
    await sleep(200);
  }
  throw new Error(`no ${css} containing "${text}" after ${timeout} ms`);
}
// WebKitWebDriver does not scroll PatternFly's inner page container to an element before acting
// on it ("element not interactable"): scroll it to the middle of the view first.
export async function reveal(el) {
  await wd("POST", S("/execute/sync"), { script: "arguments[0].scrollIntoView({block: 'center'})", args: [{ [ELEM]: el, ELEMENT: el }] }).catch(() => {});
  return el;
}
export const click = async (css) => wd("POST", S(`/element/${await reveal(await find(css))}/click`), {});
export const text = async (css) => wd("GET", S(`/element/${await find(css)}/text`));
export async function fill(css, value) {
  const el = await reveal(await find(css));
  try {
    await wd("POST", S(`/element/${el}/clear`), {});
  } catch (e) {
    if (!/not interactable/.test(e.message)) throw e;
    // WebKitWebDriver refuses some PatternFly inputs it cannot hit-test: set the value the way
    // React sees a typed one (the native setter, then an input event).
    await wd("POST", S("/execute/sync"), {
      script: "const w = document.querySelector(arguments[0]); const el = w.matches('input,textarea') ? w : w.querySelector('input,textarea'); Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), 'value').set.call(el, arguments[1]); el.dispatchEvent(new Event('input', { bubbles: true }));",
      args: [css, value],
    });
    return;
  }
  // Under load a controlled input can re-render its old value after clear, even after it read
  // empty once: select all and delete by keys until it is empty, type, and start over while
  // the field does not hold exactly the value (the typed text was appended to the old one).
  const value_ = () => wd("GET", S(`/element/${el}/property/value`)).catch(() => "");
  for (let attempt = 0; attempt < 4; attempt++) {
    for (let i = 0; i < 5; i++) {
      if (!(await value_())) break;
      await wd("POST", S(`/element/${el}/value`), { text: "\uE009a\uE009\uE003" });
      await sleep(100);
    }
    await wd("POST", S(`/element/${el}/value`), { text: value });
    await sleep(50);
    if ((await value_()) === value) return;
  }
}
// CodeMirror renders one .cm-line per line (only the visible ones; the image set is short).
export const YAML_TEXT = "return Array.from(document.querySelectorAll('.cm-line')).map((l) => l.textContent).join('\\n')";
export async function shot(name) {
  const png = await wd("GET", S("/screenshot"));
  writeFileSync(path.join(env.shots, `${name}.png`), Buffer.from(png, "base64"));
}
export async function nav(id) {
  await click(`[data-testid="nav-${id}"]`);
  await sleep(300);
}
/** Waits until one of the selectors is present; returns its index. */
export async function either(selectors, timeout = 120000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    for (let i = 0; i < selectors.length; i++) {
      const els = await wd("POST", S("/elements"), { using: "css selector", value: selectors[i] });
      if (els.length > 0) return i;
    }
    await sleep(300);
  }
  throw new Error(`none of ${selectors.join(", ")} appeared within ${timeout} ms`);
}

export const results = { steps: [], failed: 0, skipped: [] };
export async function step(name, fn) {
  const t0 = Date.now();
  try {
    const r = await fn();
    if (r === "skipped") {
      results.skipped.push(name);
      results.steps.push(`SKIP ${name}`);
    } else results.steps.push(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.failed++;
    results.steps.push(`FAIL ${name}: ${e.message}`);
    await shot(`failure-${name.replace(/\W+/g, "-")}`).catch(() => {});
  }
}

/** When a command is not in this build the UI says so with code "unavailable": report a skip. */
export async function unavailable() {
  const els = await wd("POST", S("/elements"), { using: "css selector", value: '[data-code="unavailable"]' });
  return els.length > 0;
}

