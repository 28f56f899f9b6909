//! Operator catalogs end to end against a real `docker-registry`: oc-mirror's own e2e catalog
//! (`fbc/oc-mirror/v1/test/e2e/artifacts/configs/index.yaml`) is served as an index image built
//! by the testkit (configs label, two platforms), its bundle and related images rewritten to
//! small generated images in the same registry. Each of oc-mirror's e2e configurations with
//! operators must yield the bundles oc-mirror's e2e suite (`v1/test/e2e/testcases.sh`,
//! `check_bundles`) expects.

mod e2e_operators_oc_mirror;
mod e2e_support;
mod release_support;

use ferry_api::registry::{build_client, RegistrySettings};
use ferry_plan::operators::plan_operators;
use ferry_plan::{BlockList, PlanPolicy};
use ferry_testkit::{push_catalog_image, rewrite_catalog_images, PushedCatalog, RegistryOpts, RegistryServer};
use ferry_types::{ImageKind, ImageSource};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Expected bundles of the first (`workflow_full`) step of each oc-mirror e2e test case that
/// runs over `test-catalog-latest`. `filter-multi` only runs in a diff step there (over
/// `test-catalog-diff`, which adds foo.v0.3.2); its expectation here is that list without
/// foo.v0.3.2, derived from the same semantics; the diff step itself, with oc-mirror's own
/// expectation, runs in `e2e_operators_oc_mirror::package_filtering_diff_step_…`.
const CASES: &[(&str, &str)] = &[
    (
        "imageset-config-full.yaml",
        "bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.0.0 baz.v1.0.1 baz.v1.1.0 foo.v0.1.0 foo.v0.2.0 foo.v0.3.0 foo.v0.3.1",
    ),
    (
        "imageset-config-full-digest.yaml",
        "bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.0.0 baz.v1.0.1 baz.v1.1.0 foo.v0.1.0 foo.v0.2.0 foo.v0.3.0 foo.v0.3.1",
    ),
    (
        "imageset-config-headsonly.yaml",
        "bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.1.0 foo.v0.3.1",
    ),
    (
        "imageset-config-headsonly-newtarget.yaml",
        "bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.1.0 foo.v0.3.1",
    ),
    (
        "imageset-config-headsonly-backend-registry.yaml",
        "bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.1.0 foo.v0.3.1",
    ),
    (
        "imageset-config-filter.yaml",
        "bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 foo.v0.1.0 foo.v0.2.0 foo.v0.3.0 foo.v0.3.1",
    ),
    ("imageset-config-filter-single.yaml", "baz.v1.0.1"),
    ("imageset-config-filter-range.yaml", "foo.v0.2.0 foo.v0.3.0"),
    ("imageset-config-filter-max.yaml", "foo.v0.1.0 foo.v0.2.0 foo.v0.3.0"),
    ("imageset-config-skip-deps.yaml", "bar.v1.0.0 baz.v1.1.0 foo.v0.3.1"),
    // No test case of oc-mirror's current e2e suite runs it: it was the first step of the
    // removed `--oci-feature-action=copy` flow (catalog copied to an OCI layout, oc-mirror PR
    // #557). Its selection over the registry catalog is what the later oci-mirror step
    // checked (baz.v1.0.1); an `oci://` destination is refused (see README).
    ("imageset-config-oci-copy.yaml", "baz.v1.0.1"),
    (
        "imageset-config-filter-multi.yaml",
        "bar.v0.1.0 bar.v0.2.0 bar.v1.0.0 baz.v1.0.1 baz.v1.1.0 foo.v0.1.0 foo.v0.2.0 foo.v0.3.0 foo.v0.3.1",
    ),
];

pub async fn serve_e2e_catalog(reg: &RegistryServer) -> Option<PushedCatalog> {
    let path = ferry_testkit::fixture("fbc/oc-mirror/v1/test/e2e/artifacts/configs/index.yaml")?;
    let text = std::fs::read_to_string(path).unwrap();
    let text = rewrite_catalog_images(reg, &text, 42).await;
    let mut files = BTreeMap::new();
    files.insert("index.yaml".to_string(), text.into_bytes());
    Some(
        push_catalog_image(
            reg,
            "redhatgov/oc-mirror-dev",
            "test-catalog-latest",
            &files,
            &BTreeMap::new(),
            &[("linux", "amd64"), ("linux", "arm64")],
        )
        .await,
    )
}

fn config_text(name: &str, reg: &RegistryServer, cat: &PushedCatalog) -> Option<String> {
    let path = ferry_testkit::fixture(&format!("oc-mirror/oc-mirror/v1/test/e2e/configs/{name}"))?;
    let text = std::fs::read_to_string(path).unwrap();
    Some(
        text.replace(
            "METADATA_CATALOGNAMESPACE",
            &format!("{}/redhatgov/oc-mirror-dev", reg.host()),
        )
        .replace("CATALOG_DIGEST", &cat.digest.to_string())
        .replace("TARGET_CATALOG_NAME", "target-catalog")
        .replace("TARGET_CATALOG_TAG", "target-tag")
        .replace("METADATA_REGISTRY", &reg.host())
        .replace("METADATA_OCI_REGISTRY", &reg.host()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn oc_mirror_e2e_configurations_select_the_expected_bundles() {
    let reg = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let Some(cat) = serve_e2e_catalog(&reg).await else {
        return;
    };
    let client = build_client(
        &RegistrySettings {
            source_use_http: true,
            dest_use_http: true,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    let provider = |host: &str| Arc::new(client.registry(host)) as Arc<dyn ImageSource>;
    let mut report = Vec::new();
    for (name, want) in CASES {
        let Some(text) = config_text(name, &reg, &cat) else {
            return;
        };
        let cfg = ferry_config::parse_str(&text, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let plan = plan_operators(
            &cfg.mirror.operators,
            &provider,
            &BlockList::default(),
            PlanPolicy {
                parallel: 4,
                ..Default::default()
            },
            false,
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(plan.catalogs.len(), 1, "{name}");
        let pc = &plan.catalogs[0];
        let mut got: Vec<String> = pc
            .bundles
            .iter()
            .map(|b| b.split('/').nth(1).unwrap().to_string())
            .collect();
        got.sort();
        let mut want: Vec<String> = want.split(' ').map(String::from).collect();
        want.sort();
        report.push(format!("{name}: {}", if got == want { "matched" } else { "DIFFERENT" }));
        assert_eq!(got, want, "{name}: bundles");
        // The catalog is pinned to the index digest; every bundle image is planned by digest,
        // under its full source path. Its tag reference is pinned in the catalog, so its tag is
        // FNV-32a of the pinned pull spec (as oc's catalog mirror names it).
        assert_eq!(pc.source.digest.as_ref(), Some(&cat.digest), "{name}");
        let bundles: Vec<_> = plan
            .images
            .iter()
            .filter(|i| i.kind == ImageKind::OperatorBundle)
            .collect();
        assert_eq!(bundles.len(), got.len(), "{name}: one bundle image per bundle");
        for b in &bundles {
            assert_eq!(b.dest_repo, "redhatgov/oc-mirror-dev");
            assert!(
                b.requested.tag.as_deref().is_some_and(|t| t.contains("-bundle-v")),
                "{name}"
            );
            let pinned = format!("{}@{}", b.source.name(), b.digest());
            assert_eq!(
                b.dest_tag,
                format!("{:x}", ferry_catalog::images::fnv32a(&pinned)),
                "{name}: {pinned}"
            );
        }
        // Related images are digest-only in this catalog: FNV-32a tags of the pull spec.
        for r in plan.images.iter().filter(|i| i.kind == ImageKind::OperatorRelatedImage) {
            let spec = r.requested.to_string();
            assert_eq!(
                r.dest_tag,
                format!("{:x}", ferry_catalog::images::fnv32a(&spec)),
                "{name}: {spec}"
            );
        }
        // Tag-only bundle references are pinned in the catalog that will be rebuilt.
        assert!(!pc.index_json.contains(":foo-bundle-v"), "{name}: pinned catalog");
        if name.contains("newtarget") {
            assert_eq!(
                (pc.target_repo.as_str(), pc.target_tag.as_str()),
                ("redhatgov/target-catalog", "target-tag")
            );
        } else if name.contains("digest") {
            assert_eq!(pc.target_tag, cat.digest.hex()[..6]);
        } else {
            assert_eq!(
                (pc.target_repo.as_str(), pc.target_tag.as_str()),
                ("redhatgov/oc-mirror-dev", "test-catalog-latest")
            );
        }
    }
    println!("{}", report.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_image_pin_keeps_tags_in_the_catalog() {
    let reg = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let Some(cat) = serve_e2e_catalog(&reg).await else {
        return;
    };
    let client = build_client(
        &RegistrySettings {
            source_use_http: true,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    let provider = |host: &str| Arc::new(client.registry(host)) as Arc<dyn ImageSource>;
    let text = config_text("imageset-config-skip-deps.yaml", &reg, &cat).unwrap();
    let cfg = ferry_config::parse_str(&text, "skip-deps.yaml").unwrap();
    let plan = plan_operators(
        &cfg.mirror.operators,
        &provider,
        &BlockList::default(),
        PlanPolicy {
            parallel: 2,
            ..Default::default()
        },
        true,
    )
    .await
    .unwrap();
    assert!(
        plan.catalogs[0].index_json.contains(":foo-bundle-v0.3.1\""),
        "tags kept"
    );
    // Still copied by digest.
    assert!(plan.images.iter().all(|i| i.source.digest.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catalog_errors_name_the_catalog() {
    let reg = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let Some(_cat) = serve_e2e_catalog(&reg).await else {
        return;
    };
    let client = build_client(
        &RegistrySettings {
            source_use_http: true,
            ..Default::default()
        },
        None,
    )
    .unwrap();
    let provider = |host: &str| Arc::new(client.registry(host)) as Arc<dyn ImageSource>;
    let catref = format!("{}/redhatgov/oc-mirror-dev:test-catalog-latest", reg.host());
    let yaml = format!("kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  operators:\n  - catalog: {catref}\n    packages:\n    - name: nope\n");
    let cfg = ferry_config::parse_str(&yaml, "isc.yaml").unwrap();
    let e = plan_operators(
        &cfg.mirror.operators,
        &provider,
        &BlockList::default(),
        PlanPolicy::default(),
        false,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(&catref) && e.contains("\"nope\" is not in the catalog"),
        "{e}"
    );
    // A plain image (no configs label) is not a catalog.
    let bundle = format!("{}/redhatgov/oc-mirror-dev:foo-bundle-v0.1.0", reg.host());
    let yaml = format!("kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  operators:\n  - catalog: {bundle}\n");
    let cfg = ferry_config::parse_str(&yaml, "isc.yaml").unwrap();
    let e = plan_operators(
        &cfg.mirror.operators,
        &provider,
        &BlockList::default(),
        PlanPolicy::default(),
        false,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains(&bundle) && e.contains("not a file-based catalog"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_operators_shows_packages_channels_heads_and_versions() {
    let reg = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    if serve_e2e_catalog(&reg).await.is_none() {
        return;
    }
    let settings = RegistrySettings {
        source_use_http: true,
        ..Default::default()
    };
    let catref = format!("{}/redhatgov/oc-mirror-dev:test-catalog-latest", reg.host());
    let (pkgs, chans) = ferry_api::operators::list_operators(&settings, &catref, None)
        .await
        .unwrap();
    let got: Vec<(&str, &str)> = pkgs
        .iter()
        .map(|p| (p.name.as_str(), p.default_channel.as_str()))
        .collect();
    assert_eq!(got, [("bar", "stable"), ("baz", "stable"), ("foo", "beta")]);
    assert!(chans.is_empty());
    let (_, chans) = ferry_api::operators::list_operators(&settings, &catref, Some("foo"))
        .await
        .unwrap();
    assert_eq!(chans.len(), 1);
    assert_eq!(chans[0].head, "foo.v0.3.1");
    assert_eq!(chans[0].versions, ["0.1.0", "0.2.0", "0.3.0", "0.3.1"]);
    let e = ferry_api::operators::list_operators(&settings, &catref, Some("nope"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("\"nope\"") && e.contains(&catref), "{e}");
    assert_eq!(
        ferry_api::operators::redhat_catalogs("4.14").unwrap()[0],
        "registry.redhat.io/redhat/redhat-operator-index:v4.14"
    );
    assert!(ferry_api::operators::redhat_catalogs("four").is_err());
}
