// Long runs that survive the laptop: an export killed mid-way (SIGKILL of the app process) and
// resumed after the app is started again, with the progress of the resumed run starting from what
// was already on the media; the end-of-run notification read from a notification daemon on the
// test's own session bus; "no room on the destination" on a small tmpfs the test mounts.
//
// The export must be slow enough to kill mid-way: the image (six random 3 MiB layers, pushed here
// to the source registry) is pulled through a loopback proxy that throttles blob bodies to
// 2 MiB/s, one blob at a time.
import { spawn, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, statSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { gzipSync } from "node:zlib";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { env, wd, S, find, findByText, click, text, fill, shot, nav, either, step, sleep, newSession, endSession } from "../lib/driver.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const { src, work } = env;
const MiB = 1024 * 1024;
const LAYERS = 6;
const LAYER_BYTES = 3 * MiB;
const RATE = 2 * MiB; // bytes per second through the proxy, one blob at a time

const sha = (b) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Pushes a real image (random layers, OCI manifest) to the source registry over the V2 API. */
async function pushBigImage(repo, tag) {
  const put = async (data) => {
    const digest = sha(data);
    const start = await fetch(`http://${src}/v2/${repo}/blobs/uploads/`, { method: "POST" });
    assert.equal(start.status, 202, `upload start: ${start.status}`);
    const loc = new URL(start.headers.get("location"), `http://${src}`);
    loc.searchParams.set("digest", digest);
    const done = await fetch(loc, { method: "PUT", body: data, headers: { "content-type": "application/octet-stream" } });
    assert.equal(done.status, 201, `blob ${digest}: ${done.status}`);
    return { digest, size: data.length };
  };
  const layers = [];
  const diffIds = [];
  for (let i = 0; i < LAYERS; i++) {
    // Random bytes do not compress: the layer is as large on the media as it is here.
    const raw = randomBytes(LAYER_BYTES);
    diffIds.push(sha(raw));
    layers.push(await put(gzipSync(raw, { level: 1 })));
  }
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: diffIds } }));
  const c = await put(config);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...c },
    layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...l })),
  });
  const r = await fetch(`http://${src}/v2/${repo}/manifests/${tag}`, {
    method: "PUT",
    body: manifest,
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
  });
  assert.equal(r.status, 201, `manifest: ${r.status}`);
  return layers.reduce((n, l) => n + l.size, 0);
}

/**
 * A loopback proxy to the source registry that throttles blob bodies. Blobs go one at a time
 * (a single lane at RATE): the export's spool appends a blob to the part when it is complete, so
 * blobs finishing one after another make the part grow step by step and a kill lands mid-way.
 */
async function startThrottle() {
  let lane = Promise.resolve();
  const server = http.createServer((req, res) => {
    const [host, port] = src.split(":");
    const up = http.request({ host, port, method: req.method, path: req.url, headers: { ...req.headers, host: src } }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      if (!/\/blobs\/sha256:/.test(req.url) || req.method !== "GET") return ur.pipe(res);
      ur.pause();
      lane = lane.then(
        () =>
          new Promise((done) => {
            // A client gone while queued (the killed app) frees the lane at once.
            if (res.destroyed || res.writableEnded) {
              ur.destroy();
              return done();
            }
            let nextFree = Date.now();
            ur.on("data", (chunk) => {
              ur.pause();
              const now = Date.now();
              nextFree = Math.max(nextFree, now) + (chunk.length / RATE) * 1000;
              setTimeout(() => {
                if (!res.destroyed) res.write(chunk);
                ur.resume();
              }, nextFree - now);
            });
            ur.on("end", () =>
              setTimeout(() => {
                res.end();
                done();
              }, Math.max(0, nextFree - Date.now())),
            );
            ur.on("error", done);
            res.on("close", done);
            ur.resume();
          }),
      );
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  // Sockets of the killed app must not keep the proxy from closing.
  const sockets = new Set();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return {
    addr: `127.0.0.1:${server.address().port}`,
    stop: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(r);
    }),
  };
}

/** The notification daemon on the suite's session bus (dbus-run-session): logs every Notify. */
async function startNotifyServer(log) {
  const p = spawn("/usr/bin/python3", [path.join(here, "..", "runs-notify-server.py"), log], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("the test notification daemon did not start")), 10000);
    p.stdout.on("data", (d) => d.toString().includes("ready") && (clearTimeout(t), resolve()));
    p.on("exit", (code) => reject(new Error(`the test notification daemon exited (${code}): is python3-dbus installed?`)));
  });
  return p;
}
const notifications = (log) =>
  existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
async function waitNotification(log, pred, timeout = 20000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    const n = notifications(log).find(pred);
    if (n) return n;
    await sleep(200);
  }
  throw new Error(`no matching notification within ${timeout} ms; got ${JSON.stringify(notifications(log))}`);
}

/**
 * The PID of this suite's app: the live process running the built binary with this suite's HOME
 * (other checkouts' suites may run the same binary at the same time).
 */
function appPid() {
  const want = realpathSync(env.app);
  const home = `HOME=${process.env.HOME}`;
  const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      return (
        // "(deleted)": another checkout's build replaced the binary while this app runs.
        readlinkSync(`/proc/${d}/exe`).replace(/ \(deleted\)$/, "") === want &&
        !/\) Z /.test(readFileSync(`/proc/${d}/stat`, "utf8")) &&
        readFileSync(`/proc/${d}/environ`, "utf8").split("\0").includes(home)
      );
    } catch {
      return false;
    }
  });
  assert.equal(pids.length, 1, `exactly one app process runs (found ${pids.join(", ") || "none"})`);
  return Number(pids[0]);
}

const partsBytes = (dir) =>
  readdirSync(dir).filter((f) => /\.tar$/.test(f)).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
const UNIT = { B: 1, KiB: 1024, MiB: MiB, GiB: 1024 * MiB };
async function progressBytes() {
  const t = await text('[data-testid="job-progress"]').catch(() => "");
  const m = t.match(/([\d.]+) (B|KiB|MiB|GiB) of ([\d.]+) (B|KiB|MiB|GiB)/);
  return m ? { done: Number(m[1]) * UNIT[m[2]], total: Number(m[3]) * UNIT[m[4]] } : null;
}

async function trustPlainHttp(reg) {
  await nav("credentials");
  await fill("#login-registry", reg);
  const box = await find("#plain-http");
  if (!(await wd("GET", S(`/element/${box}/selected`)))) await wd("POST", S(`/element/${box}/click`), {});
  await click('[data-testid="save-trust"]');
  await findByText('[data-testid="cred-message"]', `Trust settings saved for ${reg}`);
}
/** Sets a form field and checks it holds exactly the value (a failed clear would append). */
async function setField(css, value) {
  await fill(css, value).catch(async () => {
    // Not clearable: select everything and type over it.
    const el = await find(css);
    await wd("POST", S(`/element/${el}/click`), {});
    await wd("POST", S(`/element/${el}/value`), { text: "\uE009a\uE000" + value });
  });
  const el = await find(css);
  const got = await wd("GET", S(`/element/${el}/property/value`));
  assert.equal(got, value, `${css} holds what was typed`);
}
async function imageSet(metadata, image) {
  await nav("imageset");
  await setField("#f-storageConfig-local-path", metadata);
  await setField("#f-mirror-additionalImages-0-name", image);
  await sleep(500);
}

export default async function runs() {
  const log = path.join(work, "notifications.jsonl");
  const notifier = await startNotifyServer(log);
  const proxy = await startThrottle();
  const media = path.join(work, "media-runs");
  mkdirSync(media, { recursive: true });
  let total = 0;
  try {
    await step("runs: a slow export is killed with the app and resumed after a restart", async () => {
      total = await pushBigImage("e2e/big", "1");
      await trustPlainHttp(proxy.addr);
      await imageSet(path.join(work, "metadata-runs"), `${proxy.addr}/e2e/big:1`);
      await nav("export");
      await setField("#export-folder", media);
      await click('[data-testid="start-export"]');
      // Kill once at least two layers are complete on the media (and the run is far from done).
      const end = Date.now() + 120000;
      while (partsBytes(media) < 2.2 * LAYER_BYTES) {
        if (Date.now() > end) throw new Error(`the export wrote only ${partsBytes(media)} bytes in 120 s`);
        if ((await wd("POST", S("/elements"), { using: "css selector", value: '[data-testid="export-summary"]' })).length)
          throw new Error("the export finished before it could be killed (the throttle did not hold it)");
        await sleep(200);
      }
      await shot("runs-export-running");
      const before = partsBytes(media);
      assert.ok(before < total, `killed mid-way (${before} of ${total} bytes)`);
      process.kill(appPid(), "SIGKILL");
      await endSession();
      await newSession();
      await nav("export");
      const offer = await find('[data-testid="resumable"]', 20000);
      const offerText = await wd("GET", S(`/element/${offer}/text`));
      assert.match(offerText, new RegExp(media.replace(/[.\\/]/g, "\\$&")));
      // The offer shows what is on the media, not a placeholder.
      const m = offerText.match(/: ([\d.]+) (B|KiB|MiB|GiB) so far/);
      assert.ok(m && Number(m[1]) * UNIT[m[2]] >= 0.9 * before, `the offer shows the bytes on the media (${before}): ${offerText}`);
      await shot("runs-resume-offer");
      await click('[data-testid="resumable"] button');
      // The first figures of the resumed run already count the layers on the media.
      let first = null;
      const t0 = Date.now();
      while (!first && Date.now() - t0 < 15000) {
        first = await progressBytes();
        if (!first || first.done === 0) first = null;
        await sleep(100);
      }
      const resumedAfter = (Date.now() - t0) / 1000;
      assert.ok(first, "the resumed run shows progress");
      // Layers complete before the kill (a gzip layer of random bytes is a little over 3 MiB).
      const completeBefore = Math.floor(before / (LAYER_BYTES + 65536)) * LAYER_BYTES;
      // A run starting from zero could not show more than the throttle let through by then.
      const fromZero = RATE * (resumedAfter + 0.5);
      assert.ok(
        first.done >= completeBefore && first.done > fromZero,
        `resumed progress starts from what is done: ${first.done} bytes shown ${resumedAfter.toFixed(1)} s after resume; ` +
          `${before} bytes on the media before the kill (${completeBefore} in complete layers)`,
      );
      console.log(
        `runs: killed with ${before} of ${total} bytes on the media; the resumed run showed ${first.done} bytes done ${resumedAfter.toFixed(1)} s after Resume`,
      );
      const i = await either(['[data-testid="export-summary"]', '[data-testid="error-alert"]'], 180000);
      await shot("runs-resumed-finished");
      if (i === 1) throw new Error(await text('[data-testid="error-alert"]'));
      assert.match(await text('[data-testid="export-summary"]'), /\b1 images? copied/);
      const offers = await wd("POST", S("/elements"), { using: "css selector", value: '[data-testid="resumable"]' });
      assert.equal(offers.length, 0, "no resume offer once the export finished");
    });

    await step("runs: the end of the run is a desktop notification", async () => {
      const n = await waitNotification(log, (x) => x.summary === "Export finished" && x.body.includes(media));
      assert.match(n.body, new RegExp(`^1 image to ${media.replace(/[.\\/]/g, "\\$&")}, [\\d.]+ MiB written$`));
    });

    await step("runs: no room on the destination is said before anything is written", async () => {
      const small = path.join(work, "small-drive");
      mkdirSync(small, { recursive: true });
      const sudo = process.getuid() === 0 ? [] : ["sudo", "-n"];
      const run = (args) => execFileSync(sudo[0] ?? args[0], sudo.length ? [...sudo.slice(1), ...args] : args.slice(1), { stdio: "pipe" });
      run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small]);
      try {
        await imageSet(path.join(work, "metadata-small"), `${src}/e2e/big:1`);
        await nav("export");
        await setField("#export-folder", small);
        await click('[data-testid="start-export"]');
        const i = await either(['[data-testid="error-alert"]', '[data-testid="export-summary"]'], 60000);
        await shot("runs-no-room");
        assert.equal(i, 0, "the export to a 4 MiB drive is refused");
        const alert = await find('[data-testid="error-alert"]');
        assert.equal(await wd("GET", S(`/element/${alert}/attribute/data-code`)), "no-space");
        const msg = await wd("GET", S(`/element/${alert}/text`));
        assert.ok(msg.includes(small), `the message names the drive: ${msg}`);
        await findByText('[data-testid="error-alert"] button', "Pick another folder");
        const parts = readdirSync(small).filter((f) => /\.tar$/.test(f));
        assert.deepEqual(parts, [], "nothing half-written is left on the small drive");
        await waitNotification(log, (x) => x.summary === "Export failed" && x.body.includes(small));
      } finally {
        run(["umount", small]);
      }
    });
  } finally {
    await proxy.stop();
    notifier.kill("SIGTERM");
  }
}
