//! Pruning against real `docker-registry` processes: mirror a set, shrink it, see the plan
//! (pruning-plan.json and the report; nothing deleted without --prune), prune, check the target
//! by HEAD, and a second run prunes nothing. An image the new set keeps that shares its digest
//! with a dropped one is never deleted; a registry with deletion disabled (405) is explained
//! and nothing is recorded; nothing is deleted when the run had failures. Mirror-to-mirror and
//! disk-to-mirror both.

use ferry_api::disk::{disk_to_mirror, mirror_to_disk, DiskOptions};
use ferry_api::mirror::{mirror_to_mirror, ImageSelection, MirrorOptions, MirrorReport};
use ferry_api::registry::RegistrySettings;
use ferry_api::{no_progress, CancellationToken, Destination};
use ferry_testkit::{
    manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, PushedImage, RegistryOpts, RegistryServer,
};
use std::path::Path;

fn registry(delete_enabled: bool) -> RegistryServer {
    RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled,
    })
}

fn spec(seed: u64, platforms: &[&str]) -> ImageSpec {
    ImageSpec {
        format: ImageFormat::Oci,
        layers: vec![LayerSpec { size: 32 << 10, seed }],
        platforms: platforms.iter().map(|a| ("linux".to_string(), a.to_string())).collect(),
    }
}

fn config(images: &[String], meta: &Path) -> ferry_api::config::ImageSetConfiguration {
    let list: String = images.iter().map(|i| format!("    - name: {i}\n")).collect();
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: {}\nmirror:\n  additionalImages:\n{list}",
        meta.display()
    );
    ferry_api::config::parse_str(&yaml, "isc.yaml").unwrap()
}

fn settings() -> RegistrySettings {
    RegistrySettings {
        source_use_http: true,
        dest_use_http: true,
        ..Default::default()
    }
}

fn m2m_opts(ws: &Path, cfg: &ferry_api::config::ImageSetConfiguration, prune: bool, dry_run: bool) -> MirrorOptions {
    MirrorOptions {
        registry: settings(),
        workspace: ws.to_path_buf(),
        prune,
        dry_run,
        ..Default::default()
    }
    .with_config(cfg)
}

async fn m2m(
    cfg: &ferry_api::config::ImageSetConfiguration,
    dest: &Destination,
    o: &MirrorOptions,
) -> ferry_api::Result<MirrorReport> {
    let sel = ImageSelection::from_config(cfg).unwrap();
    mirror_to_mirror(&sel, dest, o, no_progress(), CancellationToken::new()).await
}

fn plan_file(ws: &Path) -> Option<serde_json::Value> {
    let b = std::fs::read(ws.join("pruning-plan.json")).ok()?;
    Some(serde_json::from_slice(&b).unwrap())
}

/// (repository, manifests) of a pruning-plan.json.
fn plan_repos(v: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    v["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let m = r["manifests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_string());
            (r["name"].as_str().unwrap().to_string(), m.collect())
        })
        .collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

struct Images {
    keep: PushedImage,
    same_digest: PushedImage,
    dropped: PushedImage,
    list: PushedImage,
}

async fn push_set(src: &RegistryServer) -> Images {
    let keep = push_image(src, "apps/keep", "v1", &spec(1, &[])).await;
    // The same manifest under a second tag of the same repository: dropping this tag must not
    // delete the digest the kept tag needs.
    let same_digest = push_image(src, "apps/keep", "old", &spec(1, &[])).await;
    assert_eq!(keep.digest, same_digest.digest);
    let dropped = push_image(src, "apps/dropped", "v1", &spec(2, &[])).await;
    let list = push_image(src, "apps/multi", "v1", &spec(3, &["amd64", "arm64"])).await;
    assert_eq!(list.children.len(), 2);
    Images {
        keep,
        same_digest,
        dropped,
        list,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn m2m_plan_shown_kept_by_default_deleted_with_prune_and_second_run_prunes_nothing() {
    let (src, dst) = (registry(false), registry(true));
    let img = push_set(&src).await;
    let h = src.host();
    let ws = tempfile::tempdir().unwrap();
    let meta = ws.path().join("meta");
    let dest = Destination::parse(&format!("docker://{}/m", dst.host())).unwrap();
    let full = config(
        &[
            format!("{h}/apps/keep:v1"),
            format!("{h}/apps/keep:old"),
            format!("{h}/apps/dropped:v1"),
            format!("{h}/apps/multi:v1"),
        ],
        &meta,
    );
    let r1 = m2m(&full, &dest, &m2m_opts(ws.path(), &full, true, false))
        .await
        .unwrap();
    assert!(
        r1.prune.as_ref().unwrap().plan.is_empty(),
        "first run: nothing recorded yet"
    );
    assert!(plan_file(ws.path()).is_none());
    assert_eq!(
        manifest_digest(&dst, "m/apps/dropped", "v1").await,
        Some(img.dropped.digest.clone())
    );

    let shrunk = config(&[format!("{h}/apps/keep:v1")], &meta);
    let want_dropped = vec![img.dropped.digest.to_string()];
    let mut want_multi: Vec<String> = img.list.children.iter().map(|d| d.to_string()).collect();
    want_multi.push(img.list.digest.to_string());
    let want_multi = sorted(want_multi);

    // Dry run: the plan is written and reported; nothing is deleted.
    let d = m2m(&shrunk, &dest, &m2m_opts(ws.path(), &shrunk, true, true))
        .await
        .unwrap();
    let p = d.prune.unwrap();
    assert_eq!(p.plan.images.len(), 2, "{:?}", p.plan);
    assert_eq!(p.plan.children.len(), 2, "children of the list are listed separately");
    assert!(p.kept_because.as_deref().unwrap().contains("dry run"), "{p:?}");
    let file = plan_file(ws.path()).expect("pruning-plan.json written on a dry run");
    assert_eq!(file["registry"], dst.host());
    assert_eq!(
        plan_repos(&file),
        vec![
            ("m/apps/dropped".to_string(), want_dropped.clone()),
            ("m/apps/multi".to_string(), want_multi.clone())
        ],
        "the kept image (and its second tag's shared digest) is not in the plan"
    );
    assert_eq!(
        manifest_digest(&dst, "m/apps/dropped", "v1").await,
        Some(img.dropped.digest.clone())
    );

    // A real run without --prune: the plan again, images kept and still recorded.
    let r2 = m2m(&shrunk, &dest, &m2m_opts(ws.path(), &shrunk, false, false))
        .await
        .unwrap();
    let p = r2.prune.unwrap();
    assert_eq!((p.plan.len(), p.deleted), (4, 0));
    assert!(p.kept_because.as_deref().unwrap().contains("--prune"), "{p:?}");
    assert_eq!(
        manifest_digest(&dst, "m/apps/dropped", "v1").await,
        Some(img.dropped.digest.clone())
    );
    assert_eq!(
        manifest_digest(&dst, "m/apps/multi", "v1").await,
        Some(img.list.digest.clone())
    );
    let md: serde_json::Value =
        serde_json::from_slice(&std::fs::read(meta.join("publish/.metadata.json")).unwrap()).unwrap();
    let paths: Vec<&str> = md["pastAssociations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.iter().any(|p| p.ends_with("/m/apps/dropped")),
        "kept images stay recorded so a later --prune finds them: {paths:?}"
    );

    // --prune: exactly the plan is deleted; the kept image answers under both tags.
    let r3 = m2m(&shrunk, &dest, &m2m_opts(ws.path(), &shrunk, true, false))
        .await
        .unwrap();
    let p = r3.prune.unwrap();
    assert_eq!((p.plan.len(), p.deleted, p.already_gone), (4, 4, 0), "{p:?}");
    assert!(p.kept_because.is_none());
    assert_eq!(manifest_digest(&dst, "m/apps/dropped", "v1").await, None);
    assert_eq!(manifest_digest(&dst, "m/apps/multi", "v1").await, None);
    for c in &img.list.children {
        assert_eq!(
            manifest_digest(&dst, "m/apps/multi", &c.to_string()).await,
            None,
            "child {c}"
        );
    }
    assert_eq!(
        manifest_digest(&dst, "m/apps/keep", "v1").await,
        Some(img.keep.digest.clone())
    );
    assert_eq!(
        manifest_digest(&dst, "m/apps/keep", "old").await,
        Some(img.same_digest.digest.clone()),
        "the digest the new set needs was not deleted"
    );
    let results = std::fs::read_to_string(r3.results_dir.join("mapping.txt")).unwrap();
    assert!(
        !results.contains("apps/dropped") && results.contains("apps/keep"),
        "{results}"
    );

    // A second run with --prune prunes nothing and leaves no stale plan.
    let r4 = m2m(&shrunk, &dest, &m2m_opts(ws.path(), &shrunk, true, false))
        .await
        .unwrap();
    let p = r4.prune.unwrap();
    assert!(p.plan.is_empty() && p.deleted == 0, "{p:?}");
    assert!(plan_file(ws.path()).is_none());
    assert_eq!(
        manifest_digest(&dst, "m/apps/keep", "v1").await,
        Some(img.keep.digest.clone())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deletion_disabled_is_explained_and_failures_hold_pruning_back() {
    let (src, dst) = (registry(false), registry(false));
    let a = push_image(&src, "apps/a", "v1", &spec(11, &[])).await;
    let b = push_image(&src, "apps/b", "v1", &spec(12, &[])).await;
    let h = src.host();
    let ws = tempfile::tempdir().unwrap();
    let meta = ws.path().join("meta");
    let dest = Destination::parse(&format!("docker://{}/m", dst.host())).unwrap();
    let both = config(&[format!("{h}/apps/a:v1"), format!("{h}/apps/b:v1")], &meta);
    m2m(&both, &dest, &m2m_opts(ws.path(), &both, false, false))
        .await
        .unwrap();

    // A run with a missing image (tolerated by --skip-missing) has planning errors: even with
    // --prune nothing is deleted, and the report says why.
    let partial = config(&[format!("{h}/apps/a:v1"), format!("{h}/apps/missing:v1")], &meta);
    let o = MirrorOptions {
        skip_missing: true,
        ..m2m_opts(ws.path(), &partial, true, false)
    };
    let r = m2m(&partial, &dest, &o).await.unwrap();
    let p = r.prune.unwrap();
    assert_eq!(p.plan.len(), 1);
    assert_eq!(p.deleted, 0);
    assert!(
        p.kept_because.as_deref().unwrap().contains("planning had errors"),
        "{p:?}"
    );
    assert_eq!(manifest_digest(&dst, "m/apps/b", "v1").await, Some(b.digest.clone()));

    // Deletion disabled on the registry (405): the run fails saying what to change, nothing
    // is recorded, and the run without --prune then goes through.
    let one = config(&[format!("{h}/apps/a:v1")], &meta);
    let before = std::fs::read(meta.join("publish/.metadata.json")).unwrap();
    let err = m2m(&one, &dest, &m2m_opts(ws.path(), &one, true, false))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("REGISTRY_STORAGE_DELETE_ENABLED=true") && msg.contains(&dst.host()) && msg.contains("m/apps/b"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read(meta.join("publish/.metadata.json")).unwrap(),
        before,
        "nothing recorded"
    );
    assert!(plan_file(ws.path()).is_some(), "the plan was written before the DELETE");
    assert_eq!(manifest_digest(&dst, "m/apps/b", "v1").await, Some(b.digest.clone()));
    let r = m2m(&one, &dest, &m2m_opts(ws.path(), &one, false, false))
        .await
        .unwrap();
    assert_eq!(r.prune.unwrap().deleted, 0);
    assert_eq!(manifest_digest(&dst, "m/apps/a", "v1").await, Some(a.digest));
}

fn disk_opts(ws: &Path, prune: bool, dry_run: bool) -> DiskOptions {
    DiskOptions {
        registry: settings(),
        workspace: ws.to_path_buf(),
        prune,
        dry_run,
        ..Default::default()
    }
}

async fn export(cfg: &ferry_api::config::ImageSetConfiguration, dir: &Path, ws: &Path) {
    let o = disk_opts(ws, false, false);
    mirror_to_disk(cfg, dir, &o, no_progress(), CancellationToken::new())
        .await
        .unwrap();
}

async fn import(dir: &Path, dest: &Destination, ws: &Path, dry_run: bool) -> ferry_api::disk::ImportReport {
    let o = disk_opts(ws, true, dry_run);
    disk_to_mirror(dir, dest, &o, no_progress(), CancellationToken::new())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn d2m_shrunk_set_is_planned_then_pruned_with_prune() {
    let (src, dst) = (registry(false), registry(true));
    let img = push_set(&src).await;
    let h = src.host();
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let dest = Destination::parse(&format!("docker://{}/mirror", dst.host())).unwrap();
    let full = config(
        &[
            format!("{h}/apps/keep:v1"),
            format!("{h}/apps/keep:old"),
            format!("{h}/apps/dropped:v1"),
            format!("{h}/apps/multi:v1"),
        ],
        meta.path(),
    );
    // A set with nothing new writes no media ("No updates detected"), as in oc-mirror; the
    // shrunk set adds one image so that there is a sequence 2 to import.
    push_image(&src, "apps/new", "v1", &spec(4, &[])).await;
    let shrunk = config(&[format!("{h}/apps/keep:v1"), format!("{h}/apps/new:v1")], meta.path());
    let (dir1, dir2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    export(&full, dir1.path(), ws.path()).await;
    let i1 = import(dir1.path(), &dest, ws.path(), false).await;
    assert!(i1.prune.unwrap().plan.is_empty());
    export(&shrunk, dir2.path(), ws.path()).await;

    // Dry run of the import: the plan, nothing deleted.
    let d = import(dir2.path(), &dest, ws.path(), true).await;
    let p = d.prune.unwrap();
    assert_eq!(
        (p.plan.images.len(), p.plan.children.len(), p.deleted),
        (2, 2, 0),
        "{p:?}"
    );
    let file = plan_file(ws.path()).unwrap();
    let repos: Vec<String> = plan_repos(&file).into_iter().map(|(r, _)| r).collect();
    assert_eq!(repos, vec!["mirror/apps/dropped", "mirror/apps/multi"]);
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/dropped", "v1").await,
        Some(img.dropped.digest.clone())
    );

    let i2 = import(dir2.path(), &dest, ws.path(), false).await;
    let p = i2.prune.unwrap();
    assert_eq!((p.deleted, p.already_gone), (4, 0), "{p:?}");
    assert_eq!(manifest_digest(&dst, "mirror/apps/dropped", "v1").await, None);
    assert_eq!(manifest_digest(&dst, "mirror/apps/multi", "v1").await, None);
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/keep", "v1").await,
        Some(img.keep.digest.clone())
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/keep", "old").await,
        Some(img.keep.digest.clone())
    );
}
