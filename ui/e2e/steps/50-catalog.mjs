// The catalog browser in the image-set editor, in the real window: the index image that
// scripts/test-desktop-e2e.sh seeded into the source registry (oc-mirror's e2e catalog with the
// configs label, E2E_CATALOG) is read by the engine through the app's stored trust settings,
// its packages listed with their icons; a package, channel and version range are written into
// the YAML, and the preview shows what the plan's filter keeps and why each dependency came.
import assert from "node:assert/strict";
import { env, wd, S, find, findByText, click, text, fill, shot, nav, either, step, sleep, YAML_TEXT } from "../lib/driver.mjs";

const catalog = process.env.E2E_CATALOG;

const run = (script, ...args) => wd("POST", S("/execute/sync"), { script, args });
/** Sets a <select> the way a user's pick does (React listens to the change event). */
async function select(css, value) {
  await find(css);
  const ok = await run(
    `const el = document.querySelector(arguments[0]);
     if (![...el.options].some((o) => o.value === arguments[1])) return false;
     const set = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, "value").set;
     set.call(el, arguments[1]);
     el.dispatchEvent(new Event("change", { bubbles: true }));
     return true;`,
    css,
    value,
  );
  if (!ok) throw new Error(`${css} offers no option ${value}`);
}
const scrollTo = (css) => run("document.querySelector(arguments[0]).scrollIntoView({ block: 'start' }); return true;", css);
const alertText = async () => text('[data-testid="catalog-browser"] [data-testid="error-alert"]');

export default async function catalogSteps() {
  const ref = `${env.src}/${catalog}`;

  await step("catalog browser: the engine reads the seeded index image and lists packages with icons", async () => {
    if (!catalog) return "skipped";
    await nav("imageset");
    await fill("#catalog-ref", ref);
    await click('[data-testid="catalog-load"]');
    const i = await either(['[data-testid="catalog-packages"]', '[data-testid="catalog-browser"] [data-testid="error-alert"]'], 60000);
    if (i === 1) throw new Error(await alertText());
    const status = await text('[data-testid="catalog-status"]');
    assert.match(status, /^3 packages, 10 bundles in /, status);
    assert.match(status, /@sha256:[0-9a-f]{64}/, "pinned to the digest read");
    assert.match(status, /read in \d+ ms/);
    for (const p of ["foo", "bar", "baz"]) await find(`[data-testid="catalog-pkg-${p}"]`);
    assert.match(await text('[data-testid="catalog-pkg-foo"]'), /The Foo operator reacts to Foos objects/);
    assert.match(await text('[data-testid="catalog-pkg-foo"]'), /Default channel beta, head 0\.3\.1 · 4 bundles/);
    // The icon is the catalog's own SVG as a data: URL, and it really rendered (CSP allows it).
    const icon = await run(
      `const img = document.querySelector('[data-testid="catalog-pkg-foo"] img[data-testid="catalog-icon"]');
       return img ? { src: img.src.slice(0, 40), w: img.naturalWidth, done: img.complete } : null;`,
    );
    assert.ok(icon, "foo has an icon");
    assert.match(icon.src, /^data:image\/svg\+xml;base64,/);
    assert.ok(icon.done && icon.w > 0, `the icon rendered (${JSON.stringify(icon)})`);
    // A second load of the same tag comes from the session's cache (one manifest request).
    await click('[data-testid="catalog-load"]');
    await findByText('[data-testid="catalog-status"]', "from this session's cache", 30000);
  });

  await step("catalog browser: pick a package, a channel and a version range; the YAML follows", async () => {
    if (!catalog) return "skipped";
    await click('[data-testid="catalog-pkg-foo"]');
    await find('[data-testid="catalog-package"]');
    const opts = await run("return [...document.querySelectorAll('#catalog-min option')].map((o) => o.value);");
    assert.deepEqual(opts, ["", "0.1.0", "0.2.0", "0.3.0", "0.3.1"], "the channel's real versions, lowest first");
    await select("#catalog-channel", "beta");
    await select("#catalog-min", "0.2.0");
    await findByText('[data-testid="catalog-meaning"]', "up to the head 0.3.1");
    await click('[data-testid="catalog-add"]');
    await findByText('[data-testid="catalog-added"]', "mirror.operators[0]");
    await sleep(300);
    const yaml = await run(YAML_TEXT);
    assert.match(yaml, new RegExp(`catalog: "?${ref.replace(/[.:/]/g, "\\$&")}"?`), yaml);
    assert.match(yaml, /- name: foo/);
    assert.match(yaml, /- name: beta/);
    assert.match(yaml, /minVersion: "?0\.2\.0"?/);
    await either(['[data-testid="diagnostics"] .pf-m-success', '[data-testid="diagnostics"] .pf-m-danger'], 15000);
    await scrollTo('[data-testid="catalog-status"]');
    await shot("catalog-browser");
  });

  await step("catalog browser: preview the filtered result (bundles, images, why each dependency came)", async () => {
    if (!catalog) return "skipped";
    await click('[data-testid="catalog-preview"]');
    const i = await either(['[data-testid="catalog-preview-result"]', '[data-testid="catalog-browser"] [data-testid="error-alert"]'], 60000);
    if (i === 1) throw new Error(await alertText());
    const summary = await text('[data-testid="catalog-preview-summary"]');
    // foo 0.2.0..0.3.1 (3) plus bar's dependencies (bar.v0.1.0 and the alpha graph to its head,
    // bar.v1.0.0 in stable for the Bar GVK), as oc-mirror's imageset-config-filter case keeps.
    assert.match(summary, /keeps 6 bundles and \d+ images/, summary);
    // The size is read from the images' registries: "n of m images sized", m the distinct
    // images listed; a byte figure only when some were sized (the seeded catalog names its
    // upstream images, so an offline machine sizes none and says so, naming each image).
    const size = await text('[data-testid="catalog-preview-size"]');
    const m = /^(?:(\d+(?:\.\d)? (?:B|KiB|MiB|GiB))|unknown) \((\d+) of (\d+) images? sized\)$/.exec(size.trim());
    assert.ok(m, `size line: ${size}`);
    const listed = await run(
      "return new Set([...document.querySelectorAll('[data-testid=\"catalog-preview-images\"] .ferry-mono-inline')].map((td) => td.textContent.trim())).size;",
    );
    assert.equal(Number(m[3]), listed, `every listed image counted: ${size}`);
    assert.ok(Number(m[2]) <= Number(m[3]));
    assert.equal(m[1] === undefined, Number(m[2]) === 0, `a figure exactly when something was sized: ${size}`);
    const bundles = await text('[data-testid="catalog-preview-bundles"]');
    for (const b of ["foo.v0.2.0", "foo.v0.3.0", "foo.v0.3.1", "bar.v0.1.0", "bar.v1.0.0"]) assert.ok(bundles.includes(b), `${b} kept:\n${bundles}`);
    assert.ok(!bundles.includes("foo.v0.1.0"), "below minVersion: not kept");
    assert.ok(!bundles.includes("baz."), "baz is not asked for");
    const deps = await text('[data-testid="catalog-preview-deps"]');
    assert.match(deps, /olm\.package\.required bar <0\.2\.0 of foo\/foo\.v0\.2\.0/, deps);
    assert.match(deps, /olm\.gvk\.required test\.bar\/v1alpha1 Bar/, deps);
    assert.match(await text('[data-testid="catalog-preview-images"]'), /bundle/);
    await scrollTo('[data-testid="catalog-preview-result"]');
    await shot("catalog-preview");
  });

  await step("catalog browser: a tag the registry does not have is a clear error, the input kept", async () => {
    if (!catalog) return "skipped";
    await scrollTo('[data-testid="catalog-browser"]');
    const missing = `${env.src}/e2e/catalog:no-such-tag`;
    await fill("#catalog-ref", missing);
    await click('[data-testid="catalog-load"]');
    await find('[data-testid="catalog-browser"] [data-testid="error-alert"][data-code="not-found"]', 60000);
    assert.match(await alertText(), /catalog image .*no-such-tag/);
    const v = await run("return document.querySelector('#catalog-ref').value;");
    assert.equal(v, missing);
  });

  await step("catalog browser: the added catalog entry is removed again (later steps start clean)", async () => {
    if (!catalog) return "skipped";
    const yaml = await run(YAML_TEXT);
    if (!/operators:/.test(yaml)) return undefined;
    // The Operators section of the form starts closed: open it, then remove the entry with the
    // card's own "Remove catalog" button (the nested cards have "Remove package"/"Remove channel").
    const opened = await run(
      `const t = [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === "Operators");
       if (!t) return "no Operators toggle";
       if (t.getAttribute("aria-expanded") !== "true") t.click();
       return "ok";`,
    );
    assert.equal(opened, "ok");
    await sleep(300);
    const removed = await run(
      `const card = document.querySelector('[data-testid="f-mirror-operators-0"]');
       if (!card) return "no card f-mirror-operators-0";
       const b = [...card.querySelectorAll("button")].find((x) => x.textContent.trim() === "Remove catalog");
       if (!b) return "no Remove catalog button";
       b.scrollIntoView({ block: "center" });
       b.click();
       return "ok";`,
    );
    assert.equal(removed, "ok");
    await sleep(400);
    assert.doesNotMatch(await run(YAML_TEXT), /operators:/);
  });
}
