// The first steps: the screens of the app, one image exported, imported and mirrored.
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import assert from "node:assert/strict";
import path from "node:path";
import { env, wd, S, find, findByText, click, text, fill, shot, nav, either, step, unavailable, sleep, YAML_TEXT } from "../lib/driver.mjs";

const { src, dst, image, work } = env;

export default async function core() {
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
}
