// Releases in the image-set editor, in the real window: a node:http update service serving the
// real Cincinnati graphs of the shared fixtures on GRAPH_PORT (scripts/test-desktop-e2e.sh
// exports UPDATE_URL_OVERRIDE=http://127.0.0.1:$GRAPH_PORT/graph into the app's environment,
// which the engine reads as oc-mirror does). The step picks the channel from the channel list,
// the versions from the pickers, and checks the upgrade path the engine drew.
//
// Not here: a release dry run or mirror in the window. It needs a release image in a registry;
// tests/tests/release_support builds one in Rust (tests/tests/app_release.rs plans it through
// the app's dry-run function), which a node step cannot easily do.
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { wd, S, find, findByText, click, fill, shot, nav, step, sleep, text, YAML_TEXT } from "../lib/driver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = process.env.FERRY_FIXTURES ?? path.resolve(here, "../../../../shared/fixtures");
const GRAPHS = {
  "stable-4.13/amd64": "cincinnati/oc-mirror/tests/unit/testdata/working-dir-fake/hold-release/cincinnati-graph-data/amd64-stable-4.13.json",
  "stable-4.9/amd64": "cincinnati/cincinnati/e2e/tests/testdata/134475077ed4eeaedf3c339f12915b9cdaf7d194_stable-4.9_amd64_v1.json",
  "stable-4.9/s390x": "cincinnati/cincinnati/e2e/tests/testdata/134475077ed4eeaedf3c339f12915b9cdaf7d194_stable-4.9_s390x_v1.json",
};
const EMPTY = JSON.stringify({ version: 1, nodes: [], edges: [], conditionalEdges: [] });

function startGraphServer(port, queries) {
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, "http://127.0.0.1");
    queries.push(u.search);
    const file = GRAPHS[`${u.searchParams.get("channel")}/${u.searchParams.get("arch")}`];
    // Cincinnati answers a channel it does not know with an empty graph.
    const body = file ? readFileSync(path.join(fixtures, file)) : EMPTY;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

const exec = (script, args = []) => wd("POST", S("/execute/sync"), { script, args });
/** Picks an option of a <select> the way a user does (WebDriver clicks the option). */
async function choose(selectCss, value) {
  await click(`${selectCss} option[value="${value}"]`);
  await sleep(400);
}
const optionValues = (css) =>
  exec(`return Array.from(document.querySelectorAll(arguments[0] + ' option')).map((o) => o.value).filter((v) => v)`, [css]);

export default async function release() {
  const port = Number(process.env.GRAPH_PORT);
  const override = process.env.UPDATE_URL_OVERRIDE;
  if (!port || !override) {
    await step("release pickers (GRAPH_PORT and UPDATE_URL_OVERRIDE from scripts/test-desktop-e2e.sh)", async () => "skipped");
    return;
  }
  if (!existsSync(path.join(fixtures, GRAPHS["stable-4.13/amd64"]))) {
    if (process.env.CI === "true") throw new Error(`fixtures not found at ${fixtures} and CI=true (set FERRY_FIXTURES)`);
    await step("release pickers (no shared fixtures on this machine)", async () => "skipped");
    return;
  }
  const queries = [];
  const server = await startGraphServer(port, queries);
  try {
    await step("release editor: channel from the live channel list, architectures as checkboxes", async () => {
      await nav("imageset");
      const hasEntry = await exec(`return !!document.querySelector('#rel-channel-name')`);
      if (!hasEntry) await click('[data-testid="rel-add-channel"]');
      await fill("#rel-minor", "4.13");
      await click('[data-testid="rel-list-channels"]');
      await find("#rel-channel-list");
      const channels = await optionValues("#rel-channel-list");
      // The channel list is the union of the 4.13 nodes' channel metadata in the real graph.
      assert.ok(channels.includes("stable-4.13") && channels.includes("eus-4.14"), `channels offered: ${channels}`);
      await choose("#rel-channel-list", "stable-4.13");
      assert.equal(await wd("GET", S(`/element/${await find("#rel-channel-name")}/property/value`)), "stable-4.13");
      await click("#rel-arch-s390x");
      await sleep(400);
      const yaml = await exec(YAML_TEXT);
      assert.match(yaml, /name: "?stable-4\.13"?/);
      assert.match(yaml, /architectures:\s*\n\s*- amd64\s*\n\s*- s390x/);
      // One architecture is enough for the rest of the steps.
      await click("#rel-arch-s390x");
      await sleep(300);
      assert.doesNotMatch(await exec(YAML_TEXT), /s390x/);
    });

    await step("release editor: min/max from the channel's versions, the engine's shortest path drawn", async () => {
      await click('[data-testid="rel-load-graph"]');
      await find('[data-testid="release-graph"] svg', 30000);
      // Heads-only first: the head of the channel alone.
      await findByText('[data-testid="rel-selected-versions"]', "4.13.43");
      await choose("#rel-min", "4.12.48");
      await findByText('[data-testid="rel-selection"]', "4.12.48 → 4.13.43");
      // Only valid pairs: nothing below the chosen minimum is offered as maximum.
      const maxes = await optionValues("#rel-max");
      assert.ok(!maxes.includes("4.12.47") && maxes.includes("4.12.48") && maxes.includes("4.13.43"), `max choices ${maxes}`);
      await choose("#rel-max", "4.13.37");
      const mins = await optionValues("#rel-min");
      assert.ok(!mins.includes("4.13.38") && mins.includes("4.12.0"), `min choices ${mins}`);
      await click("#rel-shortest");
      await findByText('[data-testid="rel-selection"]', "shortest upgrade path 4.12.48 → 4.13.37");
      const yaml = await exec(YAML_TEXT);
      assert.match(yaml, /minVersion: 4\.12\.48/);
      assert.match(yaml, /maxVersion: 4\.13\.37/);
      assert.match(yaml, /shortestPath: true/);
      await shot("release-editor");
    });

    await step("release graph: the path's edges follow the engine's selection; risks dashed and named", async () => {
      const versions = (await text('[data-testid="rel-selected-versions"]')).split(" → ");
      assert.equal(versions[0], "4.12.48");
      assert.equal(versions.at(-1), "4.13.37");
      const drawn = await exec(
        `return Array.from(document.querySelectorAll('.path-edge')).map((p) => p.getAttribute('data-from') + '>' + p.getAttribute('data-to'))`,
      );
      const expected = versions.slice(1).map((v, k) => `${versions[k]}>${v}`);
      assert.deepEqual([...drawn].sort(), [...expected].sort());
      const selected = await exec(`return Array.from(document.querySelectorAll('.graph-node[data-selected="true"]')).map((g) => g.getAttribute('data-version'))`);
      assert.deepEqual([...selected].sort(), [...versions].sort());
      const risks = await exec(`return document.querySelectorAll('.risk-edge').length`);
      assert.ok(risks > 0, "the range 4.12.48..4.13.37 holds conditional edges in the real graph");
      assert.equal(await exec(`return document.querySelector('.risk-edge').getAttribute('stroke-dasharray')`), "5 4");
      // The risks are listed (collapsed) with their names and links.
      const risksText = await exec(`return document.querySelector('[data-testid="release-risks"]').textContent`);
      assert.match(risksText, /AcceleratedNetworkingRace/);
      await exec(`document.querySelector('[data-testid="release-graph"] svg').scrollIntoView({ block: "center" })`);
      await sleep(300);
      await shot("release-graph");
      // Every request set channel, arch and id once (the engine's query building).
      for (const q of queries) assert.equal((q.match(/channel=/g) ?? []).length, 1, q);
    });

    await step("release editor: a version outside the channel is the engine's error, graph kept", async () => {
      await fill("#rel-channel-name", "stable-4.9");
      // The stable-4.9 graph loads; the 4.12/4.13 versions are refused by the engine's selection.
      await findByText('[data-testid="rel-selection"]', "minVersion 4.12.48 is not in channel stable-4.9", 30000);
      assert.equal(await exec(`return document.querySelectorAll('.graph-node').length > 0`), true);
      await fill("#rel-channel-name", "stable-4.13");
      await findByText('[data-testid="rel-selection"]', "shortest upgrade path 4.12.48 → 4.13.37");
    });
  } finally {
    await new Promise((r) => server.close(r));
  }
}
