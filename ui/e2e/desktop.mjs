// End-to-end test of the real desktop app: the built binary driven through tauri-driver and
// WebKitWebDriver (run it under `xvfb-run -a dbus-run-session`; scripts/test-desktop-e2e.sh does
// that and starts the real registries). A tiny W3C WebDriver client over fetch, no extra packages.
//
// Environment: FERRY_APP (binary), SRC_REGISTRY and DST_REGISTRY (host:port of two local
// docker-registry instances, the source seeded with E2E_IMAGE), WORK (a scratch folder),
// SCREENSHOTS (where to save one PNG per screen).
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import assert from "node:assert/strict";
import net from "node:net";
import path from "node:path";

const app = process.env.FERRY_APP;
const src = process.env.SRC_REGISTRY;
const dst = process.env.DST_REGISTRY;
const image = process.env.E2E_IMAGE ?? "e2e/app:1";
const work = process.env.WORK;
const shots = process.env.SCREENSHOTS;
for (const [k, v] of Object.entries({ FERRY_APP: app, SRC_REGISTRY: src, DST_REGISTRY: dst, WORK: work, SCREENSHOTS: shots })) {
  if (!v) throw new Error(`${k} is not set; run scripts/test-desktop-e2e.sh`);
}
mkdirSync(shots, { recursive: true });
// Failure shots of an earlier run must not linger next to the README's screenshots.
for (const f of readdirSync(shots)) if (f.startsWith("failure-")) rmSync(path.join(shots, f));

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const port = await freePort();
const nativePort = await freePort();
const driver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
  stdio: ["ignore", "inherit", "inherit"],
});
const base = `http://127.0.0.1:${port}`;

async function wd(method, url, body) {
  const r = await fetch(base + url, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(`WebDriver ${method} ${url}: ${r.status} ${JSON.stringify(j.value ?? j).slice(0, 400)}`);
  return j.value;
}

let sid = null;
const S = (u) => `/session/${sid}${u}`;
const ELEM = "element-6066-11e4-a021-4f54c0e6b8a8";
// W3C says ELEM; older drivers answer {"ELEMENT": id}. Take whichever is there.
const idOf = (v) => v?.[ELEM] ?? v?.ELEMENT ?? Object.values(v ?? {})[0];

async function find(css, timeout = 15000) {
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
async function findByText(css, text, timeout = 15000) {
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
const click = async (css) => wd("POST", S(`/element/${await find(css)}/click`), {});
const text = async (css) => wd("GET", S(`/element/${await find(css)}/text`));
async function fill(css, value) {
  const el = await find(css);
  await wd("POST", S(`/element/${el}/clear`), {});
  await wd("POST", S(`/element/${el}/value`), { text: value });
}
// CodeMirror renders one .cm-line per line (only the visible ones; the image set is short).
const YAML_TEXT = "return Array.from(document.querySelectorAll('.cm-line')).map((l) => l.textContent).join('\\n')";
async function shot(name) {
  const png = await wd("GET", S("/screenshot"));
  writeFileSync(path.join(shots, `${name}.png`), Buffer.from(png, "base64"));
}
async function nav(id) {
  await click(`[data-testid="nav-${id}"]`);
  await sleep(300);
}
/** Waits until one of the selectors is present; returns its index. */
async function either(selectors, timeout = 120000) {
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

const steps = [];
let failed = 0;
const skipped = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    const r = await fn();
    if (r === "skipped") {
      skipped.push(name);
      steps.push(`SKIP ${name}`);
    } else steps.push(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failed++;
    steps.push(`FAIL ${name}: ${e.message}`);
    await shot(`failure-${name.replace(/\W+/g, "-")}`).catch(() => {});
  }
}

/** When a command is not in this build the UI says so with code "unavailable": report a skip. */
async function unavailable() {
  const els = await wd("POST", S("/elements"), { using: "css selector", value: '[data-code="unavailable"]' });
  return els.length > 0;
}

try {
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
  const session = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "tauri:options": { application: app }, browserName: "wry" } },
  });
  sid = session.sessionId;

  await step("the window shows the engine version", async () => {
    const v = await findByText('[data-testid="engine-version"]', "Ferry engine 0.");
    const t = await wd("GET", S(`/element/${v}/text`));
    assert.match(t, /^Ferry engine \d+\.\d+\.\d+/);
  });

  const exportDir = path.join(work, "media");
  mkdirSync(exportDir, { recursive: true });
  const failIfAlert = async (i) => {
    if (i === 1) {
      if (await unavailable()) return "skipped";
      throw new Error(await text('[data-testid="error-alert"]'));
    }
    return null;
  };

  await step("credentials: trust the two loopback test registries (plain HTTP)", async () => {
    await nav("credentials");
    for (const reg of [src, dst]) {
      await fill("#login-registry", reg);
      const box = await find("#plain-http");
      const checked = await wd("GET", S(`/element/${box}/selected`));
      if (!checked) await wd("POST", S(`/element/${box}/click`), {});
      await click('[data-testid="save-trust"]');
      await findByText('[data-testid="cred-message"]', `Trust settings saved for ${reg}`);
    }
    await shot("credentials");
  });

  await step("write an image set in the form; the YAML follows", async () => {
    await nav("imageset");
    await fill("#f-storageConfig-local-path", path.join(work, "metadata"));
    // Replace the starter image with the one seeded into the source registry.
    await fill("#f-mirror-additionalImages-0-name", `${src}/${image}`);
    await sleep(300);
    const yaml = await wd("POST", S("/execute/sync"), { script: YAML_TEXT, args: [] });
    assert.match(yaml, new RegExp(`name: "?${src.replace(/[.:]/g, "\\$&")}/${image}"?`));
    assert.match(yaml, /path: .*metadata/);
    await either(['[data-testid="diagnostics"] .pf-m-success', '[data-testid="diagnostics"] .pf-m-danger'], 15000);
    await shot("image-set");
  });

  await step("invalid input is marked by line and the text is kept", async () => {
    await fill("#f-archiveSize", "-1");
    await sleep(800);
    const engineless = await wd("POST", S("/elements"), { using: "css selector", value: '[data-testid="diagnostics"] .pf-m-info' });
    if (engineless.length > 0) {
      await fill("#f-archiveSize", "1");
      return "skipped";
    }
    const list = await findByText('[data-testid="diagnostics"]', "Line 3");
    assert.match(await wd("GET", S(`/element/${list}/text`)), /archiveSize/);
    const yaml = await wd("POST", S("/execute/sync"), { script: YAML_TEXT, args: [] });
    assert.match(yaml, /archiveSize: -1/);
    await shot("image-set-invalid");
    await fill("#f-archiveSize", "1");
    await findByText('[data-testid="diagnostics"]', "No problems found");
  });

  await step("plan: dry run resolves the image against the source registry", async () => {
    await nav("plan");
    await fill("#plan-dest", exportDir);
    await click('[data-testid="run-plan"]');
    const i = await either(['[data-testid="plan-result"]', '[data-testid="error-alert"]'], 60000);
    await shot("plan");
    if (await failIfAlert(i)) return "skipped";
    assert.match(await text('[data-testid="plan-result"]'), new RegExp(`${src.replace(/[.:]/g, "\\$&")}/e2e/app`));
    assert.match(await text('[data-testid="plan-fits"]'), /^Fits on /);
    assert.match(await text('[data-testid="plan-total"]'), /MiB/);
  });

  await step("export the image set to a folder", async () => {
    await nav("export");
    await fill("#export-folder", exportDir);
    await click('[data-testid="start-export"]');
    const i = await either(['[data-testid="export-summary"]', '[data-testid="error-alert"]'], 300000);
    await shot("export");
    if (await failIfAlert(i)) return "skipped";
    const parts = readdirSync(exportDir).filter((f) => /\.tar$/.test(f));
    assert.ok(parts.length > 0, `an archive part was written (folder holds ${readdirSync(exportDir).join(", ")})`);
    assert.match(await text('[data-testid="export-summary"]'), new RegExp(parts[0].replace(/\./g, "\\.")));
  });

  await step("import the media into the second registry and open the results", async () => {
    await nav("import");
    await fill("#import-folder", exportDir);
    await click('[data-testid="verify-media"]');
    const i = await either(['[data-testid="media-report"]', '[data-testid="error-alert"]'], 60000);
    if (await failIfAlert(i)) {
      await shot("import");
      return "skipped";
    }
    await find('[data-testid="start-import"]');
    await fill("#import-registry", dst);
    await click('[data-testid="start-import"]');
    const j = await either(['[data-testid="import-summary"]', '[data-testid="error-alert"]'], 300000);
    await shot("import");
    if (j === 1) throw new Error(await text('[data-testid="error-alert"]'));
    await click('[data-testid="import-summary"] button');
    await find('[data-testid="results-view"]', 20000);
    await shot("results");
  });

  await step("the digests in the second registry match the source", async () => {
    const input = await find("#results-dir");
    const dir = await wd("GET", S(`/element/${input}/property/value`));
    if (!dir) return "skipped";
    const cmd = await wd("GET", S(`/element/${await find('[data-testid="apply-command"] input')}/property/value`));
    // One command per cluster version; the field holds the 4.13+ one (IDMS/ITMS, never the ICSP).
    const base = dir.replace(/\/$/, "");
    assert.equal(cmd, `oc apply -f ${base}/imageDigestMirrorSet.yaml -f ${base}/imageTagMirrorSet.yaml`);
    const mapping = readFileSync(path.join(dir, "mapping.txt"), "utf8").trim();
    const lines = mapping.split("\n").filter(Boolean);
    assert.ok(lines.length >= 1, "mapping.txt lists the image");
    const accept = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";
    for (const line of lines) {
      const [from, to] = line.split("=");
      const want = from.split("@")[1];
      assert.ok(want, `mapping source is pinned to a digest: ${from}`);
      // The source's own answer for the tag is the reference digest.
      const srcRes = await fetch(`http://${src}/v2/e2e/app/manifests/1`, { method: "HEAD", headers: { accept } });
      assert.equal(srcRes.headers.get("docker-content-digest"), want);
      const [host, ...rest] = to.split("/");
      const repo = rest.join("/").replace(/[:@][^/]*$/, "");
      const r = await fetch(`http://${host}/v2/${repo}/manifests/${want}`, { method: "HEAD", headers: { accept } });
      assert.equal(r.status, 200, `${host}/${repo}@${want} is missing in the destination`);
      assert.equal(r.headers.get("docker-content-digest"), want);
      assert.equal(host, dst, "the image went to the second registry");
    }
  });

  await step("mirror to mirror into the second registry", async () => {
    // Metadata records one target: the export's metadata is at sequence 1 for the imported
    // target, so a new target gets a metadata folder of its own (the engine refuses to mix them).
    await nav("imageset");
    await fill("#f-storageConfig-local-path", path.join(work, "metadata-m2m"));
    await sleep(300);
    await nav("mirror");
    await fill("#mirror-registry", `${dst}/m2m`);
    await click('[data-testid="start-mirror"]');
    const i = await either(['[data-testid="mirror-summary"]', '[data-testid="error-alert"]'], 300000);
    await shot("mirror");
    if (await failIfAlert(i)) return "skipped";
    const accept = "application/vnd.oci.image.manifest.v1+json";
    const list = await (await fetch(`http://${dst}/v2/_catalog`)).json();
    assert.ok(list.repositories.some((r) => r.startsWith("m2m/")), `m2m/ repositories in ${JSON.stringify(list)}`);
    void accept;
  });

  await step("history lists the runs per backend", async () => {
    await nav("history");
    await findByText("td", "Mirror");
    const all = await wd("POST", S("/execute/sync"), { script: "return document.querySelector('main').textContent", args: [] });
    for (const kind of ["Export", "Import", "Mirror"]) assert.ok(all.includes(kind), `${kind} run listed in: ${all}`);
    assert.match(all, new RegExp(`${dst.replace(/[.:]/g, "\\$&")}/m2m`));
    await shot("history");
  });
  await step("dark theme", async () => {
    await nav("imageset");
    await click('label[for="theme"]');
    await sleep(300);
    const dark = await wd("POST", S("/execute/sync"), { script: "return document.documentElement.classList.contains('pf-v6-theme-dark')", args: [] });
    assert.equal(dark, true);
    await shot("image-set-dark");
    await click('label[for="theme"]');
  });
} catch (e) {
  failed++;
  steps.push(`FAIL setup: ${e.message}`);
} finally {
  if (sid) await wd("DELETE", `/session/${sid}`).catch(() => {});
  driver.kill("SIGTERM");
}

for (const s of steps) console.log(s);
console.log(`${steps.length - failed - skipped.length} passed, ${skipped.length} skipped (engine command not in this build), ${failed} failed`);
process.exit(failed ? 1 : 0);
