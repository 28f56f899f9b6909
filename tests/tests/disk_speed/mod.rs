//! Speed that users feel (issue 8 item 18), counted at the registry: a counting front
//! (`ferry_testkit::counting`) forwards to a real docker-registry and records every request.
//!
//! - Each manifest is fetched once per run: tag resolution, planning and the copy share it
//!   (mirror-to-disk and mirror-to-mirror).
//! - Sequence 2 of a set whose new image shares a layer with an image of sequence 1 in another
//!   repository mounts that layer inside the target (`POST ?mount=&from=`, 201) instead of
//!   reading it back and uploading it again, on disk-to-mirror and on mirror-to-mirror; the
//!   images pull back with the source's digests and the mounted layer verifies.

use super::{config, dest, layer, opts, registry};
use ferry_api::disk::{disk_to_mirror, mirror_to_disk};
use ferry_api::mirror::{mirror_to_mirror, ImageSelection, MirrorOptions};
use ferry_api::{no_progress, CancellationToken, Destination};
use ferry_testkit::counting::CountingFront;
use ferry_testkit::{blob_digest, manifest_digest, push_image, ImageFormat, ImageSpec};

fn one_fetch_each(front: &CountingFront, expected: usize, what: &str) {
    let gets = front.manifest_gets();
    assert_eq!(gets.len(), expected, "{what}: manifests fetched: {gets:?}");
    for (path, n) in &gets {
        assert_eq!(*n, 1, "{what}: {path} fetched {n} times: {gets:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_manifest_is_fetched_once_per_run() {
    let src = registry();
    let front = CountingFront::start(&src).await;
    push_image(
        &src,
        "apps/one",
        "v1",
        &ImageSpec {
            format: ImageFormat::DockerV2S2,
            layers: vec![layer(64 << 10, 1)],
            platforms: vec![],
        },
    )
    .await;
    let multi = push_image(
        &src,
        "apps/multi",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(32 << 10, 2)],
            platforms: vec![("linux".into(), "amd64".into()), ("linux".into(), "arm64".into())],
        },
    )
    .await;
    assert_eq!(multi.children.len(), 2);
    let h = front.host();
    let images = vec![format!("{h}/apps/one:v1"), format!("{h}/apps/multi:v1")];
    // Two tags, two children: four manifests, each fetched exactly once (the tops by tag).
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let r = mirror_to_disk(
        &config(&images, meta.path()),
        dir.path(),
        &opts(ws.path(), 1 << 30),
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(r.written && r.images_packed == 2, "{r:?}");
    one_fetch_each(&front, 4, "mirror-to-disk");
    for c in &multi.children {
        assert!(
            front.manifest_gets().iter().any(|(p, _)| p.ends_with(&c.to_string())),
            "child {c} was fetched"
        );
    }

    front.reset();
    let dst = registry();
    let ws2 = tempfile::tempdir().unwrap();
    let mopts = MirrorOptions {
        registry: opts(ws2.path(), 1 << 30).registry,
        workspace: ws2.path().to_path_buf(),
        ..Default::default()
    };
    let sel = ImageSelection {
        additional: images.clone(),
        ..Default::default()
    };
    let m = mirror_to_mirror(&sel, &dest(&dst), &mopts, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(m.images_copied, 2);
    one_fetch_each(&front, 4, "mirror-to-mirror");
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/multi", "v1").await,
        Some(multi.digest)
    );
}

/// `(repo, tag)` pushed with a layer shared across repositories.
async fn push_app(src: &ferry_testkit::RegistryServer, repo: &str, own_seed: u64) -> ferry_testkit::PushedImage {
    push_image(
        src,
        repo,
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            // seed 50: the shared base layer
            layers: vec![layer(256 << 10, 50), layer(64 << 10, own_seed)],
            platforms: vec![],
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn later_sequences_mount_shared_layers_from_earlier_repositories() {
    let src = registry();
    let h = src.host();
    let app1 = push_app(&src, "apps/one", 51).await;
    let shared = app1.blobs[1].0.clone();

    // Disk path: sequence 1 carries app1, sequence 2 adds app2 (another repository), whose
    // shared layer therefore is not on the media.
    let target = registry();
    let tfront = CountingFront::start(&target).await;
    let to = Destination::parse(&format!("docker://{}/mirror", tfront.host())).unwrap();
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let o = opts(ws.path(), 1 << 30);
    let seq1 = tempfile::tempdir().unwrap();
    let one = vec![format!("{h}/apps/one:v1")];
    mirror_to_disk(
        &config(&one, meta.path()),
        seq1.path(),
        &o,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    disk_to_mirror(seq1.path(), &to, &o, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    let app2 = push_app(&src, "apps/two", 52).await;
    assert_eq!(app2.blobs[1].0, shared);
    let seq2 = tempfile::tempdir().unwrap();
    let both = vec![format!("{h}/apps/one:v1"), format!("{h}/apps/two:v1")];
    let r2 = mirror_to_disk(
        &config(&both, meta.path()),
        seq2.path(),
        &o,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(r2.sequence, 2);
    tfront.reset();
    let i2 = disk_to_mirror(seq2.path(), &to, &o, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert!(i2.failed.is_empty(), "{:?}", i2.failed);
    let mounts = tfront.mounts();
    assert!(
        mounts.contains(&("mirror/apps/two".into(), shared.to_string(), "mirror/apps/one".into())),
        "the shared layer was mounted from sequence 1's repository: {mounts:?}"
    );
    let uploads = tfront.uploads();
    assert!(
        !uploads.iter().any(|(_, d)| *d == shared.to_string()),
        "the shared layer was not uploaded again: {uploads:?}"
    );
    assert!(
        !tfront
            .seen()
            .iter()
            .any(|s| s.method == "GET" && s.target.ends_with(&format!("/blobs/{shared}"))),
        "nor read back from the target"
    );
    assert_eq!(
        manifest_digest(&target, "mirror/apps/two", "v1").await,
        Some(app2.digest.clone())
    );
    for (d, size) in &app2.blobs {
        assert_eq!(
            blob_digest(&target, "mirror/apps/two", d).await,
            Some((d.clone(), *size))
        );
    }

    // Registry to registry, with a storageConfig: run 1 mirrors app1, run 2 adds app2.
    let m2m_target = registry();
    let mfront = CountingFront::start(&m2m_target).await;
    let mto = Destination::parse(&format!("docker://{}/mirror", mfront.host())).unwrap();
    let mmeta = tempfile::tempdir().unwrap();
    let ws2 = tempfile::tempdir().unwrap();
    let mopts = |images: &[String]| {
        MirrorOptions {
            registry: o.registry.clone(),
            workspace: ws2.path().to_path_buf(),
            ..Default::default()
        }
        .with_config(&config(images, mmeta.path()))
    };
    let sel = |images: &[String]| ImageSelection {
        additional: images.to_vec(),
        ..Default::default()
    };
    mirror_to_mirror(&sel(&one), &mto, &mopts(&one), no_progress(), CancellationToken::new())
        .await
        .unwrap();
    mfront.reset();
    let m2 = mirror_to_mirror(
        &sel(&both),
        &mto,
        &mopts(&both),
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!((m2.images_copied, m2.images_from_history), (1, 1), "{m2:?}");
    let mounts = mfront.mounts();
    assert!(
        mounts.contains(&("mirror/apps/two".into(), shared.to_string(), "mirror/apps/one".into())),
        "m2m: the shared layer was mounted: {mounts:?}"
    );
    assert!(!mfront.uploads().iter().any(|(_, d)| *d == shared.to_string()));
    assert_eq!(
        manifest_digest(&m2m_target, "mirror/apps/two", "v1").await,
        Some(app2.digest)
    );
}
