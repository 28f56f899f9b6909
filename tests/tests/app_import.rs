//! The desktop app's import path through the facade (`ferry_api::app_workflows`,
//! `ferry_api::app_media`), against real `docker-registry` processes and real archive parts:
//! the Import screen's check plus the import read the media once, and the engine itself emits
//! per-part progress (part name, bytes read of the part's size) that the app's tracker shows.
//! The store lives in a per-test folder (`FERRY_CONFIG_DIR`; nextest runs each test in its own
//! process) with keyring-core's in-memory mock, holding plain-HTTP trust for the loopback
//! registries, as the app's trust settings would.

use ferry_api::app_progress::{ProgressTracker, DEFAULT_INTERVAL};
use ferry_api::app_workflows as wf;
use ferry_api::credentials::{init_keyring, KeyringBackend};
use ferry_api::wire::TrustSettings;
use ferry_api::{CancellationToken, ProgressEvent, ProgressSink};
use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

fn registry() -> RegistryServer {
    RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    })
}

/// A private store trusting `hosts` over plain HTTP (the app's trust settings).
fn store_trusting(hosts: &[String]) -> tempfile::TempDir {
    init_keyring(Some(KeyringBackend::Mock)).unwrap();
    let d = tempfile::tempdir().unwrap();
    std::env::set_var("FERRY_CONFIG_DIR", d.path());
    for h in hosts {
        wf::set_trust(&TrustSettings {
            registry: h.clone(),
            ca_bundle: None,
            skip_tls_verify: false,
            plain_http: true,
        })
        .unwrap();
    }
    d
}

/// Bytes this process has read so far (files and sockets), from /proc/self/io.
fn bytes_read() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.trim().parse().ok())
}

/// (part, bytes read, part size, done) of one `PartProgress` event.
type PartEvent = (String, u64, u64, bool);

fn parts(dir: &Path) -> BTreeMap<String, u64> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "tar"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect()
}

/// Export a two-image set through the app's export (the set's parts: the blobs' part and
/// the extras' part, `charts/` and `release-signatures/`, which each sit whole in one part).
async fn export(src: &RegistryServer, dir: &Path, meta: &Path) -> Vec<String> {
    let mut images = Vec::new();
    for (i, repo) in ["apps/one", "apps/two"].iter().enumerate() {
        let spec = ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![
                // Large enough that indexing the parts (the tar reader reads ahead 64 KiB per
                // header) stays small next to one read of the data.
                LayerSpec {
                    size: 8 << 20,
                    seed: 500 + i as u64,
                },
                LayerSpec {
                    size: 10 << 10,
                    seed: 600 + i as u64,
                },
            ],
            platforms: vec![],
        };
        push_image(src, repo, "v1", &spec).await;
        images.push(format!("{}/{repo}:v1", src.host()));
    }
    let list: String = images.iter().map(|i| format!("    - name: {i}\n")).collect();
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: {}\nmirror:\n  additionalImages:\n{list}",
        meta.display()
    );
    let ws = tempfile::tempdir().unwrap();
    let s = wf::export(
        "job-export",
        &yaml,
        None,
        dir,
        ws.path(),
        ferry_api::no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(s.failed.is_empty(), "{:?}", s.failed);
    assert_eq!(s.images_copied, 2);
    images
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_check_and_the_import_read_the_media_once_with_per_part_progress() {
    let src = registry();
    let dst = registry();
    let _store = store_trusting(&[src.host(), dst.host()]);
    let (dir, meta, ws) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    export(&src, dir.path(), meta.path()).await;
    let on_disk = parts(dir.path());
    let set_size: u64 = on_disk.values().sum();
    assert!(set_size > 16 << 20, "{on_disk:?}");

    // The screen's check: every part present at its listed size, nothing hashed.
    let before = bytes_read();
    let check = ferry_api::app_media::check_media(dir.path()).unwrap();
    assert!(check.problems.is_empty(), "{:?}", check.problems);
    assert_eq!(check.sequence, Some(1));
    assert_eq!(check.parts.len(), on_disk.len());
    assert!(check.parts.iter().all(|p| p.present && p.checksum_ok.is_none()));
    assert_eq!(check.images.len(), 2, "{:?}", check.images);

    // The import, with the engine's events folded by the app's tracker.
    let events: Arc<Mutex<Vec<PartEvent>>> = Arc::default();
    let tracker = Arc::new(Mutex::new(ProgressTracker::new("job-import", DEFAULT_INTERVAL)));
    let sink: ProgressSink = {
        let (events, tracker) = (events.clone(), tracker.clone());
        Arc::new(move |ev: ProgressEvent| {
            if let ProgressEvent::PartProgress {
                part,
                bytes,
                size,
                done,
            } = &ev
            {
                events.lock().unwrap().push((part.clone(), *bytes, *size, *done));
            }
            tracker.lock().unwrap().record(&ev);
        })
    };
    let summary = wf::import(
        "job-import",
        dir.path(),
        &format!("{}/mirror", dst.host()),
        ws.path(),
        sink,
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let after = bytes_read();
    assert!(summary.failed.is_empty(), "{:?}", summary.failed);
    assert_eq!(summary.images_copied, 2);
    assert!(manifest_digest(&dst, "mirror/apps/one", "v1").await.is_some());
    assert!(manifest_digest(&dst, "mirror/apps/two", "v1").await.is_some());

    // Every part was reported by name, from 0 up to its size, ending done.
    let events = events.lock().unwrap().clone();
    for (name, size) in &on_disk {
        let mine: Vec<_> = events.iter().filter(|e| &e.0 == name).collect();
        assert!(mine.len() >= 2, "{name}: {mine:?}");
        assert!(mine.iter().all(|e| e.2 == *size), "{name} size {size}: {mine:?}");
        assert_eq!(mine.first().map(|e| (e.1, e.3)), Some((0, false)), "{name}");
        assert_eq!(mine.last().map(|e| (e.1, e.3)), Some((*size, true)), "{name}");
        assert!(mine.windows(2).all(|w| w[0].1 <= w[1].1), "bytes only grow: {mine:?}");
    }
    let snap = tracker.lock().unwrap().snapshot();
    assert_eq!(snap.parts.len(), on_disk.len(), "{:?}", snap.parts);
    for p in &snap.parts {
        assert!(p.done, "{p:?}");
        assert_eq!(Some(p.bytes_done), p.bytes_total, "{p:?}");
        assert_eq!(p.bytes_total, on_disk.get(&p.name).copied(), "{p:?}");
    }

    // One read of the media for check + import (before: a full verify, then the import).
    if let (Some(b), Some(a)) = (before, after) {
        let read = a - b;
        assert!(
            read < set_size * 3 / 2,
            "check + import read {read} bytes of a {set_size}-byte set (more than once)"
        );
        // And the full verify on its own really reads it all (the counter is live).
        let b = bytes_read().unwrap();
        ferry_api::app_media::verify_media(dir.path()).unwrap();
        let full = bytes_read().unwrap() - b;
        assert!(full >= set_size, "verify read {full} of {set_size}");
    }
}

/// A chart repository serving the real podinfo 6.0.0 chart (`/charts/index.yaml` and the archive).
async fn podinfo_repo(tgz: &Path) -> ferry_testkit::httpd::Httpd {
    use ferry_testkit::httpd::Httpd;
    let archive = std::fs::read(tgz).unwrap();
    let digest = ferry_types::Digest::of(&archive).to_string();
    let index = format!(
        "apiVersion: v1\nentries:\n  podinfo:\n  - name: podinfo\n    version: 6.0.0\n    digest: {}\n    urls:\n    - podinfo-6.0.0.tgz\n",
        digest.trim_start_matches("sha256:")
    );
    let files = BTreeMap::from([
        ("/charts/index.yaml".to_string(), index.into_bytes()),
        ("/charts/podinfo-6.0.0.tgz".to_string(), archive),
    ]);
    Httpd::serve_files(files).await
}

/// The app's plan and export work in the app's workspace (`<data>/workspace`), never in the
/// process's working directory: before, a plan with a chart left `oc-mirror-workspace/charts/`
/// wherever the desktop app had been started.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_export_leave_nothing_in_the_working_directory() {
    let Some(tgz) = ferry_testkit::fixture("helm/oc-mirror/v1/pkg/cli/mirror/testdata/artifacts/podinfo-6.0.0.tgz")
    else {
        return;
    };
    let src = registry();
    let _store = store_trusting(&[src.host()]);
    let spec = ImageSpec {
        format: ImageFormat::Oci,
        layers: vec![LayerSpec {
            size: 64 << 10,
            seed: 71,
        }],
        platforms: vec![],
    };
    push_image(&src, "stefanprodan/podinfo", "6.0.0", &spec).await;
    let repo = podinfo_repo(&tgz).await;
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  helm:\n    repositories:\n    - name: podinfo\n      url: http://{}/charts\n      charts:\n      - name: podinfo\n        version: 6.0.0\n        values:\n          image:\n            repository: {}/stefanprodan/podinfo\n",
        repo.host(),
        src.host()
    );
    // nextest runs each test in its own process, so the working directory is this test's.
    let cwd = tempfile::tempdir().unwrap();
    std::env::set_current_dir(cwd.path()).unwrap();
    let data = tempfile::tempdir().unwrap();
    let ws = wf::app_workspace(data.path());

    let plan = wf::plan_summary_at(&yaml, None, None, &ws).await.unwrap();
    let images: Vec<&str> = plan
        .groups
        .iter()
        .flat_map(|g| g.images.iter().map(|i| i.source.as_str()))
        .collect();
    assert_eq!(
        images,
        vec![format!("{}/stefanprodan/podinfo:6.0.0", src.host())],
        "{plan:?}"
    );
    assert!(
        ws.join("charts/podinfo-6.0.0.tgz").is_file(),
        "the chart is downloaded into the app's workspace"
    );

    let out = tempfile::tempdir().unwrap();
    let s = wf::export(
        "job",
        &yaml,
        None,
        out.path(),
        &ws,
        ferry_api::no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(s.failed.is_empty(), "{:?}", s.failed);
    assert_eq!(s.images_copied, 1);
    let left: Vec<String> = std::fs::read_dir(cwd.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "the app's working directory got {left:?}");

    // The guided checks plan without the app's data folder: a private scratch folder, removed.
    let before = scratch_folders();
    wf::plan_summary(&yaml, None).await.unwrap();
    assert_eq!(
        scratch_folders(),
        before,
        "the scratch workspace is removed after the plan"
    );
    assert!(std::fs::read_dir(cwd.path()).unwrap().next().is_none());
}

fn scratch_folders() -> Vec<String> {
    let me = format!("ferry-plan-{}-", std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&me))
        .collect()
}

/// `JobSummary.failed` on a real import failure. The target refuses one image: its
/// repository's `_manifests` folder in the registry's storage is a plain file, so the
/// manifest PUT fails inside `docker-registry` (root ignores permissions, a file in the path
/// does not) while its blobs upload fine. The app's import (continue-on-error) pushes the
/// other image, lists the refused one with the registry's error, and records what was pushed.
/// A corrupted blob is different: the part's hash check fails before anything is tagged, and
/// the import stops whole, naming the part (item 17: nothing is tagged before the media checks).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_image_of_an_import_is_listed_in_the_summary() {
    let src = registry();
    let dst = registry();
    let _store = store_trusting(&[src.host(), dst.host()]);
    let (dir, meta, ws) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let images = export(&src, dir.path(), meta.path()).await;

    // A copy of the media with one byte of a blob flipped: refused whole, nothing tagged.
    let bad = tempfile::tempdir().unwrap();
    for (name, _) in parts(dir.path()) {
        std::fs::copy(dir.path().join(&name), bad.path().join(&name)).unwrap();
    }
    for e in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.ends_with(".json") {
            std::fs::copy(e.path(), bad.path().join(&n)).unwrap();
        }
    }
    let first = parts(bad.path()).into_keys().next().unwrap();
    let mut bytes = std::fs::read(bad.path().join(&first)).unwrap();
    // Well inside the first 8 MiB layer (after the metadata entry at the start).
    let at = bytes.len() / 3;
    bytes[at] ^= 0xff;
    std::fs::write(bad.path().join(&first), bytes).unwrap();
    let e = wf::import(
        "job-bad",
        bad.path(),
        &format!("{}/bad", dst.host()),
        ws.path(),
        ferry_api::no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains(&first) && e.contains("Nothing of"), "{e}");
    assert!(manifest_digest(&dst, "bad/apps/one", "v1").await.is_none());

    // The target refuses apps/two's manifest.
    let repo = dst
        .storage_dir()
        .join("docker/registry/v2/repositories/mirror/apps/two");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(repo.join("_manifests"), b"not a folder").unwrap();
    let s = wf::import(
        "job-partial",
        dir.path(),
        &format!("{}/mirror", dst.host()),
        ws.path(),
        ferry_api::no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(s.images_copied, 1, "{s:?}");
    assert!(manifest_digest(&dst, "mirror/apps/one", "v1").await.is_some());
    assert_eq!(s.failed.len(), 1, "{:?}", s.failed);
    let f = &s.failed[0];
    // The set names it by digest (`<source>@sha256:…`), as its metadata records it.
    let two = images[1].trim_end_matches(":v1");
    assert!(f.image.starts_with(&format!("{two}@sha256:")), "{f:?}");
    assert!(
        f.error.message.contains(&format!("{}/mirror/apps/two:v1", dst.host())) && f.error.message.contains("500"),
        "the reason names the target image and the registry's answer: {f:?}"
    );
    // The sequence is recorded for what was pushed, so the next one is not refused.
    assert_eq!(s.sequence, Some(1));
    assert!(s.results_dir.is_some());
}

/// The resume record of the app's export and import (`ferry_api::app_resume`) lives exactly as
/// long as the run: it is on disk when the engine reports its first event, gone once the run
/// completed, and kept by a run that failed or was cancelled (what a killed app leaves too).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_resume_record_lives_exactly_as_long_as_the_run() {
    use ferry_api::app_history::{read_pending, read_pending_import};
    use ferry_api::app_resume::{self, PendingExport, PendingImport};
    let src = registry();
    let dst = registry();
    let _store = store_trusting(&[src.host(), dst.host()]);
    let (data, dir, meta, ws) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let spec = ImageSpec {
        format: ImageFormat::Oci,
        layers: vec![LayerSpec {
            size: 1 << 20,
            seed: 700,
        }],
        platforms: vec![],
    };
    push_image(&src, "apps/one", "v1", &spec).await;
    let yaml = |image: &str| {
        format!(
            "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: {}\nmirror:\n  additionalImages:\n    - name: {image}\n",
            meta.path().display()
        )
    };
    // A sink that notes, at the engine's first event, which record was on disk.
    fn watching<T: Send + 'static>(
        read: impl Fn() -> Option<T> + Send + Sync + 'static,
    ) -> (ProgressSink, Arc<Mutex<Option<Option<T>>>>) {
        let seen: Arc<Mutex<Option<Option<T>>>> = Arc::default();
        let s = seen.clone();
        let sink: ProgressSink = Arc::new(move |_ev: ProgressEvent| {
            let mut s = s.lock().unwrap();
            if s.is_none() {
                *s = Some(read());
            }
        });
        (sink, seen)
    }
    let record = |id: &str, image: &str| PendingExport {
        id: id.into(),
        yaml: yaml(image),
        folder: dir.path().display().to_string(),
        started_at: "2026-12-02T03:00:00Z".into(),
        config_path: None,
    };

    // A failed export (its folder is a file) keeps its record.
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let failed = PendingExport {
        folder: file.join("media").display().to_string(),
        ..record("export-failed", &format!("{}/apps/one:v1", src.host()))
    };
    let r = app_resume::export(
        data.path(),
        "job-1",
        &failed,
        ws.path(),
        ferry_api::no_progress(),
        CancellationToken::new(),
    )
    .await;
    assert!(r.is_err(), "the folder cannot be made: {r:?}");
    assert_eq!(
        read_pending(data.path()),
        Some(failed),
        "the failed run keeps its record"
    );

    // A cancelled export keeps it: the offer survives.
    let cancelled = record("export-cancelled", &format!("{}/apps/one:v1", src.host()));
    let cancel = CancellationToken::new();
    cancel.cancel();
    let r = app_resume::export(
        data.path(),
        "job-2",
        &cancelled,
        ws.path(),
        ferry_api::no_progress(),
        cancel,
    )
    .await;
    assert!(r.is_err(), "a cancelled export is not a completed one: {r:?}");
    assert_eq!(
        read_pending(data.path()),
        Some(cancelled.clone()),
        "the cancelled run keeps its record"
    );

    // The export that completes: its record is there from the first event, gone at the end.
    let good = record("export-good", &format!("{}/apps/one:v1", src.host()));
    let d = data.path().to_path_buf();
    let (sink, seen) = watching(move || read_pending(&d));
    let s = app_resume::export(data.path(), "job-3", &good, ws.path(), sink, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(s.images_copied, 1, "{s:?}");
    assert_eq!(
        seen.lock().unwrap().clone(),
        Some(Some(good.clone())),
        "recorded before the first byte"
    );
    assert_eq!(
        read_pending(data.path()),
        None,
        "no stale offer after a completed export"
    );

    // The import: an unreachable target fails the run, which keeps its record.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let failing = PendingImport {
        id: "import-dead".into(),
        folder: dir.path().display().to_string(),
        registry: format!("{dead}/mirror"),
        started_at: "2026-12-02T03:00:00Z".into(),
    };
    let r = app_resume::import(
        data.path(),
        "job-4",
        &failing,
        ws.path(),
        ferry_api::no_progress(),
        CancellationToken::new(),
    )
    .await;
    assert!(r.is_err(), "nothing listens on {dead}: {r:?}");
    assert_eq!(
        read_pending_import(data.path()),
        Some(failing),
        "the failed import keeps its record"
    );

    // The import that completes replaces it, is recorded from its first event and clears it.
    let good = PendingImport {
        id: "import-good".into(),
        folder: dir.path().display().to_string(),
        registry: format!("{}/mirror", dst.host()),
        started_at: "2026-12-02T03:00:00Z".into(),
    };
    let d = data.path().to_path_buf();
    let (sink, seen) = watching(move || read_pending_import(&d));
    let s = app_resume::import(data.path(), "job-5", &good, ws.path(), sink, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(s.images_copied, 1, "{s:?}");
    assert_eq!(
        seen.lock().unwrap().clone(),
        Some(Some(good)),
        "recorded before the first byte"
    );
    assert_eq!(
        read_pending_import(data.path()),
        None,
        "no stale offer after a completed import"
    );
    assert!(manifest_digest(&dst, "mirror/apps/one", "v1").await.is_some());
}
