//! The helm planner against the real service-binding-operator repository (index.yaml and the
//! ten archives from the shared fixtures), served by a small real HTTP server on loopback.

use ferry_config::{Chart, Helm, Repository};
use ferry_plan::helm::{plan_charts, HelmAccess};
use ferry_types::Error;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const REPO: &str = "helm/oc-mirror/tests/unit/testdata/helm-data";

/// Serves `files` (path → bytes) over HTTP/1.1; one request per connection. With `auth`, every
/// request needs that `Authorization` header value.
async fn serve(files: HashMap<String, Vec<u8>>, auth: Option<String>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let files = Arc::new(files);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let files = files.clone();
            let auth = auth.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut tmp).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&tmp[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                let authorized = auth.as_ref().is_none_or(|a| {
                    head.lines()
                        .any(|l| l.to_ascii_lowercase().starts_with("authorization:") && l[14..].trim() == a)
                });
                let (status, body) = if !authorized {
                    ("401 Unauthorized", b"login needed".to_vec())
                } else {
                    match files.get(&path) {
                        Some(b) => ("200 OK", b.clone()),
                        None => ("404 Not Found", b"no such file".to_vec()),
                    }
                };
                let hdr = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(hdr.as_bytes()).await;
                let _ = sock.write_all(&body).await;
            });
        }
    });
    port
}

/// The real repository: `/sbo/index.yaml` and `/sbo/service-binding-operator-<v>.tgz`.
fn repo_files(base: &std::path::Path) -> HashMap<String, Vec<u8>> {
    let mut files = HashMap::new();
    let idx = base.join("indexes/redhat-developer.github.io/service-binding-operator-helm-chart/index.yaml");
    files.insert("/sbo/index.yaml".into(), std::fs::read(idx).unwrap());
    for e in std::fs::read_dir(base.join("charts")).unwrap() {
        let p = e.unwrap().path();
        let n = p.file_name().unwrap().to_string_lossy().to_string();
        if n.starts_with("service-binding-operator-") {
            files.insert(format!("/sbo/{n}"), std::fs::read(&p).unwrap());
        }
    }
    files
}

fn helm(url: String, charts: &[(&str, &str)]) -> Helm {
    Helm {
        repositories: vec![Repository {
            name: "sbo".into(),
            url,
            charts: charts
                .iter()
                .map(|(n, v)| Chart {
                    name: n.to_string(),
                    version: Some(v.to_string()),
                    ..Chart::default()
                })
                .collect(),
        }],
        local: vec![],
    }
}

fn sha256_file(p: &std::path::Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

#[tokio::test]
async fn real_index_versions_downloaded_and_digest_checked() {
    let Some(base) = ferry_testkit::fixture(REPO) else {
        return;
    };
    let port = serve(repo_files(&base), None).await;
    let out = tempfile::tempdir().unwrap();
    let cfg = helm(
        format!("http://127.0.0.1:{port}/sbo"),
        &[
            ("service-binding-operator", "1.3.0"),
            ("service-binding-operator", "1.4.1"),
        ],
    );
    let charts = plan_charts(&cfg, &HelmAccess::default(), out.path()).await.unwrap();
    let got: Vec<(String, String)> = charts.iter().map(|c| (c.name.clone(), c.version.clone())).collect();
    assert_eq!(
        got,
        [
            ("service-binding-operator".to_string(), "1.3.0".to_string()),
            ("service-binding-operator".to_string(), "1.4.1".to_string())
        ]
    );
    for c in &charts {
        assert_eq!(
            c.file,
            out.path().join(format!("service-binding-operator-{}.tgz", c.version))
        );
        assert_eq!(
            sha256_file(&c.file),
            sha256_file(&base.join(format!("charts/service-binding-operator-{}.tgz", c.version)))
        );
        assert!(c.notes.is_empty(), "{:?}", c.notes);
        // The operator image is built by `printf` in the template; the scan evaluates it.
        let imgs: Vec<String> = c.mirrored_images().map(|i| i.image.to_string()).collect();
        assert_eq!(imgs.len(), 1, "{imgs:?} {:?}", c.unresolved);
        assert!(
            imgs[0].starts_with("quay.io/redhat-developer/servicebinding-operator@sha256:"),
            "{imgs:?}"
        );
    }
    assert!(!out.path().join("service-binding-operator-1.4.1.tgz.part").exists());
}

#[tokio::test]
async fn empty_chart_list_means_every_chart_of_the_index() {
    let Some(base) = ferry_testkit::fixture(REPO) else {
        return;
    };
    let port = serve(repo_files(&base), None).await;
    let out = tempfile::tempdir().unwrap();
    let charts = plan_charts(
        &helm(format!("http://127.0.0.1:{port}/sbo/"), &[]),
        &HelmAccess::default(),
        out.path(),
    )
    .await
    .unwrap();
    assert_eq!(charts.len(), 10);
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 10);
}

#[tokio::test]
async fn tampered_archive_is_refused_naming_repo_chart_version_and_digests() {
    let Some(base) = ferry_testkit::fixture(REPO) else {
        return;
    };
    let mut files = repo_files(&base);
    let good = files["/sbo/service-binding-operator-1.4.1.tgz"].clone();
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 20] ^= 0xff;
    files.insert("/sbo/service-binding-operator-1.4.1.tgz".into(), bad.clone());
    let port = serve(files, None).await;
    let out = tempfile::tempdir().unwrap();
    let cfg = helm(
        format!("http://127.0.0.1:{port}/sbo"),
        &[("service-binding-operator", "1.4.1")],
    );
    let e = plan_charts(&cfg, &HelmAccess::default(), out.path()).await.unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e:?}");
    let msg = e.to_string();
    use sha2::Digest;
    let actual = hex::encode(sha2::Sha256::digest(&bad));
    for want in [
        "sbo",
        "service-binding-operator",
        "1.4.1",
        "sha256:be95db3858e6a26644f7f127a2c1c30a184abd84a15df22f4d0cbbbac5b2012c",
        actual.as_str(),
    ] {
        assert!(msg.contains(want), "`{want}` missing in: {msg}");
    }
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "nothing half-written is kept"
    );
}

#[tokio::test]
async fn unreachable_invalid_index_and_missing_version_are_clear() {
    let Some(base) = ferry_testkit::fixture(REPO) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    // A port with nobody listening.
    let free = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = plan_charts(
        &helm(format!("http://127.0.0.1:{free}/sbo"), &[]),
        &HelmAccess::default(),
        out.path(),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains("helm repository sbo"), "{e}");

    let mut files = HashMap::new();
    files.insert(
        "/bad/index.yaml".to_string(),
        b"apiVersion: v1\nentries: [unclosed\n".to_vec(),
    );
    let port = serve(files, None).await;
    let e = plan_charts(
        &helm(format!("http://127.0.0.1:{port}/bad"), &[]),
        &HelmAccess::default(),
        out.path(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("helm repository sbo") && e.contains("not a valid helm index") && e.contains("line"),
        "{e}"
    );

    let port = serve(repo_files(&base), None).await;
    let cfg = helm(
        format!("http://127.0.0.1:{port}/sbo"),
        &[("service-binding-operator", "9.9.9")],
    );
    let e = plan_charts(&cfg, &HelmAccess::default(), out.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("service-binding-operator") && e.contains("9.9.9") && e.contains("1.4.1"),
        "{e}"
    );
    let cfg = helm(format!("http://127.0.0.1:{port}/sbo"), &[("nope", "1.0.0")]);
    let e = plan_charts(&cfg, &HelmAccess::default(), out.path())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("chart `nope`") && e.contains("service-binding-operator"),
        "{e}"
    );
}

#[tokio::test]
async fn basic_auth_and_absolute_urls() {
    let Some(base) = ferry_testkit::fixture(REPO) else {
        return;
    };
    let mut files = repo_files(&base);
    // Rewrite the real index's relative URL of 1.0.0 to an absolute one on another path.
    let idx = String::from_utf8(files["/sbo/index.yaml"].clone()).unwrap();
    let archive = files["/sbo/service-binding-operator-1.0.0.tgz"].clone();
    let auth = "Basic dXNlcjpzM2NyZXQ="; // user:s3cret
    files.insert("/elsewhere/sbo-1.0.0.tgz".into(), archive);
    // The port is only known after start, so serve the index through a second server.
    let data_port = serve(files.clone(), Some(auth.into())).await;
    let abs = idx.replace(
        "- service-binding-operator-1.0.0.tgz",
        &format!("- http://127.0.0.1:{data_port}/elsewhere/sbo-1.0.0.tgz"),
    );
    assert_ne!(abs, idx, "the fixture index lists the 1.0.0 archive by relative URL");
    let mut index_files = HashMap::new();
    index_files.insert("/sbo/index.yaml".to_string(), abs.into_bytes());
    let index_port = serve(index_files, Some(auth.into())).await;
    let out = tempfile::tempdir().unwrap();
    let cfg = helm(
        format!("http://127.0.0.1:{index_port}/sbo"),
        &[("service-binding-operator", "1.0.0")],
    );

    let e = plan_charts(&cfg, &HelmAccess::default(), out.path()).await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");

    let access = HelmAccess {
        credentials: Some(Arc::new(|host: &str| {
            host.starts_with("127.0.0.1:")
                .then(|| ("user".to_string(), "s3cret".to_string()))
        })),
        ..HelmAccess::default()
    };
    let charts = plan_charts(&cfg, &access, out.path()).await.unwrap();
    assert_eq!(charts.len(), 1);
    assert_eq!(charts[0].version, "1.0.0");
    assert_eq!(
        sha256_file(&charts[0].file),
        sha256_file(&base.join("charts/service-binding-operator-1.0.0.tgz"))
    );
}

#[tokio::test]
async fn local_chart_with_values_files() {
    let Some(tgz) = ferry_testkit::fixture(&format!("{REPO}/charts/ingress-nginx-4.12.1.tgz")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("site.yaml"),
        "controller:\n  admissionWebhooks:\n    enabled: false\n",
    )
    .unwrap();
    let cfg = Helm {
        repositories: vec![],
        local: vec![Chart {
            name: "ingress".into(),
            path: Some(tgz.to_string_lossy().into()),
            values_files: vec!["site.yaml".into()],
            ..Chart::default()
        }],
    };
    let access = HelmAccess {
        base_dir: Some(dir.path().to_path_buf()),
        static_only: true,
        ..HelmAccess::default()
    };
    let charts = plan_charts(&cfg, &access, &PathBuf::from("/nonexistent"))
        .await
        .unwrap();
    let imgs: Vec<String> = charts[0]
        .mirrored_images()
        .map(|i| i.image.repository.clone())
        .collect();
    assert_eq!(
        imgs,
        ["ingress-nginx/controller"],
        "admission webhooks switched off by the values file"
    );
    assert_eq!(charts[0].file, tgz);
}
