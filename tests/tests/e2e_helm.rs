//! Helm charts end to end, through the facade: the real podinfo 6.0.0 chart in a chart
//! repository served by a small real HTTP server started here (index generated with the
//! archive's real sha256), its image pushed to a real `docker-registry` (the chart's
//! `image.repository` pointed at it through the Ferry `values` extension).
//!
//! mirror-to-mirror: the image lands in the target, the chart archive and charts.json in the
//! results. mirror-to-disk: the archive carries `charts/podinfo-6.0.0.tgz`. disk-to-mirror (the
//! chart repository stopped first): the image is pushed, the chart is left in the workspace and
//! listed in the results.

mod e2e_support;

use e2e_support::*;
use ferry_api::mirror::{ImageSelection, MirrorOptions};
use ferry_testkit::httpd::{Httpd, Request, Response};
use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryServer};
use sha2::Digest as _;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

fn registry() -> RegistryServer {
    RegistryServer::plain()
}

/// A chart repository on loopback: GET of a known path → its bytes, else 404.
async fn chart_repo(files: HashMap<String, Vec<u8>>) -> Httpd {
    let files = Arc::new(files);
    Httpd::start(move |r: Request| {
        let body = files.get(&r.target).cloned();
        async move {
            match body {
                Some(b) => Response::bytes(200, b),
                None => Response::new(404, "not found"),
            }
        }
    })
    .await
}

fn config(repo_port: u16, image_repo: &str) -> ferry_api::config::ImageSetConfiguration {
    isc(&format!(
        "mirror:\n  helm:\n    repositories:\n    - name: podinfo\n      url: http://127.0.0.1:{repo_port}/charts\n      charts:\n      - name: podinfo\n        version: 6.0.0\n        values:\n          image:\n            repository: {image_repo}\n"
    ))
}

fn sha(p: &Path) -> String {
    hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn helm_chart_images_mirrored_and_charts_handed_over() {
    let Some(tgz) = ferry_testkit::fixture("helm/oc-mirror/v1/pkg/cli/mirror/testdata/artifacts/podinfo-6.0.0.tgz")
    else {
        return;
    };
    let archive = std::fs::read(&tgz).unwrap();
    let digest = hex::encode(sha2::Sha256::digest(&archive));
    let index = format!(
        "apiVersion: v1\nentries:\n  podinfo:\n  - name: podinfo\n    version: 6.0.0\n    appVersion: 6.0.0\n    digest: {digest}\n    urls:\n    - podinfo-6.0.0.tgz\n"
    );
    let mut files = HashMap::new();
    files.insert("/charts/index.yaml".to_string(), index.into_bytes());
    files.insert("/charts/podinfo-6.0.0.tgz".to_string(), archive);
    let repo = chart_repo(files).await;
    let port = repo.port;

    let src = registry();
    let pushed = push_image(
        &src,
        "stefanprodan/podinfo",
        "6.0.0",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec {
                size: 512 << 10,
                seed: 61,
            }],
            platforms: vec![],
        },
    )
    .await;
    let cfg = config(port, &format!("{}/stefanprodan/podinfo", src.host()));
    let selection = ImageSelection::from_config(&cfg).unwrap();

    // 1. Mirror to mirror.
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let opts = mirror_opts(ws.path());
    let dest = docker_dest(&dst, "mirror");
    let r = run_m2m(&selection, &dest, &opts).await.unwrap();
    assert_eq!(r.plan.charts.len(), 1);
    let chart = &r.plan.charts[0];
    assert_eq!((chart.name.as_str(), chart.version.as_str()), ("podinfo", "6.0.0"));
    assert_eq!(chart.mirrored_images().count(), 1, "test-hook images left out");
    assert_eq!(
        chart.images.iter().filter(|i| i.test).count(),
        4,
        "flagged test images are listed"
    );
    assert_eq!(r.plan.images.len(), 1);
    assert_eq!(r.plan.images[0].kind, ferry_types::ImageKind::Generic);
    assert_eq!(r.images_copied, 1);
    assert_eq!(
        manifest_digest(&dst, "mirror/stefanprodan/podinfo", "6.0.0").await,
        Some(pushed.digest.clone())
    );
    let in_results = r.results_dir.join("charts/podinfo-6.0.0.tgz");
    assert_eq!(sha(&in_results), digest, "the chart archive is in the results");
    let listing: serde_json::Value =
        serde_json::from_slice(&std::fs::read(r.results_dir.join("charts/charts.json")).unwrap()).unwrap();
    assert_eq!(listing[0]["name"], "podinfo");
    assert_eq!(listing[0]["images"][0]["provenance"][0]["path"], "image");
    let icsp = std::fs::read_to_string(r.results_dir.join("imageContentSourcePolicy.yaml")).unwrap();
    assert!(
        icsp.contains("generic") && icsp.contains("/mirror/stefanprodan"),
        "{icsp}"
    );

    // 2. Mirror to disk: the chart travels in the archive.
    let dws = tempfile::tempdir().unwrap();
    let disk = tempfile::tempdir().unwrap();
    let dopts = disk_opts(dws.path());
    run_m2d(&cfg, disk.path(), &dopts).await.unwrap();
    let set = ferry_archive::ArchiveSet::open(disk.path()).unwrap();
    assert_eq!(set.files("charts/"), ["charts/podinfo-6.0.0.tgz"]);

    // 3. Disk to mirror with the chart repository and the source registry gone.
    drop(repo);
    drop(src);
    let air = registry();
    let iws = tempfile::tempdir().unwrap();
    let iopts = disk_opts(iws.path());
    let airdest = docker_dest(&air, "mirror");
    let i = run_d2m(disk.path(), &airdest, &iopts).await.unwrap();
    assert_eq!(
        manifest_digest(&air, "mirror/stefanprodan/podinfo", "6.0.0").await,
        Some(pushed.digest.clone())
    );
    assert_eq!(
        sha(&iws.path().join("charts/podinfo-6.0.0.tgz")),
        digest,
        "left in the workspace"
    );
    assert_eq!(
        sha(&i.results_dir.join("charts/podinfo-6.0.0.tgz")),
        digest,
        "listed in the results"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chart_with_unresolvable_image_is_listed_not_fatal() {
    // A chart that needs a value the user did not give (`required`): nothing to guess.
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("needs-values");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: needs-values\nversion: 1.4.1\n",
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), "image:\n  repository: ''\n").unwrap();
    std::fs::write(
        chart.join("templates/deployment.yaml"),
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - image: {{ required \"set image.repository\" .Values.image.repository }}\n",
    )
    .unwrap();
    let cfg = isc(&format!(
        "mirror:\n  helm:\n    local:\n    - name: needs\n      path: {}\n",
        chart.display()
    ));
    let selection = ImageSelection::from_config(&cfg).unwrap();
    let dst = registry();
    let ws = tempfile::tempdir().unwrap();
    let opts = MirrorOptions {
        dry_run: true,
        ..mirror_opts(ws.path())
    };
    let dest = docker_dest(&dst, "mirror");
    let r = run_m2m(&selection, &dest, &opts).await.unwrap();
    assert!(r.plan.images.is_empty());
    let note = r
        .plan
        .notes
        .iter()
        .find(|n| n.contains("needs-values 1.4.1"))
        .expect("the unresolved image is a plan note");
    assert!(
        note.contains("mirror.additionalImages") && note.contains("templates/deployment.yaml:6"),
        "{note}"
    );
}

/// Relative `helm.local[].path` and `valuesFiles` follow the image-set file's folder, not the
/// process's working directory (the test runs in the package folder; the files are elsewhere).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relative_chart_paths_follow_the_image_set_file() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("charts/rel");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: rel\nversion: 0.2.0\n").unwrap();
    std::fs::write(chart.join("values.yaml"), "image: quay.io/ferry/default:1\n").unwrap();
    std::fs::write(
        chart.join("templates/pod.yaml"),
        "kind: Pod\nspec:\n  containers:\n  - name: c\n    image: {{ .Values.image }}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("prod-values.yaml"), "image: quay.io/ferry/prod:2\n").unwrap();
    let isc = dir.path().join("isc.yaml");
    std::fs::write(
        &isc,
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  helm:\n    local:\n    - name: rel\n      path: ./charts/rel\n      valuesFiles:\n      - prod-values.yaml\n",
    )
    .unwrap();
    assert!(
        !std::env::current_dir().unwrap().join("charts/rel").exists(),
        "the working directory must not hold the chart"
    );
    let mut cfg = ferry_api::config::load(&isc).unwrap();
    ferry_api::helm::resolve_paths(&mut cfg, Some(&isc)).unwrap();
    let local = &cfg.mirror.helm.as_ref().unwrap().local[0];
    let resolved = Path::new(local.path.as_deref().unwrap());
    assert!(resolved.is_absolute(), "{resolved:?}");
    assert_eq!(resolved.canonicalize().unwrap(), chart.canonicalize().unwrap());
    let helm = cfg.mirror.helm.clone().unwrap();
    let out = tempfile::tempdir().unwrap();
    let charts = ferry_plan::helm::plan_charts(&helm, &ferry_plan::helm::HelmAccess::default(), out.path())
        .await
        .unwrap();
    let images: Vec<String> = charts[0].images.iter().map(|i| i.image.to_string()).collect();
    assert_eq!(
        images,
        ["quay.io/ferry/prod:2"],
        "the values file next to isc.yaml was used"
    );

    // The app's unsaved image set: a relative path is refused with what to do.
    let mut unsaved = ferry_api::config::load(&isc).unwrap();
    let e = ferry_api::helm::resolve_paths(&mut unsaved, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("mirror.helm.local[0].path") && e.contains("save it first"),
        "{e}"
    );
}
