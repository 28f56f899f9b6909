//! The app's helm views through the facade (`ferry_api::helm_browse`), against the real
//! service-binding-operator repository served by a real loopback HTTP server: the editor's
//! chart list, the Plan's per-chart images with the blockedImages "Remove", a local chart's
//! name, and the errors the editor shows.

use ferry_api::helm_browse;
use ferry_testkit::httpd::Httpd;
use std::collections::BTreeMap;

const REPO: &str = "helm/oc-mirror/tests/unit/testdata/helm-data";

fn config_dir() -> tempfile::TempDir {
    ferry_api::credentials::init_keyring(Some(ferry_api::credentials::KeyringBackend::Mock)).unwrap();
    let d = tempfile::tempdir().unwrap();
    std::env::set_var("FERRY_CONFIG_DIR", d.path());
    d
}

/// `/sbo/index.yaml` (the real index) and the real archives it names; 404 otherwise.
async fn repo(base: &std::path::Path) -> Httpd {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let idx = base.join("indexes/redhat-developer.github.io/service-binding-operator-helm-chart/index.yaml");
    files.insert("/sbo/index.yaml".into(), std::fs::read(idx).unwrap());
    files.insert("/bad/index.yaml".into(), b"entries: [: nope".to_vec());
    for e in std::fs::read_dir(base.join("charts")).unwrap() {
        let p = e.unwrap().path();
        let n = p.file_name().unwrap().to_string_lossy().to_string();
        if n.starts_with("service-binding-operator-") {
            files.insert(format!("/sbo/{n}"), std::fs::read(&p).unwrap());
        }
    }
    Httpd::serve_files(files).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editor_lists_the_real_index_newest_first() {
    let Some(base) = ferry_testkit::fixture(REPO) else {
        return;
    };
    let _cfg = config_dir();
    let h = repo(&base).await;
    let url = format!("http://{}/sbo", h.host());
    let idx = helm_browse::repository_index(&url).await.unwrap();
    assert_eq!(idx.url, url);
    let sbo = idx
        .charts
        .iter()
        .find(|c| c.name == "service-binding-operator")
        .expect("the chart is listed");
    let versions: Vec<&str> = sbo.versions.iter().map(|v| v.version.as_str()).collect();
    let mut sorted = versions.clone();
    sorted.sort_by(|a, b| semver_cmp(b, a));
    assert_eq!(versions, sorted, "newest first");
    assert!(
        versions.contains(&"1.4.1") && versions.contains(&"1.0.0"),
        "{versions:?}"
    );
    assert!(
        sbo.versions.iter().all(|v| v.has_digest),
        "the real index gives every digest"
    );

    // What the editor shows for a bad URL: each names the repository and says what to do.
    let e = helm_browse::repository_index(&format!("http://{}/bad", h.host()))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("/bad") && e.contains("not a valid helm index"), "{e}");
    let e = helm_browse::repository_index(&format!("http://{}/none", h.host()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("/none/index.yaml") && e.contains("check the repository URL"),
        "{e}"
    );
    let e = helm_browse::repository_index("charts.example.com")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("must start with http:// or https://"), "{e}");
}

fn semver_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let p = |s: &str| -> Vec<u64> { s.split('.').map(|x| x.parse().unwrap_or(0)).collect() };
    p(a).cmp(&p(b))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_lists_chart_images_and_remove_is_an_exact_block() {
    let Some(base) = ferry_testkit::fixture(REPO) else {
        return;
    };
    let _cfg = config_dir();
    let h = repo(&base).await;
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  helm:\n    repositories:\n    - name: sbo\n      url: http://{}/sbo\n      charts:\n      - name: service-binding-operator\n        version: 1.4.1\n",
        h.host()
    );
    let charts = helm_browse::chart_plan(&yaml, None).await.unwrap();
    assert_eq!(charts.len(), 1);
    let c = &charts[0];
    assert_eq!(
        (c.name.as_str(), c.version.as_str()),
        ("service-binding-operator", "1.4.1")
    );
    assert_eq!(c.repository.as_deref(), Some("sbo"));
    assert!(!c.images.is_empty(), "the chart deploys images");
    for i in &c.images {
        assert!(!i.provenance.is_empty(), "{} has a provenance", i.image);
        assert_eq!(i.blocked_by, None);
        assert_eq!(i.block_pattern, helm_browse::exact_block_pattern(&i.image));
    }
    // "Remove" on the first image: its exact pattern in blockedImages blocks it and only it.
    let first = &c.images[0];
    let blocked = format!(
        "{yaml}  blockedImages:\n  - name: '{}'\n",
        first.block_pattern.replace('\'', "''")
    );
    let again = helm_browse::chart_plan(&blocked, None).await.unwrap();
    for i in &again[0].images {
        if i.image == first.image {
            assert_eq!(i.blocked_by.as_deref(), Some(first.block_pattern.as_str()));
        } else {
            assert_eq!(i.blocked_by, None, "{} is not blocked by another's pattern", i.image);
        }
    }
    // And the run planner honours it: the blocked image is not planned.
    let cfg = ferry_api::config::parse_str(&blocked, "isc.yaml").unwrap();
    let sel = ferry_api::mirror::ImageSelection::from_config(&cfg).unwrap();
    let list = ferry_plan::BlockList::new(&sel.blocked).unwrap();
    assert!(list.matches(std::slice::from_ref(&first.image)).is_some());
}

#[test]
fn local_chart_name_and_version_from_chart_yaml() {
    let Some(tgz) = ferry_testkit::fixture("helm/oc-mirror/v1/pkg/cli/mirror/testdata/artifacts/podinfo-6.0.0.tgz")
    else {
        return;
    };
    let c = helm_browse::local_chart(&tgz).unwrap();
    assert_eq!((c.name.as_str(), c.version.as_str()), ("podinfo", "6.0.0"));
    let e = helm_browse::local_chart(std::path::Path::new("/nonexistent/chart"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/chart"), "{e}");
}
