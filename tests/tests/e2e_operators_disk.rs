//! Operator catalogs on the disk path, through the facade, between real registries:
//! mirror-to-disk of a catalog the testkit builds, import into a second registry while the
//! source is frozen (SIGSTOP: nothing may reach it), the rebuilt catalog's `/configs` read back
//! equals the filtered catalog, CatalogSource and ICSP in the results, `pastMirror.operators`
//! and the operator associations in the metadata; then a new bundle is published in the source
//! catalog and sequence 2 carries only that bundle's images (and the new catalog image), the
//! heads-only channel remembered (the old bundle stays in the rebuilt catalog). Also an
//! `oci://` catalog, and bad input (an image without the catalog label, a package the catalog
//! does not have).

mod e2e_support;

use e2e_support::*;
use ferry_api::disk::DiskOptions;
use ferry_metadata::Metadata;
use ferry_testkit::{
    get_blob, get_manifest, manifest_digest, push_catalog_image, push_image, ImageFormat, ImageSpec, LayerSpec,
    PushedCatalog, RegistryServer,
};
use ferry_types::ImageKind;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

fn registry() -> RegistryServer {
    RegistryServer::plain()
}

fn opts(ws: &Path) -> DiskOptions {
    DiskOptions {
        archive_size_bytes: Some(64 << 20),
        ..disk_opts(ws)
    }
}

fn config(catalog: &str, packages: &str, metadata_dir: &Path) -> ferry_api::config::ImageSetConfiguration {
    isc(&format!(
        "{}mirror:\n  operators:\n  - catalog: {catalog}\n{packages}",
        local_storage(Some(metadata_dir))
    ))
}

fn spec(seed: u64) -> ImageSpec {
    ImageSpec {
        format: ImageFormat::Oci,
        layers: vec![LayerSpec { size: 8192, seed }],
        platforms: vec![],
    }
}

/// One bundle document of package `foo` (image and related image by tag, pinned by the planner).
fn bundle(host: &str, v: &str) -> String {
    format!(
        "---\nschema: olm.bundle\nname: foo.v{v}\npackage: foo\nimage: {host}/ops/foo-bundle:v{v}\nproperties:\n- type: olm.package\n  value:\n    packageName: foo\n    version: {v}\nrelatedImages:\n- name: operator\n  image: {host}/ops/foo-operator:v{v}\n"
    )
}

/// The FBC of the test catalog: package `foo`, channel `stable` over `versions` (each replacing
/// the one before).
fn fbc(host: &str, versions: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut entries = String::new();
    for (i, v) in versions.iter().enumerate() {
        entries.push_str(&format!("- name: foo.v{v}\n"));
        if i > 0 {
            entries.push_str(&format!("  replaces: foo.v{}\n", versions[i - 1]));
        }
    }
    let mut text = format!(
        "---\nschema: olm.package\nname: foo\ndefaultChannel: stable\n---\nschema: olm.channel\npackage: foo\nname: stable\nentries:\n{entries}"
    );
    for v in versions {
        text.push_str(&bundle(host, v));
    }
    BTreeMap::from([("index.yaml".to_string(), text.into_bytes())])
}

async fn publish_bundle(src: &RegistryServer, v: &str, seed: u64) {
    push_image(src, "ops/foo-bundle", &format!("v{v}"), &spec(seed)).await;
    push_image(src, "ops/foo-operator", &format!("v{v}"), &spec(seed + 1)).await;
}

/// The test catalog (see [`fbc`]) over `versions`, pushed as `repo:v1` in `src`.
async fn publish_catalog(src: &RegistryServer, repo: &str, versions: &[&str]) -> PushedCatalog {
    push_catalog_image(src, repo, "v1", &fbc(&src.host(), versions), &BTreeMap::new(), &[]).await
}

/// The local backend's metadata in `meta`.
fn local_metadata(meta: &Path) -> Metadata {
    Metadata::parse(&std::fs::read(meta.join("publish/.metadata.json")).unwrap(), "md").unwrap()
}

fn tar_files(gz: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).unwrap();
    let mut ar = tar::Archive::new(&raw[..]);
    let mut out = BTreeMap::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type().is_file() {
            let p = e.path().unwrap().to_string_lossy().into_owned();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            out.insert(p, b);
        }
    }
    out
}

/// The `/configs/index.json` of the (single-platform) catalog image at `repo:tag`, with its
/// config's labels and Cmd.
async fn rebuilt_configs(reg: &RegistryServer, repo: &str, tag: &str) -> (String, Value) {
    let (m, _) = get_manifest(reg, repo, tag).await.expect("rebuilt catalog pushed");
    let m: Value = serde_json::from_slice(&m).unwrap();
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 4, "2 source layers + whiteout + configs");
    let cfgs = tar_files(&get_blob(reg, repo, layers[3]["digest"].as_str().unwrap()).await);
    assert_eq!(cfgs.keys().collect::<Vec<_>>(), ["configs/index.json"]);
    let config: Value =
        serde_json::from_slice(&get_blob(reg, repo, m["config"]["digest"].as_str().unwrap()).await).unwrap();
    (String::from_utf8(cfgs["configs/index.json"].clone()).unwrap(), config)
}

/// Every entry name of the set's tars in `dir`.
fn entries(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "tar") {
            let mut ar = tar::Archive::new(std::fs::File::open(&p).unwrap());
            for en in ar.entries().unwrap() {
                out.insert(en.unwrap().path().unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

fn read_entry(dir: &Path, name: &str) -> Vec<u8> {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "tar") {
            let mut ar = tar::Archive::new(std::fs::File::open(&p).unwrap());
            for en in ar.entries().unwrap() {
                let mut en = en.unwrap();
                if en.path().unwrap().to_string_lossy() == name {
                    let mut b = Vec::new();
                    en.read_to_end(&mut b).unwrap();
                    return b;
                }
            }
        }
    }
    panic!("{name} not in the set at {}", dir.display());
}

/// Run `f` with the source registry frozen (SIGSTOP), so any request to it would hang the
/// import into the timeout instead of being answered.
async fn with_source_frozen<T>(src: &RegistryServer, f: impl std::future::Future<Output = T>) -> T {
    let pid = src.pid().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    let r = tokio::time::timeout(std::time::Duration::from_secs(120), f).await;
    assert!(std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status()
        .unwrap()
        .success());
    r.expect("the import finished without the source registry")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalog_travels_in_the_set_is_rebuilt_on_import_and_sequence_two_ships_only_the_new_bundle() {
    let (src, dst) = (registry(), registry());
    let h = src.host();
    publish_bundle(&src, "0.1.0", 10).await;
    let cat_repo = "ops/foo-catalog";
    publish_catalog(&src, cat_repo, &["0.1.0"]).await;
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let o = opts(ws.path());
    let cfg = config(&format!("{h}/{cat_repo}:v1"), "", meta.path());
    let dest = docker_dest(&dst, "mirror");

    // Sequence 1: the bundle, its related image and the source catalog image travel as images,
    // the filtered catalog and its pointer as files where oc-mirror keeps catalogs.
    let d1 = tempfile::tempdir().unwrap();
    let r1 = run_m2d(&cfg, d1.path(), &o).await.unwrap();
    assert!(r1.written);
    assert_eq!(r1.images, 3, "bundle + related image + catalog source");
    let names = entries(d1.path());
    let cat_dir = format!("catalogs/{h}/{cat_repo}/v1");
    assert!(names.contains(&format!("{cat_dir}/index/index.json")), "{names:?}");
    assert!(names.contains(&format!("{cat_dir}/ferry-catalog.json")), "{names:?}");
    let filtered1 = String::from_utf8(read_entry(d1.path(), &format!("{cat_dir}/index/index.json"))).unwrap();
    assert!(
        filtered1.contains("foo.v0.1.0") && filtered1.contains("@sha256:"),
        "pinned: {filtered1}"
    );

    // The backend metadata: pastMirror.operators in oc-mirror's form, operator associations.
    let md = local_metadata(meta.path());
    let ops = &md.past_mirror.operators;
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["catalog"], format!("{h}/{cat_repo}:v1"));
    assert!(ops[0]["imagePin"].as_str().unwrap().contains("@sha256:"));
    assert_eq!(
        ops[0]["packages"],
        serde_json::json!([{"name": "foo", "channels": [{"name": "stable", "minVersion": "0.1.0"}]}])
    );
    let kinds: BTreeSet<ImageKind> = md.past_associations.iter().map(|a| a.kind).collect();
    assert!(kinds.contains(&ImageKind::OperatorBundle) && kinds.contains(&ImageKind::OperatorCatalog));

    // Import with the source frozen: everything comes from the set.
    let ws1 = tempfile::tempdir().unwrap();
    let i1 = with_source_frozen(&src, run_d2m(d1.path(), &dest, &opts(ws1.path())))
        .await
        .unwrap();
    assert!(i1.failed.is_empty(), "{:?}", i1.failed);
    assert_eq!(
        i1.images_pushed, 2,
        "bundle and related image; the catalog is rebuilt, not copied"
    );
    let target_repo = format!("mirror/{cat_repo}");
    let (configs, config) = rebuilt_configs(&dst, &target_repo, "v1").await;
    assert_eq!(configs, filtered1, "read back equals the filtered catalog");
    assert_eq!(
        config["config"]["Labels"],
        serde_json::json!({"operators.operatorframework.io.index.configs.v1": "/configs"})
    );
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["serve", "/configs"]));
    for repo in ["ops/foo-bundle", "ops/foo-operator"] {
        let d = manifest_digest(&src, repo, "v0.1.0").await.unwrap();
        assert_eq!(
            manifest_digest(&dst, &format!("mirror/{repo}"), &d.to_string()).await,
            Some(d),
            "{repo} imported by digest"
        );
    }
    let cs = std::fs::read_to_string(i1.results_dir.join("catalogSource-foo-catalog.yaml")).unwrap();
    assert!(
        cs.contains(&format!("image: {}/mirror/{cat_repo}:v1", dst.host())),
        "{cs}"
    );
    assert!(cs.contains("sourceType: grpc") && !cs.contains("grpcPodConfig"), "{cs}");
    let icsp = std::fs::read_to_string(i1.results_dir.join("imageContentSourcePolicy.yaml")).unwrap();
    assert!(
        icsp.contains("operator-0")
            && icsp.contains(&format!("source: {h}/ops"))
            && icsp.contains(&format!("- {}/mirror/ops", dst.host())),
        "{icsp}"
    );
    let mapping = std::fs::read_to_string(i1.results_dir.join("mapping.txt")).unwrap();
    assert_eq!(
        mapping.lines().count(),
        2,
        "catalogs stay out of mapping.txt: {mapping}"
    );
    // The target metadata records the rebuilt catalog (not the source), so pruning sees it.
    let rebuilt = manifest_digest(&dst, &target_repo, "v1").await.unwrap().to_string();
    let client = ferry_api::registry::build_client(&o.registry, None).unwrap();
    let target = std::sync::Arc::new(client.registry(&dst.host()));
    let tmd = ferry_metadata::ImageBackend {
        source: target.clone(),
        dest: target,
        repo: "mirror/oc-mirror".into(),
        tag: md.uid.clone(),
    }
    .read()
    .await
    .unwrap()
    .expect("target metadata");
    let cats: Vec<_> = tmd
        .past_associations
        .iter()
        .filter(|a| a.kind == ImageKind::OperatorCatalog)
        .collect();
    assert_eq!(cats.len(), 1, "{cats:?}");
    assert_eq!(
        (cats[0].id.as_str(), cats[0].path.as_str()),
        (rebuilt.as_str(), cat_repo)
    );

    // A new bundle is published and the catalog image rebuilt in the source.
    publish_bundle(&src, "0.2.0", 20).await;
    publish_catalog(&src, cat_repo, &["0.1.0", "0.2.0"]).await;
    let d2 = tempfile::tempdir().unwrap();
    let r2 = run_m2d(&cfg, d2.path(), &o).await.unwrap();
    assert_eq!(r2.sequence, 2);
    // Heads only, remembered: the channel now runs from 0.1.0 (first run) to the new head.
    assert_eq!(r2.images, 5, "two bundles with their related images + the catalog");
    assert_eq!(
        r2.images_packed, 3,
        "the new bundle, its related image and the new catalog image"
    );
    let names2 = entries(d2.path());
    let manifests: BTreeSet<&str> = names2
        .iter()
        .filter(|n| n.starts_with("v2/") && n.contains("/manifests/sha256:"))
        .map(|n| n.split("/manifests/").next().unwrap())
        .collect();
    assert_eq!(
        manifests,
        BTreeSet::from(["v2/ops/foo-bundle", "v2/ops/foo-operator", "v2/ops/foo-catalog"]),
        "{names2:?}"
    );
    let blobs2 = names2.iter().filter(|n| n.starts_with("blobs/")).count();
    // New: bundle and operator (config + layer each), catalog (config + configs layer); the
    // catalog's base layer and every 0.1.0 blob come from history.
    assert_eq!(blobs2, 6, "{names2:?}");
    assert!(names2.iter().all(|n| !n.contains("v0.1.0")), "{names2:?}");

    let ws2 = tempfile::tempdir().unwrap();
    let i2 = with_source_frozen(&src, run_d2m(d2.path(), &dest, &opts(ws2.path())))
        .await
        .unwrap();
    assert!(i2.failed.is_empty(), "{:?}", i2.failed);
    let filtered2 = String::from_utf8(read_entry(d2.path(), &format!("{cat_dir}/index/index.json"))).unwrap();
    assert!(filtered2.contains("foo.v0.1.0") && filtered2.contains("foo.v0.2.0"));
    let (configs2, _) = rebuilt_configs(&dst, &target_repo, "v1").await;
    assert_eq!(configs2, filtered2);
    let d = manifest_digest(&src, "ops/foo-bundle", "v0.2.0").await.unwrap();
    assert_eq!(
        manifest_digest(&dst, "mirror/ops/foo-bundle", &d.to_string()).await,
        Some(d)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oci_layout_catalog_is_read_filtered_and_rebuilt() {
    let (src, dst) = (registry(), registry());
    let h = src.host();
    publish_bundle(&src, "0.1.0", 30).await;
    publish_catalog(&src, "ops/foo-catalog", &["0.1.0"]).await;
    let layout = tempfile::tempdir().unwrap();
    let dir = layout.path().join("foo-catalog");
    ferry_testkit::save_oci_layout(&src, "ops/foo-catalog", "v1", &dir).await;

    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let cfg = config(
        &format!("oci://{}", dir.display()),
        "    targetCatalog: ops/foo-from-oci\n    targetTag: v1\n",
        meta.path(),
    );
    let d = tempfile::tempdir().unwrap();
    let r = run_m2d(&cfg, d.path(), &opts(ws.path())).await.unwrap();
    assert_eq!(r.images, 3);
    let dest = docker_dest(&dst, "mirror");
    // The dry run lists the catalog it would rebuild, and pushes nothing.
    let wsd = tempfile::tempdir().unwrap();
    let dry = run_d2m(
        d.path(),
        &dest,
        &DiskOptions {
            dry_run: true,
            ..opts(wsd.path())
        },
    )
    .await
    .unwrap();
    assert_eq!(
        dry.would_rebuild,
        [format!(
            "oci://{} -> {}/mirror/ops/foo-from-oci:v1",
            dir.display(),
            dst.host()
        )]
    );
    assert!(get_manifest(&dst, "mirror/ops/foo-from-oci", "v1").await.is_none());
    let wsi = tempfile::tempdir().unwrap();
    let i = run_d2m(d.path(), &dest, &opts(wsi.path())).await.unwrap();
    assert!(i.failed.is_empty(), "{:?}", i.failed);
    assert!(i.would_rebuild.is_empty());
    let (configs, _) = rebuilt_configs(&dst, "mirror/ops/foo-from-oci", "v1").await;
    assert!(configs.contains("foo.v0.1.0") && configs.contains(&format!("{h}/ops/foo-bundle@sha256:")));
    assert!(i.results_dir.join("catalogSource-foo-from-oci.yaml").is_file());

    // A folder that is not a layout is refused, naming it.
    let cfg = config("oci:///nonexistent/layout", "", meta.path());
    let e = run_m2d(&cfg, d.path(), &opts(ws.path())).await.unwrap_err().to_string();
    assert!(e.contains("/nonexistent/layout") && e.contains("index.json"), "{e}");
}

/// Two `oci://` catalogs in folders of the same name (`a/foo-catalog`, `b/foo-catalog`) get
/// their own `catalogs/oci/foo-catalog-<fnv of the path>/…` folders in the set, each source is
/// read from its own layout, and each is rebuilt with its own bundles; the same plan twice
/// gives the same folders. Two layouts that would be rebuilt to one target are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn same_named_oci_layouts_stay_apart_in_the_set() {
    let (src, dst) = (registry(), registry());
    let h = src.host();
    publish_bundle(&src, "0.1.0", 40).await;
    publish_bundle(&src, "0.2.0", 42).await;
    let root = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for (sub, versions) in [("a", &["0.1.0"][..]), ("b", &["0.1.0", "0.2.0"][..])] {
        let tag = format!("v-{sub}");
        push_catalog_image(&src, "ops/foo-catalog", &tag, &fbc(&h, versions), &BTreeMap::new(), &[]).await;
        let dir = root.path().join(sub).join("foo-catalog");
        ferry_testkit::save_oci_layout(&src, "ops/foo-catalog", &tag, &dir).await;
        dirs.push(dir);
    }
    let meta = tempfile::tempdir().unwrap();
    let yaml = |second_target: &str| {
        format!(
            "{}mirror:\n  operators:\n  - catalog: oci://{}\n    targetCatalog: ops/foo-a\n    targetTag: v1\n  - catalog: oci://{}\n    targetCatalog: {second_target}\n    targetTag: v1\n",
            local_storage(Some(meta.path())),
            dirs[0].display(),
            dirs[1].display()
        )
    };
    let cfg = isc(&yaml("ops/foo-b"));
    let mut folders = Vec::new();
    let d = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let out = tempfile::tempdir().unwrap();
        let ws = tempfile::tempdir().unwrap();
        run_m2d(&cfg, out.path(), &opts(ws.path())).await.unwrap();
        let f: BTreeSet<String> = entries(out.path())
            .into_iter()
            .filter(|e| e.starts_with("catalogs/") && e.ends_with("/ferry-catalog.json"))
            .collect();
        folders.push(f);
        if folders.len() == 2 {
            break;
        }
        for e in std::fs::read_dir(out.path()).unwrap() {
            let p = e.unwrap().path();
            std::fs::rename(&p, d.path().join(p.file_name().unwrap())).unwrap();
        }
        // The second plan must not see the first as an earlier sequence.
        std::fs::remove_dir_all(meta.path()).unwrap();
        std::fs::create_dir_all(meta.path()).unwrap();
    }
    assert_eq!(folders[0].len(), 2, "{:?}", folders[0]);
    assert_eq!(folders[0], folders[1], "stable across runs");
    for f in &folders[0] {
        assert!(f.starts_with("catalogs/oci/foo-catalog-"), "{f}");
    }
    let wsi = tempfile::tempdir().unwrap();
    let i = run_d2m(d.path(), &docker_dest(&dst, "mirror"), &opts(wsi.path()))
        .await
        .unwrap();
    assert!(i.failed.is_empty(), "{:?}", i.failed);
    let (a, _) = rebuilt_configs(&dst, "mirror/ops/foo-a", "v1").await;
    let (b, _) = rebuilt_configs(&dst, "mirror/ops/foo-b", "v1").await;
    assert!(a.contains("foo.v0.1.0") && !a.contains("foo.v0.2.0"), "{a}");
    assert!(b.contains("foo.v0.2.0"), "{b}");

    // Without targetCatalog both would be rebuilt under the folder's name: refused, naming both.
    let clash = isc(&format!(
        "{}mirror:\n  operators:\n  - catalog: oci://{}\n  - catalog: oci://{}\n",
        local_storage(Some(meta.path())),
        dirs[0].display(),
        dirs[1].display()
    ));
    let ws = tempfile::tempdir().unwrap();
    let e = run_m2d(&clash, root.path(), &opts(ws.path()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("foo-catalog")
            && e.contains(&dirs[0].display().to_string())
            && e.contains(&dirs[1].display().to_string())
            && e.contains("targetCatalog"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_catalogs_are_refused_naming_the_catalog_and_package() {
    let src = registry();
    let h = src.host();
    // An image that is not a catalog: no configs label.
    push_image(&src, "ops/not-a-catalog", "v1", &spec(40)).await;
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    let cfg = config(&format!("{h}/ops/not-a-catalog:v1"), "", meta.path());
    let e = run_m2d(&cfg, d.path(), &opts(ws.path())).await.unwrap_err().to_string();
    assert!(
        e.contains("ops/not-a-catalog:v1") && e.contains("operators.operatorframework.io.index.configs.v1"),
        "{e}"
    );

    // A package the catalog does not have.
    publish_bundle(&src, "0.1.0", 50).await;
    publish_catalog(&src, "ops/foo-catalog", &["0.1.0"]).await;
    let cfg = config(
        &format!("{h}/ops/foo-catalog:v1"),
        "    packages:\n    - name: bar\n",
        meta.path(),
    );
    let e = run_m2d(&cfg, d.path(), &opts(ws.path())).await.unwrap_err().to_string();
    assert!(e.contains("bar") && e.contains("ops/foo-catalog:v1"), "{e}");
    // Nothing was written for either.
    assert!(!d.path().join("mirror_seq1_000000.tar").exists());
}

/// Mirror-to-mirror records the same operator metadata: `pastMirror.operators` and the rebuilt
/// catalog as an `operatorCatalog` association (its digest in the target), and a second run
/// after a new bundle keeps the remembered start (both bundles in the rebuilt catalog).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mirror_to_mirror_records_past_operators_and_the_rebuilt_catalog() {
    use ferry_api::mirror::ImageSelection;
    let (src, dst) = (registry(), registry());
    let h = src.host();
    publish_bundle(&src, "0.1.0", 60).await;
    let cat_repo = "ops/foo-catalog";
    publish_catalog(&src, cat_repo, &["0.1.0"]).await;
    let meta = tempfile::tempdir().unwrap();
    let cfg = config(&format!("{h}/{cat_repo}:v1"), "", meta.path());
    let sel = ImageSelection::from_config(&cfg).unwrap();
    let ws = tempfile::tempdir().unwrap();
    let o = mirror_opts(ws.path()).with_config(&cfg);
    let dest = docker_dest(&dst, "mirror");
    let r1 = run_m2m(&sel, &dest, &o).await.unwrap();
    assert_eq!(r1.sequence, Some(1));
    let md = local_metadata(meta.path());
    assert_eq!(md.past_mirror.operators.len(), 1);
    assert_eq!(md.past_mirror.operators[0]["catalog"], format!("{h}/{cat_repo}:v1"));
    let rebuilt = manifest_digest(&dst, &format!("mirror/{cat_repo}"), "v1")
        .await
        .unwrap();
    let cat: Vec<_> = md
        .past_associations
        .iter()
        .filter(|a| a.kind == ImageKind::OperatorCatalog)
        .collect();
    assert_eq!(cat.len(), 1, "{cat:?}");
    assert_eq!(cat[0].id, rebuilt.to_string());
    assert_eq!(cat[0].path, format!("{}/mirror/{cat_repo}", dst.host()));

    publish_bundle(&src, "0.2.0", 70).await;
    publish_catalog(&src, cat_repo, &["0.1.0", "0.2.0"]).await;
    let r2 = run_m2m(&sel, &dest, &o).await.unwrap();
    assert_eq!(r2.images_from_history, 2, "the 0.1.0 bundle and related image");
    assert_eq!(r2.images_copied, 2, "only the new bundle and its related image");
    let (configs, _) = rebuilt_configs(&dst, &format!("mirror/{cat_repo}"), "v1").await;
    assert!(
        configs.contains("foo.v0.1.0") && configs.contains("foo.v0.2.0"),
        "{configs}"
    );
}
