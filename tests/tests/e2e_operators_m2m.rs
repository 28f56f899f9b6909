//! Mirror-to-mirror of an operator catalog through the facade, between two real registries:
//! the bundle and related images are copied, the catalog is rebuilt for the target (every
//! platform), its `/configs` read back from the target equals the filtered catalog, its config
//! carries the replaced labels and `Cmd`, and the results hold the CatalogSource.

use ferry_api::mirror::{mirror_to_mirror, ImageSelection, MirrorOptions};
use ferry_api::registry::RegistrySettings;
use ferry_api::{no_progress, CancellationToken, Destination};
use ferry_testkit::{
    get_manifest, manifest_digest, push_catalog_image, rewrite_catalog_images, RegistryOpts, RegistryServer,
};
use ferry_types::ImageKind;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;

async fn blob(reg: &RegistryServer, repo: &str, digest: &str) -> Vec<u8> {
    let url = format!("{}/v2/{repo}/blobs/{digest}", reg.base_url());
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status().as_u16(), 200, "GET {url}");
    r.bytes().await.unwrap().to_vec()
}

fn tar_files(gz: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).unwrap();
    let mut ar = tar::Archive::new(&raw[..]);
    let mut out = BTreeMap::new();
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type().is_file() {
            let h = e.header().clone();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0), "root-owned");
            let p = e.path().unwrap().to_string_lossy().into_owned();
            let mut b = Vec::new();
            e.read_to_end(&mut b).unwrap();
            out.insert(p, b);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalog_is_rebuilt_in_the_target_with_its_images_and_catalog_source() {
    let start = || {
        RegistryServer::start(RegistryOpts {
            tls: false,
            auth: None,
            delete_enabled: false,
        })
    };
    let (src, dst) = (start(), start());
    let Some(path) = ferry_testkit::fixture("fbc/oc-mirror/v1/test/e2e/artifacts/configs/index.yaml") else {
        return;
    };
    let text = rewrite_catalog_images(&src, &std::fs::read_to_string(path).unwrap(), 5).await;
    let mut files = BTreeMap::new();
    files.insert("index.yaml".to_string(), text.into_bytes());
    let cat = push_catalog_image(
        &src,
        "redhatgov/oc-mirror-dev",
        "test-catalog-latest",
        &files,
        &BTreeMap::new(),
        &[("linux", "amd64"), ("linux", "arm64")],
    )
    .await;

    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  operators:\n  - catalog: {}/redhatgov/oc-mirror-dev:test-catalog-latest\n",
        src.host()
    );
    let cfg = ferry_config::parse_str(&yaml, "isc.yaml").unwrap();
    let sel = ImageSelection::from_config(&cfg).unwrap();
    let ws = tempfile::tempdir().unwrap();
    let opts = MirrorOptions {
        registry: RegistrySettings {
            source_use_http: true,
            dest_use_http: true,
            ..Default::default()
        },
        workspace: ws.path().to_path_buf(),
        ..Default::default()
    };
    let dest = Destination::parse(&format!("docker://{}/mirror", dst.host())).unwrap();
    let report = mirror_to_mirror(&sel, &dest, &opts, no_progress(), CancellationToken::new())
        .await
        .unwrap();

    // Heads only with dependencies: 5 bundles, each with its related image.
    let pc = &report.plan.catalogs[0];
    assert_eq!(pc.bundles.len(), 5, "{:?}", pc.bundles);
    let bundles = report
        .plan
        .images
        .iter()
        .filter(|i| i.kind == ImageKind::OperatorBundle)
        .count();
    assert_eq!(bundles, 5);
    assert_eq!(report.images_copied, report.plan.images.len());
    for i in &report.plan.images {
        assert_eq!(
            manifest_digest(&dst, &format!("mirror/{}", i.dest_repo), &i.dest_tag)
                .await
                .as_ref(),
            Some(i.digest()),
            "{} copied",
            i.requested
        );
    }

    // The rebuilt catalog: an index over both platforms, each with the filtered /configs.
    let repo = "mirror/redhatgov/oc-mirror-dev";
    let (idx, _) = get_manifest(&dst, repo, "test-catalog-latest")
        .await
        .expect("rebuilt catalog pushed");
    let idx: Value = serde_json::from_slice(&idx).unwrap();
    let children = idx["manifests"].as_array().unwrap();
    assert_eq!(children.len(), 2);
    assert_ne!(
        manifest_digest(&dst, repo, "test-catalog-latest").await,
        Some(cat.digest.clone()),
        "not the source catalog"
    );
    for c in children {
        let (m, _) = get_manifest(&dst, repo, c["digest"].as_str().unwrap()).await.unwrap();
        let m: Value = serde_json::from_slice(&m).unwrap();
        let layers = m["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 4, "2 source layers + whiteout + configs");
        let wh = tar_files(&blob(&dst, repo, layers[2]["digest"].as_str().unwrap()).await);
        assert_eq!(wh.keys().collect::<Vec<_>>(), [".wh.configs"]);
        let cfgs = tar_files(&blob(&dst, repo, layers[3]["digest"].as_str().unwrap()).await);
        assert_eq!(cfgs.keys().collect::<Vec<_>>(), ["configs/index.json"]);
        assert_eq!(
            String::from_utf8(cfgs["configs/index.json"].clone()).unwrap(),
            pc.index_json,
            "read back equals the filtered catalog"
        );
        let config: Value =
            serde_json::from_slice(&blob(&dst, repo, m["config"]["digest"].as_str().unwrap()).await).unwrap();
        assert_eq!(
            config["config"]["Labels"],
            serde_json::json!({"operators.operatorframework.io.index.configs.v1": "/configs"})
        );
        assert_eq!(config["config"]["Cmd"], serde_json::json!(["serve", "/configs"]));
        assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["/bin/opm"]));
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 4);
    }
    // The filtered FBC parses and holds exactly the selected bundles, with pinned images.
    let mut f = BTreeMap::new();
    f.insert("index.json".to_string(), pc.index_json.clone().into_bytes());
    let back = ferry_catalog::load_files(&f).unwrap();
    assert_eq!(back.bundle_count(), 5);
    assert!(back
        .packages
        .values()
        .flat_map(|p| p.bundles.values())
        .all(|b| b.doc.image.contains("@sha256:")));

    // Results: CatalogSource in oc-mirror's form, mapping lines for the operator images.
    let cs = std::fs::read_to_string(report.results_dir.join("catalogSource-oc-mirror-dev.yaml")).unwrap();
    assert_eq!(
        cs,
        format!(
            "apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\nmetadata:\n  name: oc-mirror-dev\n  namespace: openshift-marketplace\nspec:\n  image: {}/mirror/redhatgov/oc-mirror-dev:test-catalog-latest\n  sourceType: grpc\n",
            dst.host()
        )
    );
    assert!(!cs.contains("grpcPodConfig"));
    let mapping = std::fs::read_to_string(&report.mapping_file).unwrap();
    assert_eq!(mapping.lines().count(), report.plan.images.len(), "{mapping}");
    let icsp = std::fs::read_to_string(report.results_dir.join("imageContentSourcePolicy.yaml")).unwrap();
    assert!(
        icsp.contains("operator-0") && icsp.contains("operators.openshift.org/catalog"),
        "{icsp}"
    );
}
