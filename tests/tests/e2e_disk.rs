//! Mirror-to-disk and disk-to-mirror through the facade, against real `docker-registry`
//! processes: round trip with digests equal to the source, two sequences in order, sequences
//! out of order rejected, damaged media rejected before any push, an interrupted import resumed.

use ferry_api::disk::{describe, disk_to_mirror, mirror_to_disk, verify, DiskOptions};
use ferry_api::registry::RegistrySettings;
use ferry_api::{no_progress, CancellationToken, Destination, ErrorCode, ProgressEvent};
use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

// Item 18 of issue 8: manifests read once, shared layers mounted (counted at the registry).
mod disk_speed;

fn layer(size: u64, seed: u64) -> LayerSpec {
    LayerSpec { size, seed }
}

fn registry() -> RegistryServer {
    RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    })
}

fn opts(ws: &Path, split: u64) -> DiskOptions {
    DiskOptions {
        registry: RegistrySettings {
            source_use_http: true,
            dest_use_http: true,
            ..Default::default()
        },
        archive_size_bytes: Some(split),
        workspace: ws.to_path_buf(),
        ..Default::default()
    }
}

fn config(images: &[String], metadata_dir: &Path) -> ferry_api::config::ImageSetConfiguration {
    let list: String = images.iter().map(|i| format!("    - name: {i}\n")).collect();
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: {}\nmirror:\n  additionalImages:\n{list}",
        metadata_dir.display()
    );
    ferry_api::config::parse_str(&yaml, "isc.yaml").unwrap()
}

fn tars(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tar"))
        .collect();
    v.sort();
    v
}

fn dest(reg: &RegistryServer) -> Destination {
    Destination::parse(&format!("docker://{}/mirror", reg.host())).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn round_trip_two_sequences_in_order_and_out_of_order() {
    let src = registry();
    let dst = registry();
    let base = layer(1 << 20, 1);
    let web = push_image(
        &src,
        "apps/web",
        "v1",
        &ImageSpec {
            format: ImageFormat::DockerV2S2,
            layers: vec![base, layer(512 << 10, 2)],
            platforms: vec![],
        },
    )
    .await;
    let multi = push_image(
        &src,
        "tools/multi",
        "latest",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(256 << 10, 4)],
            platforms: vec![("linux".into(), "amd64".into()), ("linux".into(), "arm64".into())],
        },
    )
    .await;
    let big = push_image(
        &src,
        "apps/big",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(3 << 20, 9)],
            platforms: vec![],
        },
    )
    .await;
    let h = src.host();
    let mut images = vec![
        format!("{h}/apps/web:v1"),
        format!("{h}/tools/multi:latest"),
        format!("{h}/apps/big:v1"),
    ];
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let split = 2 << 20;
    let o = opts(ws.path(), split);

    // Sequence 1, split at 2 MiB; the 3 MiB layer gets a part of its own.
    let dir1 = tempfile::tempdir().unwrap();
    let r1 = mirror_to_disk(
        &config(&images, meta.path()),
        dir1.path(),
        &o,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(r1.written);
    assert_eq!(r1.sequence, 1);
    assert_eq!(r1.oversized.len(), 1, "{:?}", r1.oversized);
    let parts = tars(dir1.path());
    assert!(parts.len() >= 3, "{parts:?}");
    assert!(parts[0].ends_with("mirror_seq1_000000.tar"));
    let big_blob = big.blobs.iter().max_by_key(|b| b.1).unwrap();
    for p in &parts {
        let len = std::fs::metadata(p).unwrap().len();
        let holds_big = ferry_archive_set(p).contains(&format!("blobs/{}", big_blob.0));
        assert!(
            len <= split || holds_big,
            "{} is {len} bytes, over {split}",
            p.display()
        );
    }
    let d = describe(dir1.path()).unwrap();
    assert_eq!(d.sequence, Some(1));
    assert_eq!(d.images.len(), 3);
    let v = verify(dir1.path()).unwrap();
    assert_eq!(v.parts, parts.len());
    // Every source blob is in the set exactly once.
    let unique: std::collections::BTreeSet<_> = web
        .blobs
        .iter()
        .chain(&multi.blobs)
        .chain(&big.blobs)
        .map(|b| b.0.to_string())
        .collect();
    assert_eq!(d.blobs, unique.len());

    // Import sequence 1: every manifest digest equal to the source.
    let i1 = disk_to_mirror(dir1.path(), &dest(&dst), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(i1.sequence, 1);
    assert_eq!(i1.images_pushed, 3);
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/web", "v1").await,
        Some(web.digest.clone())
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/tools/multi", "latest").await,
        Some(multi.digest.clone())
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/big", "v1").await,
        Some(big.digest.clone())
    );
    for c in &multi.children {
        assert_eq!(
            manifest_digest(&dst, "mirror/tools/multi", &c.to_string()).await,
            Some(c.clone())
        );
    }
    assert!(
        manifest_digest(&dst, "mirror/oc-mirror", &r1.uid).await.is_some(),
        "target metadata image written"
    );
    let mapping = std::fs::read_to_string(i1.results_dir.join("mapping.txt")).unwrap();
    assert!(
        mapping.contains(&format!(
            "{h}/apps/web@{}={}/mirror/apps/web:v1",
            web.digest,
            dst.host()
        )),
        "{mapping}"
    );

    // Nothing new: no tar, sequence unchanged.
    let dir_same = tempfile::tempdir().unwrap();
    let r = mirror_to_disk(
        &config(&images, meta.path()),
        dir_same.path(),
        &o,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(!r.written);
    assert!(tars(dir_same.path()).is_empty());

    // Sequence 2: a new image sharing the base layer of apps/web (shipped in sequence 1).
    let api = push_image(
        &src,
        "apps/api",
        "v2",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![base, layer(300 << 10, 3)],
            platforms: vec![],
        },
    )
    .await;
    images.push(format!("{h}/apps/api:v2"));
    let dir2 = tempfile::tempdir().unwrap();
    let r2 = mirror_to_disk(
        &config(&images, meta.path()),
        dir2.path(),
        &o,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(r2.written);
    assert_eq!(r2.sequence, 2);
    assert_eq!(r2.uid, r1.uid);
    assert_eq!(r2.images_packed, 1);
    assert!(r2.blobs_from_history >= 1, "{r2:?}");
    let base_digest = web.blobs.iter().find(|b| b.1 > (1 << 20)).unwrap().0.clone();
    assert!(
        !ferry_archive_set(dir2.path()).contains(&format!("blobs/{base_digest}")),
        "shared base layer not shipped again"
    );

    // Out of order: sequence 2 into a registry that has nothing → rejected, nothing pushed.
    let fresh = registry();
    let err = disk_to_mirror(dir2.path(), &dest(&fresh), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Sequence);
    let msg = err.to_string();
    assert!(
        msg.contains("expects sequence 1") && msg.contains("sequence 2"),
        "{msg}"
    );
    assert_eq!(manifest_digest(&fresh, "mirror/apps/api", "v2").await, None);
    // Sequence 1 again into the target that already has it → rejected too.
    let err = disk_to_mirror(dir1.path(), &dest(&dst), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expects sequence 2"), "{err}");

    // In order: sequence 2 imports; its base layer comes from the target's apps/web.
    let i2 = disk_to_mirror(dir2.path(), &dest(&dst), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(i2.sequence, 2);
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/api", "v2").await,
        Some(api.digest.clone())
    );

    // --skip-metadata-check lets a set in anyway (the documented recovery path).
    let skip = DiskOptions {
        skip_metadata_check: true,
        ..o.clone()
    };
    disk_to_mirror(
        dir1.path(),
        &dest(&fresh),
        &skip,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        manifest_digest(&fresh, "mirror/apps/web", "v1").await,
        Some(web.digest.clone())
    );
}

/// Entry names of a part or of every part in a directory, as GNU tar lists them (also checks
/// that plain `tar` reads Ferry's parts).
fn ferry_archive_set(p: &Path) -> std::collections::BTreeSet<String> {
    let mut names = std::collections::BTreeSet::new();
    let files = if p.is_dir() { tars(p) } else { vec![p.to_path_buf()] };
    for f in files {
        let o = std::process::Command::new("tar").arg("tf").arg(&f).output().unwrap();
        names.extend(String::from_utf8_lossy(&o.stdout).lines().map(|l| l.to_string()));
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn damaged_media_is_rejected_before_anything_is_pushed() {
    let src = registry();
    let dst = registry();
    let img = push_image(
        &src,
        "apps/web",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(600 << 10, 11), layer(600 << 10, 12)],
            platforms: vec![],
        },
    )
    .await;
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let o = opts(ws.path(), 1 << 20);
    let dir = tempfile::tempdir().unwrap();
    let images = vec![format!("{}/apps/web:v1", src.host())];
    mirror_to_disk(
        &config(&images, meta.path()),
        dir.path(),
        &o,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    let parts = tars(dir.path());
    assert!(parts.len() >= 2);

    // Flipped byte inside a layer.
    let target = parts[1].clone();
    let mut bytes = std::fs::read(&target).unwrap();
    let mid = 512 * 3 + 1000;
    bytes[mid] ^= 0x01;
    std::fs::write(&target, &bytes).unwrap();
    let err = disk_to_mirror(dir.path(), &dest(&dst), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(target.file_name().unwrap().to_str().unwrap()), "{msg}");
    assert!(msg.contains("blobs/sha256:") || msg.contains("corrupted"), "{msg}");
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/web", "v1").await,
        None,
        "nothing pushed"
    );
    assert!(verify(dir.path()).is_err());
    bytes[mid] ^= 0x01;

    // Truncated part.
    std::fs::write(&target, &bytes[..bytes.len() / 2]).unwrap();
    let err = disk_to_mirror(dir.path(), &dest(&dst), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("truncated") && err.to_string().contains("mirror_seq1_000001.tar"),
        "{err}"
    );

    // Missing part.
    std::fs::remove_file(&target).unwrap();
    let err = disk_to_mirror(dir.path(), &dest(&dst), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("mirror_seq1_000001.tar is missing"), "{err}");
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/web", "v1").await,
        None,
        "nothing pushed"
    );

    // Restored media imports fine.
    std::fs::write(&target, &bytes).unwrap();
    disk_to_mirror(dir.path(), &dest(&dst), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(manifest_digest(&dst, "mirror/apps/web", "v1").await, Some(img.digest));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn interrupted_import_resumes_and_skips_what_the_target_holds() {
    let src = registry();
    let dst = registry();
    let a = push_image(
        &src,
        "apps/a",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(2 << 20, 21), layer(2 << 20, 22)],
            platforms: vec![],
        },
    )
    .await;
    let b = push_image(
        &src,
        "apps/b",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(2 << 20, 23), layer(2 << 20, 24)],
            platforms: vec![],
        },
    )
    .await;
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let o = DiskOptions {
        parallel_images: 1,
        parallel_blobs: 1,
        ..opts(ws.path(), 1 << 30)
    };
    let dir = tempfile::tempdir().unwrap();
    let images = vec![format!("{}/apps/a:v1", src.host()), format!("{}/apps/b:v1", src.host())];
    mirror_to_disk(
        &config(&images, meta.path()),
        dir.path(),
        &o,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();

    // Stop the import as soon as the first blob is in the target.
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let progress: ferry_api::ProgressSink = Arc::new(move |e: ProgressEvent| {
        if matches!(e, ProgressEvent::BlobDone { .. }) {
            c2.cancel();
        }
    });
    let err = disk_to_mirror(dir.path(), &dest(&dst), &o, progress, cancel)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert_eq!(manifest_digest(&dst, "mirror/oc-mirror", "x").await, None);

    let again = disk_to_mirror(dir.path(), &dest(&dst), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert!(
        again.blobs_skipped >= 1,
        "blobs pushed before the interruption are not sent again: {again:?}"
    );
    assert_eq!(manifest_digest(&dst, "mirror/apps/a", "v1").await, Some(a.digest));
    assert_eq!(manifest_digest(&dst, "mirror/apps/b", "v1").await, Some(b.digest));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registry_storage_config_keeps_metadata_in_an_image() {
    let src = registry();
    let meta_reg = registry();
    let dst = registry();
    let img = push_image(
        &src,
        "apps/web",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(100 << 10, 31)],
            platforms: vec![],
        },
    )
    .await;
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  registry:\n    imageURL: {}/meta/ferry-metadata:latest\n    skipTLS: true\nmirror:\n  additionalImages:\n    - name: {}/apps/web:v1\n",
        meta_reg.host(),
        src.host()
    );
    let cfg = ferry_api::config::parse_str(&yaml, "isc.yaml").unwrap();
    let ws = tempfile::tempdir().unwrap();
    let o = opts(ws.path(), 1 << 30);
    let dir = tempfile::tempdir().unwrap();
    let r = mirror_to_disk(&cfg, dir.path(), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(r.sequence, 1);
    // oc-mirror's format: a single-layer image holding publish/.metadata.json.
    let (manifest, _) = ferry_testkit::get_manifest(&meta_reg, "meta/ferry-metadata", "latest")
        .await
        .unwrap();
    let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(m["layers"].as_array().unwrap().len(), 1);
    // The next run reads it back: nothing new, same sequence.
    let dir2 = tempfile::tempdir().unwrap();
    let r2 = mirror_to_disk(&cfg, dir2.path(), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert!(!r2.written);
    assert_eq!(r2.sequence, 1);
    assert_eq!(r2.uid, r.uid);
    disk_to_mirror(dir.path(), &dest(&dst), &o, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(manifest_digest(&dst, "mirror/apps/web", "v1").await, Some(img.digest));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn strict_archive_fails_before_writing() {
    let src = registry();
    push_image(
        &src,
        "apps/big",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(2 << 20, 41)],
            platforms: vec![],
        },
    )
    .await;
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let o = DiskOptions {
        strict_archive: true,
        ..opts(ws.path(), 1 << 20)
    };
    let dir = tempfile::tempdir().unwrap();
    let images = vec![format!("{}/apps/big:v1", src.host())];
    let err = mirror_to_disk(
        &config(&images, meta.path()),
        dir.path(),
        &o,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("--strict-archive") && msg.contains("apps/big"), "{msg}");
    assert!(tars(dir.path()).is_empty(), "nothing written");
}
