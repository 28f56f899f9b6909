//! The image-set editor's catalog browser (`ferry_api::catalog_browse`) against a real
//! `docker-registry` with TLS (its own test CA) and htpasswd: the credentials and the CA come
//! from the app's store (a saved login and saved trust, `RegistrySettings::default()` as the
//! app runs), the index image is oc-mirror's e2e catalog built by the testkit (configs label,
//! two platforms). The preview must keep exactly the bundles the planner keeps for the same
//! configuration, and say which requirement of which bundle pulled each dependency in.
//! The store lives in a per-test folder (`FERRY_CONFIG_DIR`; nextest runs each test in its own
//! process) with keyring-core's in-memory mock as the keyring.

use ferry_api::catalog_browse::{browse, package, preview, CatalogCache};
use ferry_api::credentials::{self, init_keyring, CredentialStore, KeyringBackend, RegistryTrust, Secret};
use ferry_api::registry::{build_client, RegistrySettings};
use ferry_plan::operators::plan_operators;
use ferry_plan::{BlockList, PlanPolicy};
use ferry_testkit::{
    push_catalog_image, push_image, rewrite_catalog_images, ImageFormat, ImageSpec, LayerSpec, PushedCatalog,
    RegistryOpts, RegistryServer,
};
use ferry_types::ImageSource;
use std::collections::BTreeMap;
use std::sync::Arc;

const USER: &str = "catalogreader";
const PASS: &str = "Br0wse-Catalogs";

fn config_dir() -> tempfile::TempDir {
    init_keyring(Some(KeyringBackend::Mock)).unwrap();
    let d = tempfile::tempdir().unwrap();
    std::env::set_var("FERRY_CONFIG_DIR", d.path());
    d
}

/// A TLS + htpasswd registry whose login and CA are saved in the app's store.
fn trusted_registry() -> RegistryServer {
    let reg = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some((USER.into(), PASS.into())),
        delete_enabled: false,
    });
    let mut st = CredentialStore::open(std::path::Path::new(&std::env::var("FERRY_CONFIG_DIR").unwrap())).unwrap();
    credentials::save_login(&mut st, &reg.host(), USER, Secret::new(PASS), None).unwrap();
    st.set_trust(
        &reg.host(),
        RegistryTrust {
            ca_bundle: reg.ca_pem_path(),
            skip_verify: false,
            plain_http: false,
        },
    )
    .unwrap();
    reg
}

async fn serve(reg: &RegistryServer, rewrite: bool) -> Option<PushedCatalog> {
    let path = ferry_testkit::fixture("fbc/oc-mirror/v1/test/e2e/artifacts/configs/index.yaml")?;
    let mut text = std::fs::read_to_string(path).unwrap();
    if rewrite {
        text = rewrite_catalog_images(reg, &text, 7).await;
    }
    let files = BTreeMap::from([("index.yaml".to_string(), text.into_bytes())]);
    Some(
        push_catalog_image(
            reg,
            "catalogs/e2e-index",
            "v1",
            &files,
            &BTreeMap::new(),
            &[("linux", "amd64"), ("linux", "arm64")],
        )
        .await,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_packages_with_icons_channels_versions_and_caches_per_digest() {
    let _cfg = config_dir();
    let reg = trusted_registry();
    let Some(cat) = serve(&reg, false).await else {
        return;
    };
    let cache = CatalogCache::default();
    let settings = RegistrySettings::default();
    let by_tag = format!("{}/catalogs/e2e-index:v1", reg.host());

    let v = browse(&cache, &settings, &by_tag).await.unwrap();
    assert!(!v.cached);
    assert_eq!(v.digest, cat.digest.to_string(), "pinned to the index digest");
    assert_eq!(v.pinned, format!("{}/catalogs/e2e-index@{}", reg.host(), cat.digest));
    assert_eq!(v.configs_dir, "configs");
    assert_eq!(v.bundle_count, 10);
    let names: Vec<&str> = v.packages.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["bar", "baz", "foo"]);
    let foo = &v.packages[2];
    assert_eq!(foo.default_channel, "beta");
    assert_eq!(foo.channels, ["beta"]);
    assert_eq!(foo.head_version.as_deref(), Some("0.3.1"));
    assert_eq!(foo.summary, "The Foo operator reacts to Foos objects.");
    let icon = foo.icon.as_ref().expect("foo ships an icon");
    assert_eq!(icon.media_type, "image/svg+xml");
    assert!(
        icon.base64_data.starts_with("PD94bWwg"),
        "the catalog's base64 as shipped"
    );
    let bar = &v.packages[0];
    assert_eq!(
        (bar.default_channel.as_str(), bar.channels.clone()),
        ("stable", vec!["alpha".to_string(), "stable".to_string()])
    );

    // Same tag again: one manifest request resolves it, the catalog comes from the cache.
    let again = browse(&cache, &settings, &by_tag).await.unwrap();
    assert!(again.cached);
    assert_eq!(again.packages, v.packages);
    assert_eq!(cache.len(), 1);

    // By digest, the cache answers without the registry: stop it and browse on.
    let pinned = v.pinned.clone();
    drop(reg);
    let p = package(&cache, &settings, &pinned, "bar").await.unwrap();
    assert_eq!(p.default_channel, "stable");
    let alpha = p.channels.iter().find(|c| c.name == "alpha").unwrap();
    assert_eq!(alpha.versions, ["0.1.0", "0.2.0", "1.0.0"], "lowest first");
    assert_eq!(
        (alpha.head.as_str(), alpha.head_version.as_str()),
        ("bar.v1.0.0", "1.0.0")
    );
    assert!(!alpha.is_default);
    assert!(p.channels.iter().any(|c| c.name == "stable" && c.is_default));

    let e = package(&cache, &settings, &pinned, "nope")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("package \"nope\"") && e.contains(&pinned), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_keeps_what_the_plan_keeps_and_says_why_each_dependency_came() {
    let _cfg = config_dir();
    let reg = trusted_registry();
    let Some(_cat) = serve(&reg, true).await else {
        return;
    };
    let cache = CatalogCache::default();
    let catalog = format!("{}/catalogs/e2e-index:v1", reg.host());
    let yaml = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: ./m\nmirror:\n  operators:\n    - catalog: {catalog}\n      packages:\n        - name: foo\n          channels:\n            - name: beta\n              minVersion: 0.2.0\n"
    );
    let pv = preview(&cache, &RegistrySettings::default(), &yaml, 0).await.unwrap();
    assert_eq!(pv.catalog, catalog);
    // Every stand-in image is in the registry: all sized (one 4 KiB layer and a config each).
    let distinct: std::collections::BTreeSet<&str> = pv.images.iter().map(|i| i.image.as_str()).collect();
    assert_eq!(pv.sized_images as usize, distinct.len(), "{}", pv.size_note);
    assert!(
        pv.total_bytes.unwrap() > 4096 * distinct.len() as u64,
        "{:?}",
        pv.total_bytes
    );

    // The planner over the same configuration (it also resolves every image).
    let cfg = ferry_config::parse_str(&yaml, "t").unwrap();
    let client = build_client(&RegistrySettings::default(), None).unwrap();
    let provider = |host: &str| Arc::new(client.registry(host)) as Arc<dyn ImageSource>;
    let plan = plan_operators(
        &cfg.mirror.operators,
        &provider,
        &BlockList::default(),
        PlanPolicy::default(),
        false,
    )
    .await
    .unwrap();
    let mut planned = plan.catalogs[0].bundles.clone();
    planned.sort();
    let mut got: Vec<String> = pv
        .bundles
        .iter()
        .map(|b| format!("{}/{}", b.package, b.bundle))
        .collect();
    got.sort();
    assert_eq!(got, planned, "preview and plan keep the same bundles");
    assert!(got.contains(&"foo/foo.v0.2.0".to_string()) && !got.contains(&"foo/foo.v0.1.0".to_string()));

    // foo's bundles are asked for; bar's came only as dependencies.
    for b in &pv.bundles {
        assert_eq!(b.dependency, b.package == "bar", "{b:?}");
        assert!(b.image.contains(&reg.host()), "{b:?}");
    }
    let by_pkg_req = pv
        .dependencies
        .iter()
        .find(|d| d.requirement == "olm.package.required bar <0.2.0")
        .unwrap_or_else(|| panic!("{:?}", pv.dependencies));
    assert_eq!(
        (by_pkg_req.package.as_str(), by_pkg_req.bundle.as_str()),
        ("bar", "bar.v0.1.0")
    );
    assert!(
        by_pkg_req.required_by.contains(&"foo/foo.v0.2.0".to_string()),
        "{by_pkg_req:?}"
    );
    assert!(by_pkg_req.added_bundles.contains(&"bar.v0.1.0".to_string()));
    let by_gvk = pv
        .dependencies
        .iter()
        .find(|d| d.requirement.starts_with("olm.gvk.required test.bar/v1alpha1 Bar"))
        .unwrap_or_else(|| panic!("{:?}", pv.dependencies));
    assert_eq!(by_gvk.package, "bar");

    // Images: one bundle image and the relatedImages of every kept bundle, as the plan copies.
    let bundles_imgs = pv.images.iter().filter(|i| i.kind == "bundle").count();
    assert_eq!(bundles_imgs, pv.bundles.len());
    let planned_imgs: std::collections::BTreeSet<String> =
        plan.images.iter().map(|i| i.requested.to_string()).collect();
    for i in &pv.images {
        assert!(
            planned_imgs
                .iter()
                .any(|p| p.starts_with(i.image.split(['@', ':']).next().unwrap())),
            "{} is planned too",
            i.image
        );
    }
    assert_eq!(pv.images.len(), plan.images.len(), "same number of images as the plan");

    // skipDependencies: only foo.
    let nodeps = yaml.replace("      packages:", "      skipDependencies: true\n      packages:");
    let pv2 = preview(&cache, &RegistrySettings::default(), &nodeps, 0).await.unwrap();
    assert!(pv2.bundles.iter().all(|b| b.package == "foo" && !b.dependency));
    assert!(pv2.dependencies.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_names_the_catalog_package_and_what_to_do() {
    let _cfg = config_dir();
    let reg = trusted_registry();
    let Some(_cat) = serve(&reg, false).await else {
        return;
    };
    let cache = CatalogCache::default();
    let s = RegistrySettings::default();
    let catalog = format!("{}/catalogs/e2e-index:v1", reg.host());

    let e = browse(&cache, &s, &format!("{}/catalogs/e2e-index:v9", reg.host()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ferry_api::ErrorCode::NotFound, "{e}");
    assert!(e.to_string().contains("catalog image"), "{e}");

    let base = format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: ./m\nmirror:\n  operators:\n    - catalog: {catalog}\n      packages:\n        - name: PKG\n"
    );
    let e = preview(&cache, &s, &base.replace("PKG", "nosuch"), 0)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("mirror.operators[0]") && e.contains(&catalog) && e.contains("nosuch"),
        "{e}"
    );
    let e = preview(&cache, &s, &base.replace("PKG", "foo"), 3)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("mirror.operators[3]") && e.contains("1 catalog entry"),
        "{e}"
    );
    let range = base.replace("PKG", "foo\n          minVersion: 9.0.0\n          maxVersion: 9.1.0");
    let e = preview(&cache, &s, &range, 0).await.unwrap_err().to_string();
    assert!(e.contains("foo") && e.contains("9.0.0"), "{e}");

    // Without the stored login the registry refuses: an unauthorized error naming the host.
    let mut st = CredentialStore::open(std::path::Path::new(&std::env::var("FERRY_CONFIG_DIR").unwrap())).unwrap();
    credentials::remove_login(&mut st, &reg.host()).unwrap();
    let e = browse(&CatalogCache::default(), &s, &catalog).await.unwrap_err();
    assert_eq!(e.code(), ferry_api::ErrorCode::Unauthorized, "{e}");
    assert!(e.to_string().contains(&reg.host()), "{e}");
}

fn image(layers: &[(u64, u64)], platforms: &[(&str, &str)]) -> ImageSpec {
    ImageSpec {
        format: ImageFormat::Oci,
        layers: layers.iter().map(|&(size, seed)| LayerSpec { size, seed }).collect(),
        platforms: platforms.iter().map(|(o, a)| (o.to_string(), a.to_string())).collect(),
    }
}

/// The preview's total: the distinct config and layer blobs of every image, read from the
/// registry (a layer two bundles share counted once, a two-platform related image summed over
/// both children), and an image missing from the registry left out and named ("3 of 4").
/// The same catalog saved as an OCI layout is browsed and previewed from the folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_totals_the_real_blob_sizes_and_reads_oci_layouts() {
    let _cfg = config_dir();
    let reg = trusted_registry();
    let h = reg.host();
    let b1 = push_image(&reg, "ops/sz-bundle", "v1.0.0", &image(&[(8192, 11), (4096, 99)], &[])).await;
    let b2 = push_image(&reg, "ops/sz-bundle", "v1.1.0", &image(&[(16384, 12), (4096, 99)], &[])).await;
    let op = push_image(
        &reg,
        "ops/sz-operator",
        "v1",
        &image(&[(2048, 13)], &[("linux", "amd64"), ("linux", "arm64")]),
    )
    .await;
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for p in [&b1, &b2, &op] {
        for (d, size) in &p.blobs {
            expected.insert(d.to_string(), *size);
        }
    }
    let expected: u64 = expected.values().sum();
    assert!(
        expected < 8192 + 16384 + 2 * 4096 + 3 * 2048 + 4096,
        "the shared layer is one blob"
    );

    let mut fbc = String::from(
        "---\nschema: olm.package\nname: sz\ndefaultChannel: stable\n---\nschema: olm.channel\npackage: sz\nname: stable\nentries:\n- name: sz.v1.0.0\n- name: sz.v1.1.0\n  replaces: sz.v1.0.0\n- name: sz.v1.2.0\n  replaces: sz.v1.1.0\n",
    );
    for (v, img) in [
        ("1.0.0", format!("{h}/ops/sz-bundle:v1.0.0")),
        ("1.1.0", format!("{h}/ops/sz-bundle:v1.1.0")),
        ("1.2.0", format!("{h}/ops/sz-missing:v1.2.0")),
    ] {
        fbc.push_str(&format!(
            "---\nschema: olm.bundle\nname: sz.v{v}\npackage: sz\nimage: {img}\nproperties:\n- type: olm.package\n  value: {{packageName: sz, version: {v}}}\nrelatedImages:\n- name: operator\n  image: {h}/ops/sz-operator:v1\n"
        ));
    }
    let files = BTreeMap::from([("index.yaml".to_string(), fbc.into_bytes())]);
    push_catalog_image(&reg, "catalogs/sz", "v1", &files, &BTreeMap::new(), &[]).await;
    let yaml = |catalog: &str| {
        format!(
            "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: ./m\nmirror:\n  operators:\n    - catalog: {catalog}\n      packages:\n        - name: sz\n          minVersion: 1.0.0\n"
        )
    };
    let cache = CatalogCache::default();
    let s = RegistrySettings::default();
    let pv = preview(&cache, &s, &yaml(&format!("{h}/catalogs/sz:v1")), 0)
        .await
        .unwrap();
    assert_eq!(pv.bundles.len(), 3);
    assert_eq!(pv.total_bytes, Some(expected), "{}", pv.size_note);
    assert_eq!(pv.sized_images, 3, "{}", pv.size_note);
    assert!(pv.size_note.starts_with("3 of 4 images sized"), "{}", pv.size_note);
    assert!(pv.size_note.contains("ops/sz-missing:v1.2.0"), "{}", pv.size_note);

    // The same catalog as an OCI layout (saved from a plain registry: the layout writer is
    // plain HTTP), read from the folder; its images still come from the registry.
    let plain = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let cache_digest = push_catalog_image(&plain, "catalogs/sz", "v1", &files, &BTreeMap::new(), &[])
        .await
        .digest
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("sz-catalog");
    ferry_testkit::save_oci_layout(&plain, "catalogs/sz", "v1", &layout).await;
    drop(plain);
    let oci = format!("oci://{}", layout.display());
    // A fresh cache: the layout holds the very image the registry served (same digest).
    let cache = CatalogCache::default();
    let v = browse(&cache, &s, &oci).await.unwrap();
    assert_eq!(v.digest, cache_digest);
    assert_eq!(v.packages.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["sz"]);
    assert_eq!(v.packages[0].head_version.as_deref(), Some("1.2.0"));
    assert!(!v.cached);
    assert!(
        browse(&cache, &s, &oci).await.unwrap().cached,
        "the layout's digest keys the cache"
    );
    let pv2 = preview(&cache, &s, &yaml(&oci), 0).await.unwrap();
    assert_eq!(pv2.bundles, pv.bundles);
    assert_eq!(pv2.total_bytes, Some(expected));
    let e = browse(&cache, &s, "oci:///nonexistent/layout")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/layout/index.json"), "{e}");
}
