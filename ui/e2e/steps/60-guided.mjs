// The guided flow in the real window at 1280x800: the app opens on the start screen; an export
// to a folder from the start to the results (a screenshot per step, docs/screenshots/guided-*),
// a check that fails before the run and offers its fix while keeping the entries, the import of
// that media in the air gap with the exact `oc apply` command, and no horizontal scroll on any
// screen.
import { mkdirSync, readdirSync } from "node:fs";
import assert from "node:assert/strict";
import path from "node:path";
import { env, wd, S, find, findByText, text, shot, nav, either, step, sleep, newSession, endSession } from "../lib/driver.mjs";

const { src, dst, image, work } = env;

/** WebKitWebDriver does not scroll PatternFly's inner page container: bring the element into view first. */
async function visible(css) {
  const el = await find(css);
  await wd("POST", S("/execute/sync"), { script: "document.querySelector(arguments[0]).scrollIntoView({ block: 'center' })", args: [css] });
  return el;
}
async function click(css) {
  await wd("POST", S(`/element/${await visible(css)}/click`), {});
}
async function fill(css, value) {
  const el = await visible(css);
  await wd("POST", S(`/element/${el}/clear`), {});
  await wd("POST", S(`/element/${el}/value`), { text: value });
}

async function attr(css, name) {
  return wd("GET", S(`/element/${await find(css)}/attribute/${name}`));
}

/**
 * No horizontal scroll: the page is never wider than the window, and no region inside it (the
 * page's main section, a table wrapper, a code block) scrolls sideways either. PatternFly's main
 * section is a scroll container of its own, so the document alone would stay 1280 px wide while
 * a too-wide table scrolls inside it. Code (editor, blocks, commands) may scroll: long lines
 * are not wrapped on purpose.
 */
async function noHorizontalScroll(where) {
  const [sw, cw, wide] = await wd("POST", S("/execute/sync"), {
    script: `const wide = [];
      for (const e of document.querySelectorAll("body *")) {
        const ox = getComputedStyle(e).overflowX;
        // Code (the YAML editor, code blocks, copyable commands) may scroll sideways by design.
        if (e.closest(".cm-editor, pre, code, [class*='code-block'], [class*='clipboard-copy']")) continue;
        if ((ox === "auto" || ox === "scroll") && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) {
          const name = e.getAttribute("data-testid") || String(e.className || e.tagName).split(" ")[0];
          wide.push(name + " (" + e.scrollWidth + " px in " + e.clientWidth + ")");
        }
      }
      return [document.documentElement.scrollWidth, document.documentElement.clientWidth, wide];`,
    args: [],
  });
  assert.ok(sw <= cw, `${where}: the page is ${sw}px wide in a ${cw}px window (horizontal scroll)`);
  assert.deepEqual(wide, [], `${where}: a region scrolls sideways: ${wide.join("; ")}`);
}

async function guidedStep(id) {
  await find(`[data-testid="guided-${id}"]`, 30000);
  assert.equal(await attr(`[data-testid="step-${id}"]`, "data-state"), "current");
}

async function next() {
  await click('[data-testid="guided-next"]');
  await sleep(300);
}

export default async function guided() {
  const media = path.join(work, "guided-media");
  mkdirSync(media, { recursive: true });

  await step("guided: the app opens on the start screen (restarted at 1280x800)", async () => {
    await endSession();
    await newSession();
    await wd("POST", S("/window/rect"), { width: 1280, height: 800 });
    await sleep(500);
    const { width, height } = await wd("GET", S("/window/rect"));
    assert.equal(width, 1280);
    assert.equal(height, 800);
    // A guided flow left half-way by an earlier run is resumed where it was; start afresh here.
    if ((await either(['[data-testid="start"]', '[data-testid="guided"]'], 30000)) === 1) await click('[data-testid="guided-restart"]');
    await find('[data-testid="start"]');
    assert.match(await text('[data-testid="start"]'), /Export to media[\s\S]*Import in the air gap[\s\S]*Connected mirror/);
    await noHorizontalScroll("start");
    // Just after a restart the web fonts may still load (text is invisible until then).
    for (let i = 0; i < 50 && (await wd("POST", S("/execute/sync"), { script: "return document.fonts.status", args: [] })) !== "loaded"; i++) await sleep(200);
    await sleep(300);
    await shot("guided-start");
  });

  await step("guided export: credentials first, with the stepper showing what is next", async () => {
    await click('[data-testid="mode-m2d"]');
    await guidedStep("credentials");
    assert.equal(await attr('[data-testid="step-imageset"]', "data-state"), "next");
    // The logins imported by steps/15-credentials.mjs are listed (or the empty state says what to do).
    await either(['[data-testid="guided-logins"]', '[data-testid="no-logins"]'], 20000);
    await noHorizontalScroll("guided credentials");
    await shot("guided-credentials");
    await next();
  });

  await step("guided export: the image set, fixed in the editor and the flow kept", async () => {
    await guidedStep("imageset");
    assert.equal(await attr('[data-testid="step-credentials"]', "data-state"), "done");
    // Leave the flow for the editor (a metadata folder of its own, one small image), come back.
    await click('[data-testid="guided-edit"]');
    await fill("#f-storageConfig-local-path", path.join(work, "metadata-guided"));
    await fill("#f-mirror-additionalImages-0-name", `${src}/${image}`);
    await fill("#f-archiveSize", "1");
    await sleep(500);
    await nav("start");
    await guidedStep("imageset");
    await find('[data-testid="guided-imageset-ok"]', 20000);
    await noHorizontalScroll("guided image set");
    await shot("guided-image-set");
    await next();
  });

  await step("guided export: the plan with sizes and truncated digests", async () => {
    await guidedStep("plan");
    const i = await either(['[data-testid="guided-plan"]', '[data-testid="error-alert"]'], 120000);
    if (i === 1) throw new Error(await text('[data-testid="error-alert"]'));
    const total = await text('[data-testid="guided-plan-total"]');
    assert.match(total, /^1 image, [\d.]+ (KiB|MiB), 1 archive part$/, total);
    const digest = await text('[data-testid="guided-plan"] [data-testid="digest"]');
    assert.match(digest, /^sha256:[0-9a-f]{12}…/, digest);
    await noHorizontalScroll("guided plan");
    await shot("guided-plan");
    await next();
  });

  await step("guided export: a destination that does not exist fails the check, offers the fix, keeps the entry", async () => {
    await guidedStep("destination");
    const gone = path.join(work, "no-such-drive");
    await fill("#guided-folder", gone);
    await click('[data-testid="guided-check"]');
    await find('[data-testid="preflight"]', 120000);
    assert.equal(await attr('[data-testid="preflight"]', "data-ready"), "no");
    assert.equal(await attr('[data-testid="check-destination"]', "data-state"), "error");
    const c = await text('[data-testid="check-destination"]');
    assert.match(c, new RegExp(`${gone.replace(/[/.]/g, "\\$&")} cannot be used`));
    assert.match(c, /Pick another folder/);
    assert.equal(await wd("GET", S(`/element/${await find("#guided-folder")}/property/value`)), gone);
    assert.equal(await wd("GET", S(`/element/${await find('[data-testid="guided-next"]')}/property/disabled`)), true);
    await shot("guided-check-failed");
  });

  await step("guided export: the destination with free space and file system, every check passed", async () => {
    await fill("#guided-folder", media);
    const info = await findByText('[data-testid="guided-folder-info"]', "free of", 20000);
    const t = await wd("GET", S(`/element/${info}/text`));
    assert.match(t, new RegExp(`free of .* on ${media.replace(/[/.]/g, "\\$&")} \\(\\w+\\)`), t);
    await click('[data-testid="guided-check"]');
    await find('[data-testid="preflight"][data-ready="yes"]', 120000);
    for (const id of ["image-set", "plan", "credentials", "destination", "space", "filesystem"]) {
      assert.equal(await attr(`[data-testid="check-${id}"]`, "data-state"), "ok", `check ${id}`);
    }
    await noHorizontalScroll("guided destination");
    await shot("guided-destination");
    await next();
  });

  await step("guided export: the run, checked again, to the results with the parts", async () => {
    await guidedStep("run");
    await click('[data-testid="guided-start"]');
    await either(['[data-testid="job-progress"]', '[data-testid="guided-summary"]', '[data-testid="error-alert"]'], 120000);
    await shot("guided-run");
    const i = await either(['[data-testid="guided-summary"]', '[data-testid="error-alert"]', '[data-testid="guided-not-started"]'], 300000);
    if (i !== 0) throw new Error(await text(i === 1 ? '[data-testid="error-alert"]' : '[data-testid="preflight"]'));
    await guidedStep("results");
    const parts = readdirSync(media).filter((f) => /\.tar$/.test(f));
    assert.ok(parts.length > 0, `an archive part was written (folder holds ${readdirSync(media).join(", ")})`);
    const summary = await text('[data-testid="guided-summary"]');
    assert.match(summary, /Finished \(sequence 1\): 1 image copied/);
    assert.match(summary, new RegExp(parts[0].replace(/\./g, "\\.")));
    assert.match(await wd("GET", S(`/element/${await find('[data-testid="guided-import-command"] input')}/property/value`)), new RegExp(`ferry mirror --from ${media.replace(/[/.]/g, "\\$&")} docker://`));
    for (const s of ["credentials", "imageset", "plan", "destination", "run"]) {
      assert.equal(await attr(`[data-testid="step-${s}"]`, "data-state"), "done", `step ${s} is marked done`);
    }
    await noHorizontalScroll("guided results");
    await shot("guided-results");
  });

  await step("guided import: the media into the mirror registry, with the exact oc apply command", async () => {
    await click('[data-testid="guided-to-import"]');
    await guidedStep("credentials");
    await next();
    await guidedStep("destination");
    assert.equal(await wd("GET", S(`/element/${await find("#guided-folder")}/property/value`)), media);
    await fill("#guided-registry", `${dst}/guided`);
    await click('[data-testid="guided-check"]');
    const r = await either(['[data-testid="preflight"][data-ready="yes"]', '[data-testid="preflight"][data-ready="no"]'], 120000);
    if (r === 1) throw new Error(await text('[data-testid="preflight"]'));
    assert.equal(await attr('[data-testid="check-media"]', "data-state"), "ok");
    assert.equal(await attr('[data-testid="check-target"]', "data-state"), "ok");
    await shot("guided-import-destination");
    await next();
    await click('[data-testid="guided-start"]');
    const i = await either(['[data-testid="guided-apply"]', '[data-testid="error-alert"]', '[data-testid="guided-not-started"]'], 300000);
    if (i !== 0) throw new Error(await text(i === 1 ? '[data-testid="error-alert"]' : '[data-testid="preflight"]'));
    const cmd = await wd("GET", S(`/element/${await find('[data-testid="guided-apply-413"] input')}/property/value`));
    assert.match(cmd, /^oc apply -f (\S+)\/imageDigestMirrorSet\.yaml -f \1\/imageTagMirrorSet\.yaml$/, cmd);
    await noHorizontalScroll("guided import results");
    await shot("guided-import-results");
  });

  await step("look: no horizontal scroll at 1280x800 on any screen of the navigation", async () => {
    const ids = await wd("POST", S("/execute/sync"), {
      script: "return Array.from(document.querySelectorAll('[data-testid^=\"nav-\"]')).map((e) => e.getAttribute('data-testid').slice(4))",
      args: [],
    });
    assert.ok(ids.length >= 8, `the navigation lists the screens (${ids.join(", ")})`);
    for (const id of ids) {
      await nav(id);
      await sleep(400);
      await noHorizontalScroll(`screen ${id}`);
    }
    await nav("start");
  });
}
