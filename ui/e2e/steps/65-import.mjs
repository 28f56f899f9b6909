// Import in the air gap with a part missing from the media: the app names the missing part and
// offers the fix (copy it back and check again, or pick the folder that holds it) and offers no
// push; once the part is back, "Check again" passes and the import runs to the results.
//
// The media is a copy of the export 10-core wrote (real parts and their sidecar parts list);
// the import goes to a namespace of its own in the second registry (a new target, sequence 1).
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync } from "node:fs";
import assert from "node:assert/strict";
import path from "node:path";
import { env, wd, S, find, click, text, fill, shot, nav, either, step } from "../lib/driver.mjs";

const { dst, image, work } = env;

export default async function importMissingPart() {
  await step("import: a missing part is named with its fix; restored, the import runs to the results", async () => {
    const exported = path.join(work, "media");
    if (!existsSync(exported) || !readdirSync(exported).some((f) => /\.tar$/.test(f)))
      throw new Error(`no export media in ${exported}: 10-core's export step must pass first`);
    const media = path.join(work, "media-missing-part");
    cpSync(exported, media, { recursive: true });
    const part = readdirSync(media)
      .filter((f) => /^mirror_seq\d+_\d{6}\.tar$/.test(f))
      .sort()[0];
    const away = path.join(work, "part-put-away");
    mkdirSync(away, { recursive: true });
    renameSync(path.join(media, part), path.join(away, part));

    await nav("import");
    await fill("#import-folder", media);
    await click('[data-testid="verify-media"]');
    const i = await either(['[data-testid="media-problems"]', '[data-testid="media-ok"]', '[data-testid="error-alert"]'], 30000);
    if (i !== 0) throw new Error(`a missing part was not reported as such: ${await text(i === 1 ? '[data-testid="media-ok"]' : '[data-testid="error-alert"]')}`);
    const problems = await text('[data-testid="media-problems"]');
    assert.ok(problems.includes(`${part} is missing from ${media}`), `the problem names the part and the folder: ${problems}`);
    assert.match(problems, /copy it from the export media into this folder and check again, or pick the folder that holds every part/);
    const table = await text('[data-testid="media-report"] table');
    assert.match(table, new RegExp(`${part.replace(/\./g, "\\.")}.*missing`), `the parts table marks it missing: ${table}`);
    assert.match(await text('[data-testid="check-again"]'), new RegExp(`Check again \\(after copying the part into ${media.replace(/[/.]/g, "\\$&")}\\)`));
    assert.equal(await text('[data-testid="pick-another"]'), "Pick the folder that holds it");
    const push = await wd("POST", S("/elements"), { using: "css selector", value: '[data-testid="start-import"]' });
    assert.equal(push.length, 0, "no push is offered while a part is missing");
    await shot("import-missing-part");

    // The fix the app offers: the part copied back into the folder, then "Check again".
    renameSync(path.join(away, part), path.join(media, part));
    await click('[data-testid="check-again"]');
    await find('[data-testid="media-ok"]', 30000);
    assert.match(await text('[data-testid="media-ok"]'), /^Media complete: sequence 1, 1 part\(s\), 1 image\(s\)/);
    const target = `${dst}/restored`;
    await fill("#import-registry", target);
    await click('[data-testid="start-import"]');
    const j = await either(['[data-testid="import-summary"]', '[data-testid="error-alert"]'], 120000);
    if (j === 1) throw new Error(await text('[data-testid="error-alert"]'));
    assert.match(await text('[data-testid="import-summary"]'), /^Import finished \(sequence 1\): 1 pushed, 0 already there, 0 failed/);
    // The image is really in the target, under the namespace.
    const repo = image.split(":")[0];
    const r = await fetch(`http://${dst}/v2/restored/${repo}/manifests/${image.split(":")[1]}`, {
      method: "HEAD",
      headers: { accept: "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json" },
    });
    assert.equal(r.status, 200, `${target}/${image} is in the registry`);
    await shot("import-missing-part-restored");
    await click('[data-testid="import-summary"] button');
    await find('[data-testid="results-view"]', 20000);
  });
}
