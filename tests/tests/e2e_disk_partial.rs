//! A mirror-to-disk run under `--continue-on-error` where an image fails during the copy (its
//! layer is gone from the real source registry: the manifests plan fine, the blob download
//! fails). The run finishes the set without it and lists it; the set's own metadata (part
//! 000000) and the metadata backend both leave it out, so the media verifies, an import pushes
//! the rest without claiming it, and the next sequence carries it.

use ferry_api::disk::{disk_to_mirror, mirror_to_disk, DiskOptions};
use ferry_api::registry::RegistrySettings;
use ferry_api::{no_progress, CancellationToken, Destination};
use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::path::Path;

fn registry(delete_enabled: bool) -> RegistryServer {
    RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled,
    })
}

fn spec(seed: u64) -> ImageSpec {
    ImageSpec {
        format: ImageFormat::DockerV2S2,
        layers: vec![
            LayerSpec { size: 200 << 10, seed },
            LayerSpec {
                size: 20 << 10,
                seed: seed + 1,
            },
        ],
        platforms: vec![],
    }
}

fn config(images: &[String], meta: &Path) -> ferry_api::config::ImageSetConfiguration {
    let list: String = images.iter().map(|i| format!("    - name: {i}\n")).collect();
    ferry_api::config::parse_str(
        &format!(
            "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: {}\nmirror:\n  additionalImages:\n{list}",
            meta.display()
        ),
        "isc.yaml",
    )
    .unwrap()
}

/// Image paths (`path:tag`) the set's own metadata (part 000000) records.
fn set_images(dir: &Path) -> Vec<String> {
    ferry_api::disk::describe(dir)
        .unwrap()
        .images
        .iter()
        .map(|i| format!("{}:{}", i.path, i.tag))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_image_failing_during_the_copy_is_not_recorded_in_the_set() {
    let src = registry(true);
    let dst = registry(false);
    let good = push_image(&src, "apps/good", "v1", &spec(10)).await;
    let bad = push_image(&src, "apps/bad", "v1", &spec(20)).await;
    // The bad image's big layer disappears from the source: only its download can fail.
    let big = bad.blobs.iter().max_by_key(|b| b.1).unwrap().0.clone();
    let r = reqwest::Client::new()
        .delete(format!("{}/v2/apps/bad/blobs/{big}", src.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202, "blob deleted from the source");

    let h = src.host();
    let (meta, ws, dir) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let images = vec![format!("{h}/apps/good:v1"), format!("{h}/apps/bad:v1")];
    let opts = DiskOptions {
        registry: RegistrySettings {
            source_use_http: true,
            dest_use_http: true,
            ..Default::default()
        },
        archive_size_bytes: Some(64 << 20),
        workspace: ws.path().to_path_buf(),
        continue_on_error: true,
        ..Default::default()
    };
    let report = mirror_to_disk(
        &config(&images, meta.path()),
        dir.path(),
        &opts,
        no_progress(),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert!(report.written && report.partial(), "{report:?}");
    assert_eq!(report.failed.len(), 1, "{:?}", report.failed);
    assert!(report.failed[0].image.contains("apps/bad"), "{:?}", report.failed);

    // The set's own metadata does not claim it (before: part 000000 listed it).
    let recorded = set_images(dir.path());
    assert!(recorded.contains(&"apps/good:v1".to_string()), "{recorded:?}");
    assert!(
        !recorded.iter().any(|i| i.starts_with("apps/bad")),
        "part 000000 still claims the failed image: {recorded:?}"
    );
    // The corrected set is intact: every part hash and entry digest checks out.
    let v = ferry_api::disk::verify(dir.path()).unwrap();
    assert_eq!(v.parts_list, Some("sidecar"));
    // The report's part hashes are the ones on disk.
    for p in &report.parts {
        let bytes = std::fs::read(dir.path().join(&p.name)).unwrap();
        let sha = format!("sha256:{}", ferry_types::Digest::of(&bytes).hex());
        assert_eq!(p.sha256.as_deref(), Some(sha.as_str()), "{}", p.name);
    }
    // The backend agrees with the set.
    let backend: serde_json::Value =
        serde_json::from_slice(&std::fs::read(meta.path().join("publish/.metadata.json")).unwrap()).unwrap();
    let paths: Vec<&str> = ["pastMirror", "pastAssociations"]
        .iter()
        .flat_map(|k| {
            let list = if *k == "pastMirror" {
                &backend[k]["associations"]
            } else {
                &backend[k]
            };
            list.as_array().into_iter().flatten()
        })
        .filter_map(|a| a["path"].as_str())
        .collect();
    assert!(paths.contains(&"apps/good"), "{paths:?}");
    assert!(
        !paths.iter().any(|p| p.starts_with("apps/bad")),
        "the backend counts the failed image: {paths:?}"
    );

    // The import pushes the rest and claims nothing it does not have.
    let dest = Destination::parse(&format!("docker://{}/mirror", dst.host())).unwrap();
    let imported = disk_to_mirror(dir.path(), &dest, &opts, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert!(imported.failed.is_empty(), "{:?}", imported.failed);
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/good", "v1").await,
        Some(good.digest.clone())
    );
    assert_eq!(manifest_digest(&dst, "mirror/apps/bad", "v1").await, None);
}
