// Helm charts and pruning in the real window. A node:http chart repository on loopback serves an
// index.yaml and a chart .tgz built here (with `tar`; its sha256 in the index, so the engine's
// digest check runs). The chart deploys the seeded e2e/app:1 (a values image map) and a hook
// job's image e2e/helm-extra:1 (a literal template line), pushed into the source registry here
// with skopeo; a helm test pod's image is flagged and not mirrored.
//
// Steps: add the repository in the editor and pick the chart from the list; plan (images per
// chart with provenance, the hook flagged); mirror both into DST/helm; remove the hook image in
// the Plan (it becomes an exact mirror.blockedImages pattern) and see the dry run no longer hold
// it; then the Mirror screen's pruning check lists it, "Keep them" keeps it, and only the
// confirmation dialog's "Delete" removes it from the registry (checked by HEAD).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { env, wd, S, find, findByText, click, fill, shot, nav, step, either, sleep, text, YAML_TEXT, freePort, unavailable } from "../lib/driver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const { src, dst, work } = env;
const exec = (script, args = []) => wd("POST", S("/execute/sync"), { script, args });
const ACCEPT =
  "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";
const head = (host, repo, ref) => fetch(`http://${host}/v2/${repo}/manifests/${ref}`, { method: "HEAD", headers: { accept: ACCEPT } });

const APP = `${src}/e2e/app:1`;
const EXTRA = `${src}/e2e/helm-extra:1`;

/** The chart folder and its .tgz (as `helm package` lays it out: one top folder). */
function buildChart(dir) {
  const root = path.join(dir, "e2e-helm");
  mkdirSync(path.join(root, "templates/tests"), { recursive: true });
  writeFileSync(path.join(root, "Chart.yaml"), 'apiVersion: v2\nname: e2e-helm\nversion: 0.1.0\nappVersion: "1"\n');
  writeFileSync(path.join(root, "values.yaml"), `image:\n  registry: ${src}\n  repository: e2e/app\n  tag: "1"\n`);
  writeFileSync(
    path.join(root, "templates/deployment.yaml"),
    'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: "{{ .Values.image.registry }}/{{ .Values.image.repository }}:{{ .Values.image.tag }}"\n',
  );
  writeFileSync(
    path.join(root, "templates/migrate-job.yaml"),
    `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    "helm.sh/hook": pre-install\nspec:\n  template:\n    spec:\n      containers:\n      - name: migrate\n        image: ${EXTRA}\n`,
  );
  writeFileSync(
    path.join(root, "templates/tests/test-connection.yaml"),
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: test\n  annotations:\n    "helm.sh/hook": test\nspec:\n  containers:\n  - name: wget\n    image: docker.io/library/busybox:1.36\n',
  );
  const tgz = path.join(dir, "e2e-helm-0.1.0.tgz");
  execFileSync("tar", ["czf", tgz, "-C", dir, "e2e-helm"]);
  return readFileSync(tgz);
}

function startRepo(port, files, requests) {
  const server = http.createServer((req, res) => {
    requests.push(req.url);
    const body = files[req.url];
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": req.url.endsWith(".yaml") ? "application/yaml" : "application/gzip" });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

async function openHelmSection() {
  // The section starts collapsed (PatternFly keeps its content in the DOM, hidden): open it
  // through its toggle button and bring the field into view.
  const found = await exec(
    "const el = document.querySelector('#helm-repo-url'); if (!el) return false; const sec = el.closest('.pf-v6-c-expandable-section'); if (sec && !sec.classList.contains('pf-m-expanded')) sec.querySelector('.pf-v6-c-expandable-section__toggle button, button').click(); return true;",
  );
  if (!found) throw new Error("the Helm charts section has no repository URL field");
  await sleep(500);
  await exec("document.querySelector('#helm-repo-url').scrollIntoView({ block: 'center' }); return true;");
}

async function runPlan() {
  await nav("plan");
  await click('[data-testid="run-plan"]');
  const i = await either(['[data-testid="helm-plan"]', '[data-testid="error-alert"]'], 120000);
  if (i !== 0) throw new Error(await text('[data-testid="error-alert"]'));
  // The summary too (the dry run resolves every image against the source registry).
  const j = await either(['[data-testid="plan-result"]', '[data-testid="error-alert"]'], 120000);
  if (j !== 0) throw new Error(await text('[data-testid="error-alert"]'));
}

export default async function helm() {
  const dir = path.join(work, "helm-repo");
  mkdirSync(dir, { recursive: true });
  const oci = path.join(work, "helm-extra-oci");
  execFileSync("python3", [path.join(here, "../make-oci-image.py"), oci, "1"]);
  execFileSync("skopeo", ["copy", "-q", "--dest-tls-verify=false", `oci:${oci}:1`, `docker://${EXTRA}`]);
  const tgz = buildChart(dir);
  const sha = createHash("sha256").update(tgz).digest("hex");
  const index = `apiVersion: v1\nentries:\n  e2e-helm:\n  - name: e2e-helm\n    version: 0.1.0\n    appVersion: "1"\n    urls: [e2e-helm-0.1.0.tgz]\n    digest: ${sha}\n  - name: e2e-helm\n    version: 0.0.9\n    urls: [e2e-helm-0.0.9.tgz]\n`;
  const requests = [];
  const port = await freePort();
  const server = await startRepo(port, { "/charts/index.yaml": Buffer.from(index), "/charts/e2e-helm-0.1.0.tgz": tgz }, requests);
  const repoUrl = `http://127.0.0.1:${port}/charts`;
  let extraDigest = null;
  let storage = null;
  try {
    await step("helm editor: a repository's charts listed from its index.yaml, one added; the YAML follows", async () => {
      await nav("imageset");
      const input = await find("#f-storageConfig-local-path");
      storage = await wd("GET", S(`/element/${input}/property/value`));
      await fill("#f-storageConfig-local-path", path.join(work, "metadata-helm"));
      await openHelmSection();
      await fill("#helm-repo-url", repoUrl);
      await click('[data-testid="helm-list-charts"]');
      const i = await either(['[data-testid="helm-chart-e2e-helm"]', '[data-testid="helm-section"] [data-testid="error-alert"]'], 30000);
      if (i === 1) {
        if (await unavailable()) return "skipped";
        throw new Error(await text('[data-testid="helm-section"] [data-testid="error-alert"]'));
      }
      const versions = await exec(
        "return Array.from(document.querySelectorAll('[data-testid=\"helm-chart-e2e-helm\"] option')).map((o) => o.value)",
      );
      assert.deepEqual(versions, ["0.1.0", "0.0.9"], "newest first, from the served index");
      assert.ok(requests.includes("/charts/index.yaml"), `the engine read the index: ${requests}`);
      await click('[data-testid="helm-add-e2e-helm"]');
      await find('[data-testid="helm-added"]');
      await sleep(400);
      const yaml = await exec(YAML_TEXT);
      assert.match(yaml, new RegExp(`url: ${repoUrl.replace(/[.:/]/g, "\\$&")}`));
      assert.match(yaml, /- name: e2e-helm\s+version: 0\.1\.0/);
      await shot("helm-editor");
    });

    await step("plan: the chart's images with provenance, the hook job's image flagged, the test pod's left out", async () => {
      await runPlan();
      // textContent: WebDriver's visible text leaves out PatternFly's compact labels.
      const t = await exec("return document.querySelector('[data-testid=\"helm-plan-e2e-helm\"]').textContent");
      assert.match(t, new RegExp(APP.replace(/[.:/]/g, "\\$&")));
      assert.match(t, new RegExp(EXTRA.replace(/[.:/]/g, "\\$&")));
      assert.match(t, /values image/, "the values path is named");
      assert.match(t, /templates\/migrate-job\.yaml:\d+/, "the template line is named");
      assert.match(t, /hook \(mirrored/);
      assert.match(t, /busybox:1\.36[\s\S]*test \(not mirrored\)/);
      assert.ok(requests.includes("/charts/e2e-helm-0.1.0.tgz"), "the archive was downloaded (and its digest checked)");
      const plan = await text('[data-testid="plan-result"]');
      assert.match(plan, /e2e\/helm-extra/);
      assert.doesNotMatch(plan, /busybox/);
    });

    await step("mirror the chart's images into the second registry", async () => {
      await nav("mirror");
      await fill("#mirror-registry", `${dst}/helm`);
      await click('[data-testid="start-mirror"]');
      const i = await either(['[data-testid="mirror-summary"]', '[data-testid="error-alert"]'], 300000);
      if (i === 1) throw new Error(await text('[data-testid="error-alert"]'));
      const r = await head(dst, "helm/e2e/helm-extra", "1");
      assert.equal(r.status, 200, "the hook image is in the target");
      extraDigest = r.headers.get("docker-content-digest");
      assert.equal((await head(dst, "helm/e2e/app", "1")).status, 200);
    });

    await step("plan: remove the hook image; the dry run no longer holds it", async () => {
      await runPlan();
      await click(`[data-testid="helm-remove-${EXTRA}"]`);
      await sleep(400);
      const row = await find(`[data-testid="helm-image-${EXTRA}"]`);
      assert.equal(await wd("GET", S(`/element/${row}/attribute/data-removed`)), "yes");
      await runPlan();
      // The earlier result stays on screen until the new one arrives: wait for the new one.
      const table = "return document.querySelector('table[aria-label=\"Additional images\"]')?.textContent ?? ''";
      let additional = await exec(table);
      for (let n = 0; /helm-extra/.test(additional) && n < 200; n++) {
        await sleep(300);
        additional = await exec(table);
      }
      assert.match(additional, /e2e\/app/);
      assert.doesNotMatch(additional, /helm-extra/, "the removed image is not planned");
      const blocked = await exec("return document.querySelector('table[aria-label=\"Blocked images\"]')?.textContent ?? ''");
      assert.match(blocked, /helm-extra/, "listed as blocked, with its pattern");
      // The chart table shows the image as removed (the screen's state is lost when leaving it).
      const row2 = await find(`[data-testid="helm-image-${EXTRA}"]`);
      assert.equal(await wd("GET", S(`/element/${row2}/attribute/data-removed`)), "yes");
      await shot("helm-plan");
      await nav("imageset");
      const yaml = await exec(YAML_TEXT);
      assert.match(yaml, /blockedImages:[\s\S]*helm-extra/);
    });

    await step("prune: the dropped image is listed, kept by default, deleted only after the confirmation", async () => {
      if (!extraDigest) return "skipped";
      await nav("mirror");
      await click('[data-testid="prune-check"]');
      const i = await either(['[data-testid="prune-plan"]', '[data-testid="prune-nothing"]', '[data-testid="prune-section"] [data-testid="error-alert"]'], 180000);
      if (i !== 0) throw new Error(await text('[data-testid="prune-section"]'));
      const plan = await text('[data-testid="prune-plan"]');
      assert.match(plan, /helm\/e2e\/helm-extra/);
      assert.doesNotMatch(plan, /helm\/e2e\/app\b/, "an image the set still needs is never listed");
      assert.match(plan, /MiB/, "its size was read from the target");
      await click('[data-testid="prune-delete"]');
      await find('[data-testid="prune-keep"]');
      await sleep(400);
      await shot("prune-confirm");
      await click('[data-testid="prune-keep"]');
      await sleep(300);
      assert.equal((await head(dst, "helm/e2e/helm-extra", extraDigest)).status, 200, "kept: nothing deleted without the confirmation");
      await click('[data-testid="prune-delete"]');
      await click('[data-testid="prune-confirm-delete"]');
      await sleep(800);
      const j = await either(['[data-testid="mirror-summary"]', '[data-testid="error-alert"]'], 300000);
      if (j === 1) throw new Error(await text('[data-testid="error-alert"]'));
      assert.equal((await head(dst, "helm/e2e/helm-extra", extraDigest)).status, 404, "deleted after the confirmation");
      assert.equal((await head(dst, "helm/e2e/app", "1")).status, 200, "the image the set still holds stays");
      await click('[data-testid="prune-check"]');
      await find('[data-testid="prune-nothing"]', 180000);
    });
  } finally {
    server.close();
    // Later steps start from the image set they had: no chart (its repository is gone), no
    // blocked pattern, the metadata folder of before.
    await nav("imageset").catch(() => {});
    for (const [card, label] of [
      ["f-mirror-helm-repositories-0", "Remove repository"],
      ["f-mirror-blockedImages-0", "Remove pattern"],
    ]) {
      await exec(
        "const c = document.querySelector(`[data-testid=\"${arguments[0]}\"]`); const b = c && Array.from(c.querySelectorAll('button')).find((x) => x.textContent.trim() === arguments[1]); if (b) b.click(); return !!b;",
        [card, label],
      ).catch(() => {});
      await sleep(300);
    }
    if (storage !== null) await fill("#f-storageConfig-local-path", storage).catch(() => {});
  }
}
