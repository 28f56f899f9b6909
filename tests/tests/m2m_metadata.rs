//! Mirror-to-mirror honours `storageConfig` as oc-mirror does, against real `docker-registry`
//! processes: the workspace metadata and the target's `<ns>/oc-mirror:<uid>` copy are written,
//! the sequence is checked against the target, images mirrored before are not copied again,
//! `--ignore-history` and `--skip-metadata-check` take effect (also in a dry run, which writes
//! no metadata), and `storageConfig.registry.skipTLS` applies to the metadata registry only.

use ferry_api::mirror::{mirror_to_mirror, ImageSelection, MirrorOptions};
use ferry_api::registry::RegistrySettings;
use ferry_api::{no_progress, CancellationToken, Destination, ErrorCode};
use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::path::Path;

fn registry(tls: bool) -> RegistryServer {
    RegistryServer::start(RegistryOpts {
        tls,
        auth: None,
        delete_enabled: false,
    })
}

async fn image(src: &RegistryServer, repo: &str, seed: u64) -> ferry_testkit::PushedImage {
    push_image(
        src,
        repo,
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec { size: 64 << 10, seed }],
            platforms: vec![],
        },
    )
    .await
}

fn config(images: &[String], storage: &str) -> ferry_api::config::ImageSetConfiguration {
    let list: String = images.iter().map(|i| format!("    - name: {i}\n")).collect();
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n{storage}mirror:\n  additionalImages:\n{list}"
    );
    ferry_api::config::parse_str(&yaml, "isc.yaml").unwrap()
}

fn local(dir: &Path) -> String {
    format!("  local:\n    path: {}\n", dir.display())
}

fn opts(ws: &Path, cfg: &ferry_api::config::ImageSetConfiguration) -> MirrorOptions {
    MirrorOptions {
        registry: RegistrySettings {
            source_use_http: true,
            dest_use_http: true,
            ..Default::default()
        },
        workspace: ws.to_path_buf(),
        ..Default::default()
    }
    .with_config(cfg)
}

async fn run(
    cfg: &ferry_api::config::ImageSetConfiguration,
    dest: &Destination,
    o: &MirrorOptions,
) -> ferry_api::Result<ferry_api::mirror::MirrorReport> {
    let sel = ImageSelection::from_config(cfg).unwrap();
    mirror_to_mirror(&sel, dest, o, no_progress(), CancellationToken::new()).await
}

fn local_metadata(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("publish/.metadata.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn records_metadata_checks_sequences_and_skips_history() {
    let (src, dst) = (registry(false), registry(false));
    let a = image(&src, "apps/a", 1).await;
    let b = image(&src, "apps/b", 2).await;
    let ws = tempfile::tempdir().unwrap();
    let meta = ws.path().join("meta");
    let dest = Destination::parse(&format!("docker://{}/m", dst.host())).unwrap();
    let one = config(&[format!("{}/apps/a:v1", src.host())], &local(&meta));

    // Sequence 1: the metadata is written to the backend and to the target as m/oc-mirror:<uid>.
    let r1 = run(&one, &dest, &opts(ws.path(), &one)).await.unwrap();
    assert_eq!((r1.sequence, r1.images_copied, r1.images_from_history), (Some(1), 1, 0));
    let uid = r1.uid.clone().unwrap();
    let md1 = local_metadata(&meta);
    assert_eq!(md1["uid"], uid.as_str());
    assert_eq!(md1["pastMirror"]["sequence"], 1);
    let assoc = &md1["pastAssociations"][0];
    assert_eq!(
        assoc["path"],
        format!("{}/m/apps/a", dst.host()),
        "m2m records the full destination"
    );
    assert_eq!(assoc["id"], a.digest.to_string());
    assert_eq!(
        manifest_digest(&dst, "m/oc-mirror", &uid).await.map(|d| d.to_string()),
        r1.metadata_image,
        "the target holds the metadata image the run reports"
    );
    let seq1_backup = std::fs::read(meta.join("publish/.metadata.json")).unwrap();

    // Sequence 2 adds b: a was mirrored before and is not copied again; results list both.
    let two = config(
        &[format!("{}/apps/a:v1", src.host()), format!("{}/apps/b:v1", src.host())],
        &local(&meta),
    );
    // A dry run reads and checks the metadata, plans only b and writes no metadata.
    let dry = MirrorOptions {
        dry_run: true,
        ..opts(ws.path(), &two)
    };
    let d = run(&two, &dest, &dry).await.unwrap();
    assert_eq!((d.sequence, d.images_from_history), (Some(2), 1));
    let mapping = std::fs::read_to_string(&d.mapping_file).unwrap();
    assert!(mapping.contains("apps/b") && !mapping.contains("apps/a"), "{mapping}");
    assert_eq!(
        local_metadata(&meta)["pastMirror"]["sequence"],
        1,
        "a dry run writes no metadata"
    );
    assert_eq!(
        manifest_digest(&dst, "m/apps/b", "v1").await,
        None,
        "a dry run copies nothing"
    );

    let r2 = run(&two, &dest, &opts(ws.path(), &two)).await.unwrap();
    assert_eq!((r2.sequence, r2.images_copied, r2.images_from_history), (Some(2), 1, 1));
    assert_eq!(r2.uid.as_deref(), Some(uid.as_str()));
    assert_eq!(manifest_digest(&dst, "m/apps/b", "v1").await, Some(b.digest.clone()));
    let md2 = local_metadata(&meta);
    assert_eq!(md2["pastMirror"]["sequence"], 2);
    assert_eq!(md2["pastAssociations"].as_array().unwrap().len(), 2, "{md2}");
    let results = std::fs::read_to_string(r2.results_dir.join("mapping.txt")).unwrap();
    assert!(results.contains("apps/a") && results.contains("apps/b"), "{results}");

    // --ignore-history: every image goes through the copy again (a is found up to date).
    let again = MirrorOptions {
        ignore_history: true,
        ..opts(ws.path(), &two)
    };
    let r3 = run(&two, &dest, &again).await.unwrap();
    assert_eq!(
        (r3.sequence, r3.images_up_to_date, r3.images_from_history),
        (Some(3), 2, 0)
    );

    // A backend restored to sequence 1 is out of step with the target (which holds 3): refused,
    // in a dry run too, naming the target image and the way out.
    std::fs::write(meta.join("publish/.metadata.json"), &seq1_backup).unwrap();
    for dry_run in [true, false] {
        let o = MirrorOptions {
            dry_run,
            ..opts(ws.path(), &two)
        };
        let e = run(&two, &dest, &o).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::Sequence, "{e}");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("m/oc-mirror:{uid}")) && msg.contains("expects sequence 4"),
            "{msg}"
        );
        assert!(msg.contains("--skip-metadata-check"), "{msg}");
    }
    // --skip-metadata-check mirrors anyway and records sequence 2 again.
    let skip = MirrorOptions {
        skip_metadata_check: true,
        ..opts(ws.path(), &two)
    };
    let r4 = run(&two, &dest, &skip).await.unwrap();
    assert_eq!(r4.sequence, Some(2));
    assert_eq!(local_metadata(&meta)["pastMirror"]["sequence"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_storage_config_nothing_is_recorded() {
    let (src, dst) = (registry(false), registry(false));
    image(&src, "apps/a", 3).await;
    let ws = tempfile::tempdir().unwrap();
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  additionalImages:\n    - name: {}/apps/a:v1\n",
        src.host()
    );
    let cfg = ferry_api::config::parse_str(&yaml, "isc.yaml").unwrap();
    let dest = Destination::parse(&format!("docker://{}/m", dst.host())).unwrap();
    let r = run(&cfg, &dest, &opts(ws.path(), &cfg)).await.unwrap();
    assert_eq!((r.sequence, r.uid, r.metadata_image), (None, None, None));
    assert_eq!(r.images_copied, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn skip_tls_applies_to_the_metadata_registry() {
    // Source and target speak plain HTTP (--source-use-http/--dest-use-http); the metadata
    // registry speaks TLS with a certificate nobody trusts.
    let (src, dst, md_reg) = (registry(false), registry(false), registry(true));
    image(&src, "apps/a", 4).await;
    let ws = tempfile::tempdir().unwrap();
    let dest = Destination::parse(&format!("docker://{}/m", dst.host())).unwrap();
    let storage = |skip: bool| {
        format!(
            "  registry:\n    imageURL: {}/meta/ws:latest\n    skipTLS: {skip}\n",
            md_reg.host()
        )
    };
    let images = [format!("{}/apps/a:v1", src.host())];

    // skipTLS false: the metadata registry's certificate is verified (and fails), whatever
    // the --source-*/--dest-* flags say.
    let strict = config(&images, &storage(false));
    let e = run(&strict, &dest, &opts(ws.path(), &strict)).await.unwrap_err();
    assert_eq!(e.code(), ErrorCode::Tls, "{e}");
    assert!(e.to_string().contains(&md_reg.host()), "{e}");

    // skipTLS true: TLS without verification for that registry; the metadata image is written.
    let lax = config(&images, &storage(true));
    let r = run(&lax, &dest, &opts(ws.path(), &lax)).await.unwrap();
    assert_eq!(r.sequence, Some(1));
    assert!(manifest_digest(&md_reg, "meta/ws", "latest").await.is_some());
    let uid = r.uid.unwrap();
    assert!(manifest_digest(&dst, "m/oc-mirror", &uid).await.is_some());
}
