// Credentials in the real window: the Red Hat pull secret imported from a file and by paste
// (secrets into a real Secret Service keyring on the test's session bus), and a mirror-registry
// login tested against a real TLS + htpasswd docker-registry: wrong password, untrusted
// certificate, then fixed. scripts/test-desktop-e2e.sh starts that registry and passes
// MIRROR_TLS_ADDR, MIRROR_TLS_CA, MIRROR_TLS_USER and MIRROR_TLS_PASSWORD.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import assert from "node:assert/strict";
import path from "node:path";
import { env, wd, S, find, findByText, text, shot, nav, either, step, sleep } from "../lib/driver.mjs";

const tls = {
  addr: process.env.MIRROR_TLS_ADDR,
  ca: process.env.MIRROR_TLS_CA,
  user: process.env.MIRROR_TLS_USER,
  password: process.env.MIRROR_TLS_PASSWORD,
};

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
  // Typing fires the input events React listens to; an empty value is a typed space taken back.
  await wd("POST", S(`/element/${el}/value`), { text: value === "" ? " \uE003" : value });
}
/** Text of an element whether or not it is scrolled into view. */
async function content(css) {
  return wd("POST", S("/execute/sync"), { script: "return document.querySelector(arguments[0])?.textContent ?? ''", args: [css] });
}

function pullSecret(hosts) {
  const auths = {};
  for (const h of hosts) auths[h] = { auth: Buffer.from(`e2e-${h.split(".")[0]}:token-${h.length}`).toString("base64"), email: "e2e@example.com" };
  return JSON.stringify({ auths });
}

/** The Secret Service the app stores secrets in: gnome-keyring on this session bus, unlocked.
 *  --replace: the bus may have started one already (D-Bus activation) without a login keyring. */
function startKeyring() {
  const runtime = path.join(env.work, "runtime");
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const out = execFileSync("sh", ["-c", "printf ferry-e2e-pw | gnome-keyring-daemon --replace --unlock --components=secrets"], {
    env: { ...process.env, XDG_RUNTIME_DIR: runtime },
    encoding: "utf8",
  });
  return out;
}

async function loginMessage() {
  const i = await either(['[data-testid="cred-message"]', '[data-testid="error-alert"]'], 60000);
  if (i === 0) return { ok: true, text: await text('[data-testid="cred-message"]') };
  const el = await find('[data-testid="error-alert"]');
  return { ok: false, code: await wd("GET", S(`/element/${el}/attribute/data-code`)), text: await wd("GET", S(`/element/${el}/text`)) };
}

async function setTrust(registry, ca) {
  await fill("#login-registry", registry);
  await fill("#ca-bundle", ca);
  await click('[data-testid="save-trust"]');
  await findByText('[data-testid="cred-message"]', `Trust settings saved for ${registry}`);
}

export default async function credentials() {
  await step("credentials: a Secret Service keyring runs on the test's session bus", async () => {
    startKeyring();
  });

  await step("credentials: the Red Hat pull secret imported from a file", async () => {
    await nav("credentials");
    const file = path.join(env.work, "pull-secret.json");
    writeFileSync(file, pullSecret(["cloud.openshift.com", "registry.redhat.io"]), { mode: 0o600 });
    // The file input behind "Browse…" takes the path (a WebDriver file upload).
    const input = await find('#pull-secret-browse-input, input[type="file"]');
    await wd("POST", S("/execute/sync"), {
      script: "const i = document.querySelector('input[type=file]'); i.style.display = 'block'; i.removeAttribute('hidden');",
      args: [],
    });
    await wd("POST", S(`/element/${input}/value`), { text: file });
    // The window reads the file itself (FileReader); wait until its text is in the box.
    const box = await find("#pull-secret");
    for (let i = 0; i < 50 && !(await wd("GET", S(`/element/${box}/property/value`))); i++) await sleep(200);
    assert.match(await wd("GET", S(`/element/${box}/property/value`)), /"auths"/, "the file's text reached the window");
    await click('[data-testid="import-secret"]');
    const m = await loginMessage();
    assert.ok(m.ok, `import failed: ${m.text}`);
    assert.match(m.text, /Imported 2 registries: .*cloud\.openshift\.com/);
    assert.match(m.text, /registry\.redhat\.io/);
    const table = await content('table[aria-label="Known logins"]');
    assert.match(table, /registry\.redhat\.io\s*e2e-registry/);
    await shot("credentials-pull-secret-file");
  });

  await step("credentials: a pull secret pasted into the text box", async () => {
    // The file upload's Clear empties the box (a WebDriver clear does not reach React's state).
    await wd("POST", S(`/element/${await findByText(".pf-v6-c-file-upload button", "Clear")}/click`), {});
    await fill("#pull-secret", pullSecret(["quay.io"]));
    await click('[data-testid="import-secret"]');
    const m = await loginMessage();
    assert.ok(m.ok, `paste import failed: ${m.text}`);
    assert.equal(m.text, "Imported 1 registry: quay.io");
    assert.match(await content('table[aria-label="Known logins"]'), /quay\.io\s*e2e-quay/);
    await shot("credentials-pull-secret-paste");
  });

  if (!tls.addr) {
    await step("credentials: mirror registry login (no TLS registry started)", async () => "skipped");
    return;
  }

  await step("credentials: mirror login with a wrong password is refused with what to do", async () => {
    await setTrust(tls.addr, tls.ca);
    await fill("#login-user", tls.user);
    await fill("#login-password", "wrong-password");
    await click('[data-testid="add-login"]');
    await findByText('[data-testid="cred-message"]', `Saved the login for ${tls.addr}`);
    await click('[data-testid="test-login"]');
    const m = await loginMessage();
    assert.equal(m.ok, false, `a wrong password was accepted: ${m.text}`);
    assert.equal(m.code, "unauthorized", m.text);
    assert.match(m.text, /Check the user name and password/);
    await shot("credentials-login-wrong-password");
  });

  await step("credentials: an untrusted certificate is named and the CA setting offered", async () => {
    await fill("#login-registry", tls.addr);
    await fill("#login-user", tls.user);
    await fill("#login-password", tls.password);
    await click('[data-testid="add-login"]');
    await findByText('[data-testid="cred-message"]', `Saved the login for ${tls.addr}`);
    await setTrust(tls.addr, "");
    await click('[data-testid="test-login"]');
    const m = await loginMessage();
    assert.equal(m.ok, false, `an untrusted certificate was accepted: ${m.text}`);
    assert.equal(m.code, "tls", m.text);
    assert.match(m.text, /CA/);
    await shot("credentials-login-untrusted");
  });

  await step("credentials: with the CA trusted and the right password the login and push test pass", async () => {
    await setTrust(tls.addr, tls.ca);
    await click('[data-testid="test-login"]');
    const m = await loginMessage();
    assert.ok(m.ok, `the fixed login failed: ${m.text}`);
    assert.match(m.text, new RegExp(`${tls.addr.replace(/[.:]/g, "\\$&")}: login accepted and push permitted`));
    await shot("credentials-login-ok");
  });
}
