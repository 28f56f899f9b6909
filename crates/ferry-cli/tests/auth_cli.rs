//! `ferry login|logout|auth ...` as a user runs them, each command its own process, secrets in
//! the real kernel keyutils store (the session keyring the test inherits; scripts/test-keyring.sh
//! runs this binary under `keyctl session -` with FERRY_REQUIRE_KEYRING=1). Logins are tested
//! against a real docker-registry with TLS (test CA) and htpasswd.
#![cfg(target_os = "linux")]

use ferry_testkit::{RegistryOpts, RegistryServer};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const FERRY: &str = env!("CARGO_BIN_EXE_ferry");

struct Run {
    out: String,
    err: String,
    ok: bool,
}

/// Every output of the test, to search for secrets at the end.
#[derive(Default)]
struct Transcript(Vec<String>, Option<&'static str>);

impl Transcript {
    fn ferry(&mut self, home: &Path, args: &[&str], stdin: Option<&str>) -> Run {
        let mut c = Command::new(FERRY);
        if test_store() == "keyutils" {
            // Keep the run off any desktop keyring; XDG_RUNTIME_DIR stays for the Secret Service.
            c.env_remove("DBUS_SESSION_BUS_ADDRESS")
                .env("XDG_RUNTIME_DIR", home.join("run"));
        }
        // `.1`: a FERRY_LOG filter (e.g. every crate at trace, keyring and HTTP internals too).
        match self.1 {
            Some(l) => c.env("FERRY_LOG", l),
            None => c.env_remove("FERRY_LOG"),
        };
        c.args(["-v"])
            .args(args)
            .current_dir(home)
            .env("HOME", home)
            .env("FERRY_CONFIG_DIR", home.join("config"))
            .env("FERRY_KEYRING", test_store())
            .env_remove("REGISTRY_AUTH_FILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("run ferry");
        {
            let mut si = child.stdin.take().unwrap();
            if let Some(s) = stdin {
                si.write_all(s.as_bytes()).unwrap();
            }
        }
        let o: Output = child.wait_with_output().unwrap();
        let r = Run {
            out: String::from_utf8_lossy(&o.stdout).into_owned(),
            err: String::from_utf8_lossy(&o.stderr).into_owned(),
            ok: o.status.success(),
        };
        self.0.push(format!("$ ferry {}\n{}{}", args.join(" "), r.out, r.err));
        r
    }
}

/// Standard base64 with padding (what auth files use); small enough to keep this test free of
/// extra dependencies.
fn b64(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in s.as_bytes().chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The store these tests put secrets in: `keyutils` by default; scripts/test-keyring.sh runs
/// them a second time with `FERRY_TEST_KEYRING=secret-service` inside a D-Bus session.
fn test_store() -> String {
    std::env::var("FERRY_TEST_KEYRING").unwrap_or_else(|_| "keyutils".into())
}

fn keyutils_usable() -> bool {
    if test_store() == "secret-service" {
        return std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some();
    }
    // Ask ferry itself: exporting an empty set opens the keyring (and probes it) without
    // storing anything. Some environments show a session keyring but refuse to use it.
    let t = tempfile::tempdir().unwrap();
    Command::new(FERRY)
        .args(["auth", "export", "-o"])
        .arg(t.path().join("probe.json"))
        .env("FERRY_CONFIG_DIR", t.path())
        .env("FERRY_KEYRING", "keyutils")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                v.extend(files_under(&p));
            } else {
                v.push(p);
            }
        }
    }
    v
}

#[test]
fn import_list_login_test_export_logout() {
    if !keyutils_usable() {
        assert!(
            std::env::var_os("FERRY_REQUIRE_KEYRING").is_none(),
            "FERRY_REQUIRE_KEYRING=1 but keyutils has no session keyring"
        );
        eprintln!("skipped: no keyutils session keyring (run scripts/test-keyring.sh)");
        return;
    }
    assert_eq!(b64("user:pw"), "dXNlcjpwdw==");
    let t = tempfile::tempdir().unwrap();
    let home = t.path();
    let mut tr = Transcript::default();
    // Unique names: the session keyring may be shared with other runs.
    let tag = std::process::id();
    let quay = format!("quay-{tag}.example");
    let rh = format!("registry-{tag}.example");
    let ps_pw = format!("PullSecretPw-{tag}-q8");
    let token = format!("IdentityTok-{tag}-z1");
    let mirror_pw = "Mirr0r-Pass-Word!";

    let ps = format!(
        r#"{{"auths":{{"{quay}":{{"auth":"{}","email":"ops@example.com"}},"{rh}":{{"auth":"{}","identitytoken":"{token}"}}}}}}"#,
        b64(&format!("ops+robot:{ps_pw}")),
        b64("tokenuser:x")
    );
    let psfile = home.join("pull-secret.json");
    std::fs::write(&psfile, &ps).unwrap();

    // 1. Import from a file: registries and user names shown, never secrets.
    let r = tr.ferry(home, &["auth", "import", psfile.to_str().unwrap()], None);
    assert!(r.ok, "{}{}", r.out, r.err);
    let store_name = if test_store() == "keyutils" {
        "keyutils"
    } else {
        "Secret Service"
    };
    assert!(
        r.out.contains(&quay) && r.out.contains("ops+robot") && r.out.contains(store_name),
        "{}",
        r.out
    );

    // 2. Pasted text with a bad entry: the entry is named, nothing else changes.
    let bad = format!(
        r#"{{"auths":{{"bad-{tag}.example":{{"auth":"{}"}}}}}}"#,
        b64("no-colon-here")
    );
    let r = tr.ferry(home, &["auth", "import", "-"], Some(&bad));
    assert!(!r.ok);
    assert!(
        r.err.contains(&format!("\"bad-{tag}.example\"")) && r.err.contains("without ':'"),
        "{}",
        r.err
    );
    let r = tr.ferry(home, &["auth", "import"], Some("{\"auths\": {"));
    assert!(!r.ok && r.err.contains("not valid JSON"), "{}", r.err);

    // 3. A later process lists what the first stored.
    let r = tr.ferry(home, &["auth", "list", "--json"], None);
    assert!(r.ok, "{}", r.err);
    let v: serde_json::Value = serde_json::from_str(&r.out).unwrap();
    let keys: Vec<&str> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec![quay.as_str(), rh.as_str()]);
    assert_eq!(v["entries"][1]["kind"], "identity-token");

    // 4. Mirror registry login over TLS with the registry's CA; wrong password first.
    let reg = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some(("mirroruser".into(), mirror_pw.into())),
        delete_enabled: false,
    });
    let host = reg.host();
    let ca = reg.ca_pem_path().unwrap();
    let login = |tr: &mut Transcript, pw: &str, extra: &[&str]| {
        let mut args = vec![
            "login",
            host.as_str(),
            "-u",
            "mirroruser",
            "--password-stdin",
            "--check-push",
        ];
        args.extend_from_slice(extra);
        tr.ferry(home, &args, Some(&format!("{pw}\n")))
    };
    let r = login(&mut tr, "not-the-password", &["--ca-bundle", ca.to_str().unwrap()]);
    assert!(!r.ok);
    assert!(
        r.err.contains("rejected the user name or password") && r.err.contains("nothing saved"),
        "{}",
        r.err
    );
    let r = login(&mut tr, mirror_pw, &[]);
    assert!(!r.ok);
    assert!(
        r.err.contains("TLS failed") && r.err.contains("--ca-bundle"),
        "{}",
        r.err
    );
    let r = login(&mut tr, mirror_pw, &["--ca-bundle", ca.to_str().unwrap()]);
    assert!(r.ok, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("push permitted") && r.out.contains("Saved login mirroruser"),
        "{}",
        r.out
    );

    // 5. The stored login and trust serve `auth test` in a new process.
    let r = tr.ferry(home, &["auth", "test", &host], None);
    assert!(r.ok, "{}{}", r.out, r.err);
    assert!(
        r.out.contains("push permitted") && r.err.contains("keyring"),
        "{}{}",
        r.out,
        r.err
    );

    // 6. Export: 0600, holds all three credentials.
    let out = home.join("export/auth.json");
    let r = tr.ferry(home, &["auth", "export", "-o", out.to_str().unwrap()], None);
    assert!(r.ok, "{}", r.err);
    assert!(
        r.out.contains(out.to_str().unwrap()) && r.out.contains("0600"),
        "{}",
        r.out
    );
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["auths"][&host]["auth"], b64(&format!("mirroruser:{mirror_pw}")));
    assert_eq!(v["auths"][&rh]["identitytoken"], token.as_str());
    assert_eq!(v["auths"][&quay]["email"], "ops@example.com");
    std::fs::remove_file(&out).unwrap();

    // 7. Nothing secret in clear (or base64) anywhere in Ferry's config folder.
    let needles = [
        ps_pw.clone(),
        token.clone(),
        mirror_pw.to_string(),
        b64(&format!("ops+robot:{ps_pw}")),
        b64(&format!("mirroruser:{mirror_pw}")),
    ];
    for f in files_under(&home.join("config")) {
        let body = std::fs::read_to_string(&f).unwrap_or_default();
        for n in &needles {
            assert!(!body.contains(n.as_str()), "{} holds a secret", f.display());
        }
    }

    // 8. Logout removes keyring secret and index entry; the others stay.
    for k in [host.as_str(), quay.as_str(), rh.as_str()] {
        let r = tr.ferry(home, &["logout", k], None);
        assert!(r.ok && r.out.contains("Removed"), "{}{}", r.out, r.err);
    }
    let r = tr.ferry(home, &["auth", "list"], None);
    assert!(r.out.contains("No credentials stored"), "{}", r.out);
    let r = tr.ferry(home, &["logout", &host], None);
    assert!(r.ok && r.out.contains("No login stored"), "{}", r.out);

    // 9. No secret in any output of any command (all run with -v).
    for entry in &tr.0 {
        for n in &needles {
            assert!(!entry.contains(n.as_str()), "secret leaked in output of:\n{entry}");
        }
    }
}

/// The "done when" of the credentials issue: a pull secret imported once (plus stored trust)
/// serves a later mirror run with no --authfile and no TLS flags, nothing secret on disk in
/// clear, nothing secret in the run's output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_pull_secret_and_trust_serve_a_later_mirror_run() {
    if !keyutils_usable() {
        assert!(
            std::env::var_os("FERRY_REQUIRE_KEYRING").is_none(),
            "FERRY_REQUIRE_KEYRING=1 but keyutils has no session keyring"
        );
        eprintln!("skipped: no keyutils session keyring (run scripts/test-keyring.sh)");
        return;
    }
    let src_pw = "Src-Keyring-Pw-5521";
    let dst_pw = "Dst-Keyring-Pw-9034";
    let src = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some(("src-user".into(), src_pw.into())),
        delete_enabled: false,
    });
    let dst = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some(("dst-user".into(), dst_pw.into())),
        delete_enabled: false,
    });
    let img = ferry_testkit::push_image(
        &src,
        "ps/app",
        "3",
        &ferry_testkit::ImageSpec {
            format: ferry_testkit::ImageFormat::DockerV2S2,
            layers: vec![ferry_testkit::LayerSpec { size: 100_000, seed: 9 }],
            platforms: vec![],
        },
    )
    .await;
    let t = tempfile::tempdir().unwrap();
    let home = t.path().to_path_buf();
    let ps = format!(
        r#"{{"auths":{{"{}":{{"auth":"{}"}},"{}":{{"auth":"{}"}}}}}}"#,
        src.host(),
        b64(&format!("src-user:{src_pw}")),
        dst.host(),
        b64(&format!("dst-user:{dst_pw}"))
    );
    std::fs::write(
        home.join("isc.yaml"),
        format!(
            "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror:\n  additionalImages:\n  - name: {}/ps/app:3\n",
            src.host()
        ),
    )
    .unwrap();
    let (src_host, dst_host) = (src.host(), dst.host());
    let (src_ca, dst_ca) = (src.ca_pem_path().unwrap(), dst.ca_pem_path().unwrap());
    let dest = format!("docker://{dst_host}/mirror");
    let tr = tokio::task::spawn_blocking(move || {
        let mut tr = Transcript::default();
        let r = tr.ferry(&home, &["auth", "import"], Some(&ps));
        assert!(r.ok, "{}{}", r.out, r.err);
        for (h, ca) in [(&src_host, &src_ca), (&dst_host, &dst_ca)] {
            let r = tr.ferry(&home, &["auth", "trust", h, "--ca-bundle", ca.to_str().unwrap()], None);
            assert!(r.ok, "{}{}", r.out, r.err);
        }
        tr.1 = Some("trace");
        let r = tr.ferry(&home, &["-v", "mirror", "--config", "isc.yaml", &dest], None);
        tr.1 = None;
        assert!(r.ok, "{}{}", r.out, r.err);
        assert!(r.out.contains("mirrored 1 images"), "{}", r.out);
        assert!(
            r.err.contains("from OS keyring"),
            "the keyring served the run: {}",
            r.err
        );
        for h in [&src_host, &dst_host] {
            assert!(tr.ferry(&home, &["logout", h], None).ok);
        }
        let mut files = files_under(&home);
        files.retain(|f| f.file_name().is_some_and(|n| n != "isc.yaml"));
        (tr, files)
    })
    .await
    .unwrap();
    assert_eq!(
        ferry_testkit::manifest_digest(&dst, "mirror/ps/app", "3").await,
        Some(img.digest)
    );
    let needles = [
        src_pw.to_string(),
        dst_pw.to_string(),
        b64(&format!("src-user:{src_pw}")),
        b64(&format!("dst-user:{dst_pw}")),
    ];
    for entry in &tr.0 .0 {
        for n in &needles {
            assert!(!entry.contains(n.as_str()), "secret leaked in output of:\n{entry}");
        }
    }
    for f in &tr.1 {
        let body = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        for n in &needles {
            assert!(!body.contains(n.as_str()), "secret in {}", f.display());
        }
    }
}
