//! The oc-mirror v1 e2e test cases that need whole workflows rather than the planner alone
//! (`v1/test/e2e/testcases.sh` and `lib/workflow.sh` in oc-mirror), run through the facade
//! against real `docker-registry` processes, each checked the way `check_bundles` checks it:
//! the rebuilt catalog's `/configs/index.json` is read back from the target registry and its
//! bundles compared with oc-mirror's expected list.
//!
//! * `pruned_catalogs_with_include` (`imageset-config-filter-multi-prune.yaml`): mirror-to-disk
//!   and import of `test-catalog-prune`, then of `test-catalog-prune-diff` (the publisher dropped
//!   foo.v0.1.1 for foo.v0.2.0) as sequence 2; the second import prunes the dropped bundle's
//!   image (`check_image_removed`). Ferry deletes only with `--prune`, so the imports pass it.
//!   `pruned_catalogs_mirror_to_mirror` does the same with the headsonly configuration and two
//!   mirror-to-mirror runs.
//! * `m2m_oci_catalog` and `m2d2m_oci_catalog` (`imageset-config-oci-mirror.yaml`): the catalog
//!   read from an `oci://` layout (oc-mirror ships it as `artifacts/oc-mirror-dev.tgz`, an OCI
//!   layout of the e2e catalog; here the testkit saves the served e2e catalog as one), mirrored
//!   to a registry directly and through media.
//! * `headsonly_diff` and `package_filtering` (headsonly twice; filter then filter-multi): the
//!   diff steps over `test-catalog-diff` (foo.v0.3.2 added, skipping 0.3.0 and 0.3.1) after a
//!   first sequence over `test-catalog-latest`, with oc-mirror's expected lists for both;
//!   `registry_backend` likewise with the metadata in a registry image.
//! * `no_updates_exist`: the same run twice over an unchanged catalog writes no sequence 2.
//! * `m2m_release_with_oci_catalog` (`imageset-config-oci-mirror-all.yaml`): release (OKD channel
//!   from the e2e graph document, `cincinnatti.json`, its 0.2.0 payload a generated signed
//!   release), `oci://` catalog and an additional image in one mirror-to-mirror run under
//!   `docker://…/test-catalog-latest`; oc-mirror checks the three images with `crane digest`.

use crate::e2e_support::*;
use crate::release_support::httpd::{Httpd, Request, Response};
use crate::release_support::*;
use ferry_api::config::ImageSetConfiguration;
use ferry_api::disk::DiskOptions;
use ferry_api::mirror::ImageSelection;
use ferry_api::Destination;
use ferry_testkit::{
    bundle_names, catalog_image_refs, catalog_index_json, fbc_folder, manifest_digest, push_catalog_image, push_image,
    rewrite_catalog_images, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer,
};
use std::collections::BTreeMap;
use std::path::Path;

const CONFIGS: &str = "oc-mirror/oc-mirror/v1/test/e2e/configs";
const CATALOGS: &str = "fbc/oc-mirror/tests/integration/image-builders/operator/catalogs";
/// oc-mirror's e2e `OCI_REGISTRY_NAMESPACE` and `OCI_CTLG` (x86_64).
const OCI_NS: &str = "redhatgov";
const OCI_CTLG: &str = "oc-mirror-dev";
const CATALOG_REPO: &str = "redhatgov/oc-mirror-dev";

/// oc-mirror's e2e configuration `name` with its placeholders replaced (in this order, as
/// `prepare_mirror_testdata` does with sed).
fn oc_mirror_config(name: &str, vars: &[(&str, String)]) -> Option<ImageSetConfiguration> {
    let p = ferry_testkit::fixture(&format!("{CONFIGS}/{name}"))?;
    let mut text = std::fs::read_to_string(p).unwrap();
    for (k, v) in vars {
        text = text.replace(k, v);
    }
    Some(ferry_api::config::parse_str(&text, name).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// The bundles of the catalog image `<ns>/repo:tag` in `reg` (`ns` empty: the registry root),
/// read from its `/configs/index.json`.
async fn check_bundles(reg: &RegistryServer, ns: &str, repo: &str, tag: &str) -> Vec<String> {
    let under = |path: &str| match ns {
        "" => path.to_string(),
        _ => format!("{ns}/{path}"),
    };
    let repo = under(repo);
    let index = catalog_index_json(reg, &repo, tag)
        .await
        .unwrap_or_else(|| panic!("{}/{repo}:{tag}: no catalog with /configs/index.json", reg.host()));
    // A served catalog must not name an image the target lacks: every image reference in it
    // (bundle images and related images, pinned) resolves in the target under its source path.
    for r in catalog_image_refs(&index) {
        let (name, digest) = r.split_once('@').unwrap_or_else(|| panic!("{r}: not pinned"));
        let path = name.split_once('/').unwrap().1;
        let dest_repo = under(path);
        assert!(
            manifest_digest(reg, &dest_repo, digest).await.is_some(),
            "{r} is not in the target as {dest_repo}@{digest}"
        );
    }
    bundle_names(&index)
}

fn split(list: &str) -> Vec<String> {
    list.split(' ').map(String::from).collect()
}

/// Two of oc-mirror's split-file test catalogs (`first` for sequence 1, `second` for sequence
/// 2), their images rewritten in one pass so that an image both name (bar's bundle, the shared
/// operator image) is one image in the source.
async fn catalog_pair(src: &RegistryServer, first: &str, second: &str) -> Option<[BTreeMap<String, Vec<u8>>; 2]> {
    let first = ferry_testkit::fixture(&format!("{CATALOGS}/{first}"))?;
    let second = ferry_testkit::fixture(&format!("{CATALOGS}/{second}"))?;
    let folders = [fbc_folder(&first), fbc_folder(&second)];
    let mut joined = String::new();
    for (i, f) in folders.iter().enumerate() {
        for (path, bytes) in f {
            joined.push_str(&format!("\n#ferry-file {i} {path}\n"));
            joined.push_str(std::str::from_utf8(bytes).unwrap());
        }
    }
    let joined = rewrite_catalog_images(src, &joined, 77).await;
    let mut out: [BTreeMap<String, Vec<u8>>; 2] = Default::default();
    for part in joined.split("\n#ferry-file ").skip(1) {
        let (head, body) = part.split_once('\n').unwrap();
        let (i, path) = head.split_once(' ').unwrap();
        out[i.parse::<usize>().unwrap()].insert(path.to_string(), body.as_bytes().to_vec());
    }
    Some(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn filter_multi_prune_second_sequence_prunes_the_dropped_bundle() {
    let src = RegistryServer::plain();
    let Some([first, second]) = catalog_pair(&src, "test-catalog-prune", "test-catalog-prune-diff").await else {
        return;
    };
    let dst = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: true,
    });
    let h = src.host();
    let data = tempfile::tempdir().unwrap();
    let vars = [
        ("METADATA_CATALOGNAMESPACE", format!("{h}/{CATALOG_REPO}")),
        ("DATA_TMP", data.path().display().to_string()),
    ];
    let cfg = oc_mirror_config("imageset-config-filter-multi-prune.yaml", &vars).unwrap();
    // As oc-mirror's `workflow_full`/`workflow_diff`: publish to the registry root.
    let dest = Destination::parse(&format!("docker://{}", dst.host())).unwrap();
    let opts = |ws: &Path, prune: bool| DiskOptions { prune, ..disk_opts(ws) };
    let ops = "oc-mirror/oc-mirror-dev";
    let digest = |tag: &'static str| {
        let src = &src;
        async move { manifest_digest(src, ops, tag).await.unwrap().to_string() }
    };
    let (foo011, foo020, bar010) = (
        digest("foo-bundle-v0.1.1").await,
        digest("foo-bundle-v0.2.0").await,
        digest("bar-bundle-v0.1.0").await,
    );
    let shared = catalog_image_refs(std::str::from_utf8(&first["foo/bundles.yaml"]).unwrap())
        .into_iter()
        .find(|r| r.contains('@'))
        .unwrap();
    let shared = shared.split_once('@').unwrap().1.to_string();
    // The bundle image's tag in the target: FNV-32a of its pinned pull spec (oc-mirror's
    // `CATALOG_ID` is this tag of the bundle the second catalog drops).
    let fnv_tag = format!("{:x}", ferry_catalog::images::fnv32a(&format!("{h}/{ops}@{foo011}")));

    // Sequence 1: test-catalog-prune as test-catalog-latest (prep_registry's retag).
    push_catalog_image(&src, CATALOG_REPO, "test-catalog-latest", &first, &BTreeMap::new(), &[]).await;
    let (ws, d1) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert!(run_m2d(&cfg, d1.path(), &opts(ws.path(), false)).await.unwrap().written);
    let i1 = run_d2m(d1.path(), &dest, &opts(ws.path(), true)).await.unwrap();
    assert!(i1.failed.is_empty(), "{:?}", i1.failed);
    assert_eq!(
        check_bundles(&dst, "", CATALOG_REPO, "test-catalog-latest").await,
        split("bar.v0.1.0 foo.v0.1.1")
    );
    assert_eq!(
        manifest_digest(&dst, ops, &fnv_tag).await.map(|d| d.to_string()),
        Some(foo011.clone()),
        "check_image_exists {ops}:{fnv_tag}"
    );

    // Sequence 2: the publisher replaced foo.v0.1.1 by foo.v0.2.0 (skips it).
    push_catalog_image(
        &src,
        CATALOG_REPO,
        "test-catalog-latest",
        &second,
        &BTreeMap::new(),
        &[],
    )
    .await;
    let d2 = tempfile::tempdir().unwrap();
    let r2 = run_m2d(&cfg, d2.path(), &opts(ws.path(), false)).await.unwrap();
    assert_eq!((r2.written, r2.sequence), (true, 2));
    let i2 = run_d2m(d2.path(), &dest, &opts(ws.path(), true)).await.unwrap();
    assert!(i2.failed.is_empty(), "{:?}", i2.failed);
    assert_eq!(
        check_bundles(&dst, "", CATALOG_REPO, "test-catalog-latest").await,
        split("bar.v0.1.0 foo.v0.2.0")
    );
    let p = i2.prune.expect("a pruning report");
    let planned: Vec<(&str, &str)> = p
        .plan
        .images
        .iter()
        .map(|c| (c.repository.as_str(), c.digest.as_str()))
        .collect();
    assert!(planned.contains(&(ops, foo011.as_str())), "{planned:?}");
    assert!(
        !planned
            .iter()
            .any(|(_, d)| [&foo020, &bar010, &shared].contains(&&d.to_string())),
        "only dropped images are planned: {planned:?}"
    );
    assert_eq!(p.deleted + p.already_gone, p.plan.images.len() + p.plan.children.len());
    // check_image_removed: the dropped bundle is gone by digest and by its tag; what the new
    // catalog names stays.
    assert_eq!(manifest_digest(&dst, ops, &foo011).await, None);
    assert_eq!(manifest_digest(&dst, ops, &fnv_tag).await, None);
    for d in [&foo020, &bar010, &shared] {
        assert!(manifest_digest(&dst, ops, d).await.is_some(), "{ops}@{d} kept");
    }
    println!("filter-multi-prune: matched (seq 1, seq 2, dropped bundle pruned: {planned:?})");
}

/// The e2e catalog served in `src` and saved as the OCI layout `<data>/mirror_oci/oc-mirror-dev`
/// (where oc-mirror's `prepare_oci_testdata` unpacks `oc-mirror-dev.tgz`).
async fn oci_catalog(src: &RegistryServer, data: &Path) -> Option<()> {
    crate::serve_e2e_catalog(src).await?;
    let dir = data.join("mirror_oci").join(OCI_CTLG);
    ferry_testkit::save_oci_layout(src, CATALOG_REPO, "test-catalog-latest", &dir).await;
    Some(())
}

fn oci_vars(data: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("DATA_TMP", data.display().to_string()),
        ("OCI_REGISTRY_NAMESPACE", OCI_NS.to_string()),
        ("OCI_CTLG", OCI_CTLG.to_string()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oci_mirror_catalog_from_a_layout_mirror_to_mirror_and_through_media() {
    let src = RegistryServer::plain();
    let (data_m2m, data_m2d) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    if oci_catalog(&src, data_m2m.path()).await.is_none() {
        return;
    }
    oci_catalog(&src, data_m2d.path()).await.unwrap();
    let want = split("baz.v1.0.1");

    // m2m_oci_catalog: straight to the registry root.
    let cfg = oc_mirror_config("imageset-config-oci-mirror.yaml", &oci_vars(data_m2m.path())).unwrap();
    let dst = RegistryServer::plain();
    let dest = Destination::parse(&format!("docker://{}", dst.host())).unwrap();
    let ws = tempfile::tempdir().unwrap();
    let sel = ImageSelection::from_config(&cfg).unwrap();
    let r = run_m2m(&sel, &dest, &mirror_opts(ws.path()).with_config(&cfg))
        .await
        .unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    assert_eq!(check_bundles(&dst, "", CATALOG_REPO, "test-catalog-latest").await, want);

    // m2d2m_oci_catalog: the same configuration through media into another registry.
    let cfg = oc_mirror_config("imageset-config-oci-mirror.yaml", &oci_vars(data_m2d.path())).unwrap();
    let dst2 = RegistryServer::plain();
    let dest2 = Destination::parse(&format!("docker://{}", dst2.host())).unwrap();
    let (ws, media) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert!(
        run_m2d(&cfg, media.path(), &disk_opts(ws.path()))
            .await
            .unwrap()
            .written
    );
    let i = run_d2m(media.path(), &dest2, &disk_opts(ws.path())).await.unwrap();
    assert!(i.failed.is_empty(), "{:?}", i.failed);
    assert_eq!(
        check_bundles(&dst2, "", CATALOG_REPO, "test-catalog-latest").await,
        want
    );
    println!("oci-mirror: matched (mirror-to-mirror and mirror-to-disk-to-mirror)");
}

/// oc-mirror's e2e update graph (`graph/cincinnatti.json`) with its one selectable node's
/// payload (0.2.0) pointed at `payload`, served for every query (as its `graph/main.go` does).
async fn e2e_graph(payload: &str) -> Option<Httpd> {
    let p = ferry_testkit::fixture("cincinnati/oc-mirror/v1/test/e2e/graph/cincinnatti.json")?;
    let text = std::fs::read_to_string(p).unwrap();
    let mut g: serde_json::Value = serde_json::from_str(&text).unwrap();
    for n in g["nodes"].as_array_mut().unwrap() {
        if n["version"] == "0.2.0" {
            n["payload"] = payload.into();
        }
    }
    let body = serde_json::to_vec(&g).unwrap();
    Some(
        Httpd::start(move |_r: Request| {
            let body = body.clone();
            async move { Response::bytes(200, body).header("Content-Type", "application/json") }
        })
        .await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oci_mirror_all_release_catalog_and_additional_image_in_one_run() {
    let src = RegistryServer::plain();
    let data = tempfile::tempdir().unwrap();
    if oci_catalog(&src, data.path()).await.is_none() {
        return;
    }
    let h = src.host();
    // The release 0.2.0 with oc-mirror's e2e component name, signed by a test key.
    let comps = push_components(&src, &["alpime"], "0.2.0").await;
    let rel = push_release(&src, "0.2.0", &comps).await;
    let Some(graph) = e2e_graph(&payload(&src, &rel)).await else {
        return;
    };
    let keys = keyring();
    let sig = sign_release(&keys.key, &rel, &release_identity(&src, "0.2.0"));
    let sigsrv = signature_server(sigs(vec![(rel.clone(), sig)])).await;
    // nextest runs each test in its own process, so these reach only this test.
    use_graph(&graph);
    use_signing(&keys.file, &sigsrv);
    let bar = push_image(
        &src,
        &format!("{OCI_NS}/oc-mirror-dev"),
        "bar-v0.1.0",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec { size: 4096, seed: 91 }],
            platforms: vec![],
        },
    )
    .await;

    let mut vars = oci_vars(data.path());
    vars.insert(0, ("quay.io/OCI_REGISTRY_NAMESPACE", format!("{h}/{OCI_NS}")));
    let cfg = oc_mirror_config("imageset-config-oci-mirror-all.yaml", &vars).unwrap();
    let dst = RegistryServer::plain();
    let dest = docker_dest(&dst, "test-catalog-latest");
    let ws = tempfile::tempdir().unwrap();
    let sel = ImageSelection::from_config(&cfg).unwrap();
    let r = run_m2m(&sel, &dest, &mirror_opts(ws.path()).with_config(&cfg))
        .await
        .unwrap();
    assert!(r.failed.is_empty(), "{:?}", r.failed);
    // The three `crane digest` checks of the e2e case.
    let ns = "test-catalog-latest";
    assert_eq!(
        manifest_digest(&dst, &format!("{ns}/{OCI_NS}/oc-mirror-dev"), "bar-v0.1.0").await,
        Some(bar.digest)
    );
    assert_eq!(
        manifest_digest(&dst, &format!("{ns}/openshift/release-images"), "0.2.0-x86_64")
            .await
            .map(|d| d.to_string()),
        Some(rel)
    );
    let alpime = comps[0].1.split_once('@').unwrap().1.to_string();
    assert_eq!(
        manifest_digest(&dst, &format!("{ns}/openshift/release"), "0.2.0-x86_64-alpime")
            .await
            .map(|d| d.to_string()),
        Some(alpime)
    );
    // The catalog too (oc-mirror does not check it here): rebuilt under the layout's name.
    assert_eq!(r.plan.catalogs.len(), 1);
    let pc = &r.plan.catalogs[0];
    assert_eq!(pc.target_repo, OCI_CTLG);
    assert_eq!(
        check_bundles(&dst, ns, &pc.target_repo, &pc.target_tag).await,
        split("baz.v1.0.1")
    );
    println!(
        "oci-mirror-all: matched (release, additional image, catalog at {ns}/{}:{})",
        pc.target_repo, pc.target_tag
    );
}

/// A two-sequence case of oc-mirror's suite (`workflow_full` then `workflow_diff`): sequence 1
/// with `configs[0]` over `catalogs[0]`, sequence 2 with `configs[1]` over `catalogs[1]`
/// published under the same tag, each through media and imported; the bundles of the rebuilt
/// catalog in the target after each import.
async fn two_sequences(catalogs: [&str; 2], configs: [&str; 2]) -> Option<[Vec<String>; 2]> {
    let src = RegistryServer::plain();
    let pair = catalog_pair(&src, catalogs[0], catalogs[1]).await?;
    let dst = RegistryServer::plain();
    let dest = Destination::parse(&format!("docker://{}", dst.host())).unwrap();
    let (data, ws) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let vars = [
        ("METADATA_CATALOGNAMESPACE", format!("{}/{CATALOG_REPO}", src.host())),
        ("DATA_TMP", data.path().display().to_string()),
    ];
    let mut got: [Vec<String>; 2] = Default::default();
    for (i, files) in pair.iter().enumerate() {
        push_catalog_image(&src, CATALOG_REPO, "test-catalog-latest", files, &BTreeMap::new(), &[]).await;
        let cfg = oc_mirror_config(configs[i], &vars).unwrap();
        let media = tempfile::tempdir().unwrap();
        let r = run_m2d(&cfg, media.path(), &disk_opts(ws.path())).await.unwrap();
        assert_eq!((r.written, r.sequence), (true, i as u32 + 1), "{}", configs[i]);
        let imp = run_d2m(media.path(), &dest, &disk_opts(ws.path())).await.unwrap();
        assert!(imp.failed.is_empty(), "{:?}", imp.failed);
        got[i] = check_bundles(&dst, "", CATALOG_REPO, "test-catalog-latest").await;
    }
    Some(got)
}

/// `headsonly_diff`: heads only, then the diff catalog (foo.v0.3.2 skips 0.3.0 and 0.3.1); the
/// channel remembered from sequence 1 starts at foo.v0.3.1, and the head's skips are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn headsonly_diff_second_sequence_adds_the_new_head() {
    let Some(got) = two_sequences(
        ["test-catalog-latest", "test-catalog-diff"],
        ["imageset-config-headsonly.yaml", "imageset-config-headsonly.yaml"],
    )
    .await
    else {
        return;
    };
    assert_eq!(got[0], split("bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.1.0 foo.v0.3.1"));
    assert_eq!(
        got[1],
        split("bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.1.0 foo.v0.3.0 foo.v0.3.1 foo.v0.3.2")
    );
    println!("headsonly (diff step): matched");
}

/// `package_filtering`: filter, then filter-multi over the diff catalog.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn package_filtering_diff_step_runs_filter_multi_over_the_diff_catalog() {
    let Some(got) = two_sequences(
        ["test-catalog-latest", "test-catalog-diff"],
        ["imageset-config-filter.yaml", "imageset-config-filter-multi.yaml"],
    )
    .await
    else {
        return;
    };
    assert_eq!(
        got[0],
        split("bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 foo.v0.1.0 foo.v0.2.0 foo.v0.3.0 foo.v0.3.1")
    );
    assert_eq!(
        got[1],
        split("bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.0.1 baz.v1.1.0 foo.v0.1.0 foo.v0.2.0 foo.v0.3.0 foo.v0.3.1 foo.v0.3.2")
    );
    println!("filter-multi (diff step): matched");
}

/// `pruned_catalogs_mirror_to_mirror`: heads only, mirror-to-mirror twice (test-catalog-prune,
/// then test-catalog-prune-diff under the same tag); the second run, with `--prune`, deletes
/// the bundle the publisher dropped and keeps what the new catalog names.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pruned_catalogs_mirror_to_mirror_prunes_the_dropped_bundle() {
    let src = RegistryServer::plain();
    let Some(pair) = catalog_pair(&src, "test-catalog-prune", "test-catalog-prune-diff").await else {
        return;
    };
    let dst = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: true,
    });
    let ops = "oc-mirror/oc-mirror-dev";
    let foo011 = manifest_digest(&src, ops, "foo-bundle-v0.1.1")
        .await
        .unwrap()
        .to_string();
    let (data, ws) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let vars = [
        ("METADATA_CATALOGNAMESPACE", format!("{}/{CATALOG_REPO}", src.host())),
        ("DATA_TMP", data.path().display().to_string()),
    ];
    let cfg = oc_mirror_config("imageset-config-headsonly.yaml", &vars).unwrap();
    let sel = ImageSelection::from_config(&cfg).unwrap();
    let dest = Destination::parse(&format!("docker://{}", dst.host())).unwrap();
    let opts = ferry_api::mirror::MirrorOptions {
        prune: true,
        ..mirror_opts(ws.path())
    }
    .with_config(&cfg);
    let want = [split("bar.v0.1.0 foo.v0.1.1"), split("bar.v0.1.0 foo.v0.2.0")];
    for (i, files) in pair.iter().enumerate() {
        push_catalog_image(&src, CATALOG_REPO, "test-catalog-latest", files, &BTreeMap::new(), &[]).await;
        let r = run_m2m(&sel, &dest, &opts).await.unwrap();
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        assert_eq!(
            check_bundles(&dst, "", CATALOG_REPO, "test-catalog-latest").await,
            want[i]
        );
        let gone = manifest_digest(&dst, ops, &foo011).await.is_none();
        assert_eq!(gone, i == 1, "foo.v0.1.1's bundle after run {}", i + 1);
    }
    println!("headsonly prune (mirror to mirror): matched");
}

/// `registry_backend`: headsonly with the metadata in a registry image
/// (`storageConfig.registry`, in the source registry as oc-mirror's suite puts it), then the
/// diff catalog: the heads-only start is remembered through the registry backend.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registry_backend_diff_step_remembers_heads_through_the_metadata_image() {
    let backend = "imageset-config-headsonly-backend-registry.yaml";
    let Some(got) = two_sequences(["test-catalog-latest", "test-catalog-diff"], [backend, backend]).await else {
        return;
    };
    assert_eq!(got[0], split("bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.1.0 foo.v0.3.1"));
    assert_eq!(
        got[1],
        split("bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.1.0 foo.v0.3.0 foo.v0.3.1 foo.v0.3.2")
    );
    println!("headsonly-backend-registry (diff step): matched");
}

/// `no_updates_exist`: the same headsonly configuration twice to media over an unchanged
/// catalog; the second run writes no sequence 2, and the first imports as expected.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_updates_exist_writes_no_second_sequence() {
    let src = RegistryServer::plain();
    let Some([latest, _]) = catalog_pair(&src, "test-catalog-latest", "test-catalog-diff").await else {
        return;
    };
    push_catalog_image(
        &src,
        CATALOG_REPO,
        "test-catalog-latest",
        &latest,
        &BTreeMap::new(),
        &[],
    )
    .await;
    let (data, ws, media) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let vars = [
        ("METADATA_CATALOGNAMESPACE", format!("{}/{CATALOG_REPO}", src.host())),
        ("DATA_TMP", data.path().display().to_string()),
    ];
    let cfg = oc_mirror_config("imageset-config-headsonly.yaml", &vars).unwrap();
    let r1 = run_m2d(&cfg, media.path(), &disk_opts(ws.path())).await.unwrap();
    assert_eq!((r1.written, r1.sequence), (true, 1));
    let r2 = run_m2d(&cfg, media.path(), &disk_opts(ws.path())).await.unwrap();
    assert!(!r2.written, "no updates: nothing written");
    assert!(!media.path().join("mirror_seq2_000000.tar").exists());
    let md = std::fs::read(data.path().join("publish/.metadata.json")).unwrap();
    let md: serde_json::Value = serde_json::from_slice(&md).unwrap();
    assert_eq!(md["pastMirror"]["sequence"], 1, "check_sequence_number 1");
    let dst = RegistryServer::plain();
    let dest = Destination::parse(&format!("docker://{}", dst.host())).unwrap();
    let i = run_d2m(media.path(), &dest, &disk_opts(ws.path())).await.unwrap();
    assert!(i.failed.is_empty(), "{:?}", i.failed);
    assert_eq!(
        check_bundles(&dst, "", CATALOG_REPO, "test-catalog-latest").await,
        split("bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.1.0 foo.v0.3.1")
    );
    println!("no_updates_exist: matched");
}
