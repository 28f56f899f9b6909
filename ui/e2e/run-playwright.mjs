// UI scenarios in Debian's Chromium against the Vite dev server in "mock" mode (mocked IPC).
// One scenario per screen, each with real assertions on what the user sees. No browser download:
// playwright-core drives /usr/bin/chromium (or $CHROMIUM).
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import net from "node:net";

const exe = process.env.CHROMIUM ?? "/usr/bin/chromium";

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Polls an input until it holds `expected`: values set after an async IPC answer (the native
// dialog, a login) land a moment after the click, and an immediate read races them (seen on CI).
async function valueBecomes(locator, expected, ms = 10000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await locator.inputValue();
    if (expected instanceof RegExp ? expected.test(last) : last === expected) return;
    await sleep(100);
  }
  assert.fail(`input value stayed ${JSON.stringify(last)}; expected ${expected}`);
}

async function waitFor(url, ms = 60000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await sleep(200);
  }
  throw new Error(`the Vite dev server did not answer at ${url} within ${ms} ms`);
}

const port = await freePort();
const vite = spawn("npx", ["vite", "--mode", "mock", "--port", String(port), "--strictPort"], {
  stdio: ["ignore", "pipe", "inherit"],
  detached: true,
});
const base = `http://127.0.0.1:${port}/`;
let browser;
let failed = 0;
const results = [];
try {
  await waitFor(base);
  browser = await chromium.launch({
    executablePath: exe,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });

  async function scenario(name, fn) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(10000);
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const t0 = Date.now();
    try {
      await page.goto(base);
      await page.getByTestId("engine-version").getByText("0.1.0-mock").waitFor({ timeout: 15000 });
      await fn(page);
      assert.deepEqual(errors, [], `uncaught page errors: ${errors.join("; ")}`);
      results.push(`ok   ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failed++;
      results.push(`FAIL ${name}: ${e.message}`);
      await page.screenshot({ path: `test-results/${name.replace(/\W+/g, "-")}.png` }).catch(() => {});
    } finally {
      await page.close();
    }
  }
  const nav = (page, id) => page.getByTestId(`nav-${id}`).click();

  await scenario("credentials: a rejected login says what to do and keeps the input", async (page) => {
    await nav(page, "credentials");
    await page.getByLabel("Registry", { exact: true }).fill("bad.example:5000");
    await page.getByTestId("test-login").click();
    const alert = page.getByTestId("error-alert");
    await alert.waitFor();
    assert.equal(await alert.getAttribute("data-code"), "unauthorized");
    assert.match(await alert.innerText(), /Check the user name and password/);
    assert.equal(await page.getByLabel("Registry", { exact: true }).inputValue(), "bad.example:5000");
    await page.getByLabel("Registry", { exact: true }).fill("mirror.example:5000");
    await page.getByTestId("test-login").click();
    await page.getByTestId("cred-message").getByText("login accepted").waitFor();
  });

  await scenario("image set: form and YAML stay in sync, invalid YAML is marked by line", async (page) => {
    await nav(page, "imageset");
    await page.getByLabel("Metadata in a local folder").fill("/srv/ferry-meta");
    await page.locator(".cm-content").getByText("path: /srv/ferry-meta").waitFor();
    // Typing in the YAML updates the form.
    await page.locator(".cm-content").click();
    await page.keyboard.press("Control+End");
    await page.keyboard.type("\n    - name: quay.io/typed/in-yaml:1");
    await page.locator('input[value="quay.io/typed/in-yaml:1"]').waitFor();
    // Broken YAML: the form goes read-only, the text is kept, the line is named.
    await page.keyboard.type("\n  bad: [unclosed");
    await page.getByText("The YAML has a syntax error").waitFor();
    await page.getByTestId("diagnostics").getByText(/Line \d+, column \d+/).first().waitFor();
    assert.match(await page.locator(".cm-content").innerText(), /bad: \[unclosed/);
  });

  await scenario("plan: groups, blocked images, parts and the fit check", async (page) => {
    await nav(page, "plan");
    await page.getByLabel("Destination to check (optional)").fill("/media/full-usb");
    await page.getByTestId("run-plan").click();
    await page.getByTestId("plan-result").waitFor();
    assert.match(await page.getByTestId("plan-parts").innerText(), /^1 of up to 4\.0 GiB/);
    assert.match(await page.getByTestId("plan-fits").innerText(), /Does not fit/);
    await page.getByText("Additional images (1)").waitFor();
    await page.getByText("docker.io/library/busybox:latest").waitFor();
  });

  await scenario("export: no room offers another folder; a good folder exports with checksums", async (page) => {
    await nav(page, "export");
    await page.getByLabel("Folder or mounted drive").fill("/media/full-usb");
    await page.getByTestId("check-space").click();
    await page.getByText(/Not enough room/).waitFor();
    await page.getByRole("button", { name: "Pick another folder" }).click();
    // The mocked native dialog answers /media/usb-stick.
    await valueBecomes(page.getByLabel("Folder or mounted drive"), "/media/usb-stick");
    await page.getByTestId("start-export").click();
    await page.getByTestId("export-summary").waitFor({ timeout: 10000 });
    assert.match(await page.getByTestId("export-summary").innerText(), /mirror_seq1_000000\.tar/);
  });

  await scenario("import: missing part is explained; complete media pushes and links results", async (page) => {
    await nav(page, "import");
    await page.getByLabel("Folder with the archive parts").fill("/media/broken");
    await page.getByTestId("verify-media").click();
    await page.getByTestId("media-problems").getByText(/000001\.tar is missing/).waitFor();
    assert.equal(await page.getByTestId("start-import").count(), 0);
    await page.getByLabel("Folder with the archive parts").fill("/media/good");
    await page.getByTestId("verify-media").click();
    await page.getByText(/Media complete: sequence 1/).waitFor();
    await page.getByLabel(/Target registry/).fill("mirror.example:5000");
    await page.getByTestId("start-import").click();
    await page.getByTestId("import-summary").waitFor({ timeout: 10000 });
    await page.getByRole("button", { name: "Open the results" }).click();
    await page.getByTestId("results-view").waitFor();
  });

  await scenario("mirror: progress, then a summary", async (page) => {
    await nav(page, "mirror");
    await page.getByLabel(/Target registry/).fill("mirror.example:5000");
    await page.getByTestId("start-mirror").click();
    await page.getByTestId("job-progress").waitFor();
    await page.getByTestId("mirror-summary").waitFor({ timeout: 10000 });
    assert.match(await page.getByTestId("mirror-summary").innerText(), /1 copied/);
  });

  await scenario("results: files in tabs and the oc apply command", async (page) => {
    await nav(page, "results");
    await page.getByLabel("Results folder").fill("/home/user/oc-mirror-workspace/results-1700000000");
    await page.getByTestId("load-results").click();
    await page.getByTestId("results-view").waitFor();
    await valueBecomes(page.getByTestId("apply-command").locator("input"), /^oc apply -f \//);
    await page.getByRole("tab", { name: "imageContentSourcePolicy.yaml" }).click();
    await page.getByText("kind: ImageContentSourcePolicy").waitFor();
  });

  await scenario("history: runs grouped by backend; keyboard navigation and dark theme", async (page) => {
    await nav(page, "history");
    assert.equal(await page.getByTestId("history-backend").count(), 2);
    await page.getByText("/home/user/metadata").waitFor();
    await page.getByLabel("Dark theme").check({ force: true });
    assert.ok(await page.evaluate(() => document.documentElement.classList.contains("pf-v6-theme-dark")));
    // Keyboard only: Tab reaches the navigation and Enter opens a screen.
    await page.getByTestId("nav-plan").focus();
    await page.keyboard.press("Enter");
    await page.getByTestId("run-plan").waitFor();
  });
} finally {
  await browser?.close();
  try {
    process.kill(-vite.pid, "SIGTERM");
  } catch {
    // already gone
  }
}
for (const r of results) console.log(r);
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
