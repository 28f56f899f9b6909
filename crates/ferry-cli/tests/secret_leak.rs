//! Secrets stay secret: a real mirror run between two TLS + htpasswd registries with real
//! credentials, at Ferry's most verbose level and with every dependency's trace log on, then a
//! search of every output line and every file the run wrote for the passwords (in clear and as
//! they travel: base64 `user:password`). A failing login is checked the same way.

use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::path::{Path, PathBuf};
use std::process::Command;

const FERRY: &str = env!("CARGO_BIN_EXE_ferry");
const SRC_PW: &str = "Src-S3cret-Pa55word-7781";
const DST_PW: &str = "Dst-S3cret-Pa55word-4410";

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

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            v.extend(files_under(&p));
        } else {
            v.push(p);
        }
    }
    v
}

fn run(cwd: &Path, args: &[String], log: Option<&str>) -> (bool, String) {
    let mut c = Command::new(FERRY);
    c.args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env("FERRY_CONFIG_DIR", cwd.join("config"))
        .env("XDG_RUNTIME_DIR", cwd.join("run"))
        .env_remove("REGISTRY_AUTH_FILE");
    match log {
        Some(l) => c.env("FERRY_LOG", l),
        None => c.env_remove("FERRY_LOG"),
    };
    let o = c.output().expect("run ferry");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirror_run_never_shows_a_credential() {
    let src = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some(("src-user".into(), SRC_PW.into())),
        delete_enabled: false,
    });
    let dst = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some(("dst-user".into(), DST_PW.into())),
        delete_enabled: false,
    });
    let img = push_image(
        &src,
        "leak/app",
        "1.0",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![
                LayerSpec { size: 300_000, seed: 5 },
                LayerSpec { size: 50_000, seed: 6 },
            ],
            platforms: vec![],
        },
    )
    .await;

    let t = tempfile::tempdir().unwrap();
    let work = t.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    // The auth file and CA bundle live outside the folder that is searched afterwards.
    let auth = t.path().join("auth.json");
    std::fs::write(
        &auth,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{}"}},"{}":{{"auth":"{}"}}}}}}"#,
            src.host(),
            b64(&format!("src-user:{SRC_PW}")),
            dst.host(),
            b64(&format!("dst-user:{DST_PW}"))
        ),
    )
    .unwrap();
    let bundle = t.path().join("cas.pem");
    let cas = format!(
        "{}{}",
        std::fs::read_to_string(src.ca_pem_path().unwrap()).unwrap(),
        std::fs::read_to_string(dst.ca_pem_path().unwrap()).unwrap()
    );
    std::fs::write(&bundle, cas).unwrap();
    std::fs::write(
        work.join("isc.yaml"),
        format!(
            "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror:\n  additionalImages:\n  - name: {}/leak/app:1.0\n",
            src.host()
        ),
    )
    .unwrap();
    let args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = vec!["-vv".into(), "mirror".into(), "--config".into(), "isc.yaml".into()];
        v.extend(["--authfile".into(), auth.display().to_string()]);
        v.extend(["--ca-bundle".into(), bundle.display().to_string()]);
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push(format!("docker://{}/mirror", dst.host()));
        v
    };

    let mut transcripts = Vec::new();
    // Ferry's own trace level, then every crate's trace log (HTTP client internals included).
    for log in [None, Some("trace")] {
        let work = work.clone();
        let a = args(&[]);
        let (ok, out) = tokio::task::spawn_blocking(move || run(&work, &a, log)).await.unwrap();
        assert!(ok, "{out}");
        assert!(out.contains("using credentials for"), "the run authenticated: {out}");
        transcripts.push(out);
    }
    assert_eq!(manifest_digest(&dst, "mirror/leak/app", "1.0").await, Some(img.digest));

    // A rejected credential: the error names the registry and the file, never the secret.
    let wrong = t.path().join("wrong.json");
    std::fs::write(
        &wrong,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"{}"}}}}}}"#,
            src.host(),
            b64("src-user:Wrong-Guess-991")
        ),
    )
    .unwrap();
    let mut a = args(&[]);
    let i = a.iter().position(|s| s == "--authfile").unwrap();
    a[i + 1] = wrong.display().to_string();
    let (ok, out) = {
        let work = work.clone();
        tokio::task::spawn_blocking(move || run(&work, &a, Some("trace")))
            .await
            .unwrap()
    };
    assert!(!ok, "{out}");
    assert!(out.contains(&src.host()) && out.contains("wrong.json"), "{out}");
    assert!(
        !out.contains("Wrong-Guess-991") && !out.contains(&b64("src-user:Wrong-Guess-991")),
        "{out}"
    );
    transcripts.push(out);

    let needles = [
        SRC_PW.to_string(),
        DST_PW.to_string(),
        b64(&format!("src-user:{SRC_PW}")),
        b64(&format!("dst-user:{DST_PW}")),
    ];
    let mut lines = 0;
    for t in &transcripts {
        for line in t.lines() {
            lines += 1;
            for n in &needles {
                assert!(!line.contains(n.as_str()), "secret in output line: {line}");
            }
        }
    }
    let files = files_under(&work);
    assert!(files.len() >= 3, "the run wrote its workspace: {files:?}");
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        let body = String::from_utf8_lossy(&bytes);
        for n in &needles {
            assert!(!body.contains(n.as_str()), "secret in {}", f.display());
        }
    }
    eprintln!(
        "searched {lines} output lines and {} files: no credential found",
        files.len()
    );
}
