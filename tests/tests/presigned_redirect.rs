//! Pre-signed storage URLs never leave the engine: a loopback front for a real docker-registry
//! answers every blob GET with a 307 to a storage URL whose query carries a secret
//! (`X-Amz-Signature=…`), and the storage end fails every download. The failed run's error (and
//! its wire form), every progress event and the app's `history.jsonl` line for it hold no trace
//! of the query string; the history and pending-export files are mode 0600. The CLI side (log
//! lines at trace level, the printed error) is `crates/ferry-cli/tests/presigned.rs`.

use ferry_api::app_history::{append_history, read_history, write_pending, PendingExport};
use ferry_api::disk::{mirror_to_disk, DiskOptions};
use ferry_api::registry::RegistrySettings;
use ferry_api::wire::{HistoryEntry, JobKind, WireError};
use ferry_api::{CancellationToken, ProgressEvent, ProgressSink};
use ferry_testkit::presigned::PresignedFront;
use ferry_testkit::{push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::os::unix::fs::PermissionsExt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

const SECRET: &str = "SECRETxSIGNATURE0123456789abcdef";

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_presigned_download_leaks_no_query_string() {
    let src = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let spec = ImageSpec {
        format: ImageFormat::Oci,
        layers: vec![LayerSpec {
            size: 64 << 10,
            seed: 910,
        }],
        platforms: vec![],
    };
    push_image(&src, "apps/signed", "v1", &spec).await;
    let front = PresignedFront::start(&src, SECRET).await;
    let (meta, out, data) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: {}\nmirror:\n  additionalImages:\n  - name: {}/apps/signed:v1\n",
        meta.path().display(),
        front.host()
    );
    let cfg = ferry_api::config::parse_str(&yaml, "isc.yaml").unwrap();
    let events: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink: ProgressSink = {
        let events = events.clone();
        // The app's path: the facade's redacting sink in front of what the UI gets.
        ferry_api::app_progress::redacting(Arc::new(move |ev: ProgressEvent| {
            events.lock().unwrap().push(serde_json::to_string(&ev).unwrap());
        }))
    };
    let opts = DiskOptions {
        registry: RegistrySettings {
            source_use_http: true,
            ..Default::default()
        },
        archive_size_bytes: Some(64 << 20),
        ..Default::default()
    };
    let err = mirror_to_disk(&cfg, out.path(), &opts, sink, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        front.store_hits.load(Ordering::SeqCst) > 0,
        "the redirect to the signed URL was followed"
    );
    let text = format!("{err} | {err:?}");
    assert!(!text.contains(SECRET), "the error leaks the signed query: {text}");
    assert!(text.contains("apps/signed"), "the error still names the image: {text}");
    let wire = WireError::from(err);
    assert!(!wire.message.contains(SECRET), "{}", wire.message);
    let events = events.lock().unwrap().clone();
    assert!(
        events
            .iter()
            .any(|e| e.contains("blobFailed") || e.contains("blobRetrying")),
        "the failure reached the progress events: {events:?}"
    );
    for e in &events {
        assert!(!e.contains(SECRET), "a progress event leaks the signed query: {e}");
    }

    // The app's history line for this run, as the job runner writes it.
    let entry = HistoryEntry {
        id: "job-1".into(),
        kind: JobKind::MirrorToDisk,
        backend: out.path().display().to_string(),
        sequence: None,
        started_at: "2026-12-01T20:00:00Z".into(),
        images: 0,
        bytes: 0,
        // The run's error, and a storage URL as a lower layer might quote it unredacted:
        // the history writer strips the query either way.
        outcome: format!(
            "internal: {text} (storage: http://{}/_store/blob?X-Amz-Credential={SECRET}&X-Amz-Signature={SECRET})",
            front.host()
        ),
    };
    append_history(data.path(), &entry).unwrap();
    let hist = data.path().join("history.jsonl");
    let on_disk = std::fs::read_to_string(&hist).unwrap();
    assert!(!on_disk.contains(SECRET), "{on_disk}");
    assert_eq!(read_history(data.path()).len(), 1);
    assert_eq!(mode(&hist), 0o600, "history.jsonl is private");
    write_pending(
        data.path(),
        &PendingExport {
            id: "job-1".into(),
            yaml,
            folder: out.path().display().to_string(),
            started_at: "2026-12-01T20:00:00Z".into(),
            config_path: None,
        },
    )
    .unwrap();
    for f in std::fs::read_dir(data.path()).unwrap().flatten() {
        assert_eq!(mode(&f.path()), 0o600, "{} is private", f.path().display());
    }
}
