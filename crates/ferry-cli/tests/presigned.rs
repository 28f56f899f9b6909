//! Pre-signed storage URLs in the CLI's output: a loopback front for a real docker-registry
//! redirects every blob GET to a storage URL whose query carries a secret, and the storage end
//! fails the download. `ferry mirror … file://` at trace level (every log line of Ferry and,
//! through `FERRY_LOG`, of its HTTP dependencies) fails naming the image, and neither stderr,
//! stdout nor any file the run wrote holds the query string.

use ferry_testkit::presigned::PresignedFront;
use ferry_testkit::{push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::Ordering;

const FERRY: &str = env!("CARGO_BIN_EXE_ferry");
const SECRET: &str = "SECRETxSIGNATURE0123456789abcdef";

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_logs_and_errors_of_a_failed_presigned_download_hold_no_query_string() {
    let src = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let spec = ImageSpec {
        format: ImageFormat::DockerV2S2,
        layers: vec![LayerSpec {
            size: 48 << 10,
            seed: 920,
        }],
        platforms: vec![],
    };
    push_image(&src, "apps/signed", "v1", &spec).await;
    let front = PresignedFront::start(&src, SECRET).await;
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("isc.yaml"),
        format!(
            "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: {}\nmirror:\n  additionalImages:\n  - name: {}/apps/signed:v1\n",
            t.path().join("meta").display(),
            front.host()
        ),
    )
    .unwrap();
    let out_dir = t.path().join("out");
    let args: Vec<String> = [
        "mirror",
        "--config",
        "isc.yaml",
        "--source-use-http",
        "-vv",
        &format!("file://{}", out_dir.display()),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let front_host = front.host();
    // The command blocks; the front keeps answering on this test's runtime meanwhile.
    let cwd = t.path().to_path_buf();
    let o = tokio::task::spawn_blocking(move || {
        Command::new(FERRY)
            .args(args)
            .current_dir(&cwd)
            .env("HOME", &cwd)
            .env("XDG_CONFIG_HOME", cwd.join("config"))
            .env("XDG_RUNTIME_DIR", cwd.join("run"))
            .env("FERRY_LOG", "trace")
            .env_remove("REGISTRY_AUTH_FILE")
            .output()
            .expect("run ferry")
    })
    .await
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(!o.status.success(), "the download fails: {stdout}\n{stderr}");
    assert!(
        front.store_hits.load(Ordering::SeqCst) > 0,
        "the redirect was followed: {stderr}"
    );
    assert!(
        stderr.contains("apps/signed") && stderr.contains(&front_host),
        "the error names the image: {stderr}"
    );
    // Trace level really logged the HTTP traffic, so the check below is not vacuous.
    assert!(stderr.lines().count() > 20, "{stderr}");
    assert!(!stderr.contains(SECRET), "stderr leaks the signed query:\n{stderr}");
    assert!(!stdout.contains(SECRET), "stdout leaks the signed query:\n{stdout}");
    let mut files = Vec::new();
    files_under(t.path(), &mut files);
    for f in files {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "{} holds the signed query",
            f.display()
        );
    }
}
