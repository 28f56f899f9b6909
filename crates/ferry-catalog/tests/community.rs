//! The real community-operators v4.17 catalog (29 packages, 12.4 MB of YAML): loaded, filtered
//! heads-only and full, with dependencies and skipRange packages.

use ferry_catalog::filter::channel_head;
use ferry_catalog::{filter, load_dir, write_json, BundleFilter, CatalogFilter, ChannelFilter, PackageFilter};

fn community() -> Option<ferry_catalog::Catalog> {
    let dir = ferry_testkit::fixture("fbc/community-operators-prod/catalogs/v4.17")?;
    Some(load_dir(&dir).unwrap())
}

fn pkg(name: &str) -> PackageFilter {
    PackageFilter {
        name: name.into(),
        ..Default::default()
    }
}

#[test]
fn heads_only_keeps_one_bundle_per_channel_plus_dependencies() {
    let Some(cat) = community() else { return };
    assert_eq!(cat.packages.len(), 29);
    let total = cat.bundle_count();
    let r = filter(&cat, &CatalogFilter::default()).unwrap();
    assert_eq!(r.catalog.packages.len(), 29);
    for (name, p) in &r.catalog.packages {
        let src = &cat.packages[name];
        assert_eq!(p.channels.len(), src.channels.len(), "{name}: every channel kept");
        assert!(
            p.channels.contains_key(p.default_channel()),
            "{name}: default channel present"
        );
        for (cname, ch) in &p.channels {
            let head = channel_head(name, &src.channels[cname]).unwrap();
            assert!(
                ch.entries.iter().any(|e| e.name == head.name),
                "{name}/{cname}: head {} kept",
                head.name
            );
        }
    }
    let kept = r.catalog.bundle_count();
    assert!(kept < total / 3, "heads only keeps {kept} of {total} bundles");
    // alloydb-omni-operator requires cert-manager, which this catalog does not ship: reported,
    // not invented.
    assert!(r.unresolved.iter().any(|u| u.requirement.contains("cert-manager")
        && u.required_by.iter().any(|b| b.starts_with("alloydb-omni-operator/"))));
    // The written catalog loads again and filters to itself.
    let text = write_json(&r.catalog);
    let mut files = std::collections::BTreeMap::new();
    files.insert("index.json".to_string(), text.clone().into_bytes());
    let back = ferry_catalog::load_files(&files).unwrap();
    assert_eq!(write_json(&back), text);
}

#[test]
fn full_catalog_is_everything() {
    let Some(cat) = community() else { return };
    let r = filter(
        &cat,
        &CatalogFilter {
            full: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(r.catalog.bundle_count(), cat.bundle_count());
    assert!(r.dependencies.is_empty());
}

#[test]
fn dependency_packages_pull_in_their_providers() {
    let Some(cat) = community() else { return };
    // rabbitmq-messaging-topology-operator requires the cluster operator (same catalog).
    let r = filter(
        &cat,
        &CatalogFilter {
            packages: vec![pkg("rabbitmq-messaging-topology-operator")],
            ..Default::default()
        },
    )
    .unwrap();
    assert!(
        r.dependencies.iter().any(|d| d.package == "rabbitmq-cluster-operator"),
        "{:?}",
        r.dependencies
    );
    assert!(r.catalog.packages.contains_key("rabbitmq-cluster-operator"));
    let skip = filter(
        &cat,
        &CatalogFilter {
            skip_dependencies: true,
            packages: vec![pkg("rabbitmq-messaging-topology-operator")],
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        skip.catalog.packages.keys().collect::<Vec<_>>(),
        ["rabbitmq-messaging-topology-operator"]
    );

    for name in ["alloydb-omni-operator", "shipwright-operator"] {
        let r = filter(
            &cat,
            &CatalogFilter {
                packages: vec![pkg(name)],
                ..Default::default()
            },
        )
        .unwrap();
        assert!(r.catalog.packages.contains_key(name));
        // Every requirement is either satisfied in the output or reported.
        for p in r.catalog.packages.values() {
            for b in p.bundles.values() {
                for g in &b.requires_gvk {
                    let provided = r
                        .catalog
                        .packages
                        .values()
                        .any(|q| q.bundles.values().any(|c| c.provides.contains(g)));
                    let reported = r.unresolved.iter().any(|u| u.requirement.contains(&g.to_string()));
                    assert!(provided || reported, "{name}: {g} neither provided nor reported");
                }
            }
        }
    }
}

#[test]
fn skip_range_packages_select_by_range_and_by_min_version() {
    let Some(cat) = community() else { return };
    for name in ["project-quay", "opendatahub-operator", "sailoperator", "infinispan"] {
        let p = &cat.packages[name];
        // project-quay carries olm.skipRange only in its CSV metadata; the others in channel entries.
        let in_entries = p
            .channels
            .values()
            .any(|c| c.entries.iter().any(|e| !e.skip_range.is_empty()));
        assert_eq!(
            in_entries,
            name != "project-quay",
            "{name}: skipRange in channel entries"
        );
        let dc = p.default_channel().to_string();
        let ch = &p.channels[&dc];
        let head = channel_head(name, ch).unwrap();
        let head_v = p.bundles[&head.name].version.to_string();
        // minVersion = the head's version: exactly the head.
        let r = filter(
            &cat,
            &CatalogFilter {
                full: true,
                skip_dependencies: true,
                packages: vec![PackageFilter {
                    name: name.into(),
                    channels: vec![ChannelFilter {
                        name: dc.clone(),
                        bundles: BundleFilter {
                            min_version: Some(head_v.clone()),
                            ..Default::default()
                        },
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .unwrap();
        let out = &r.catalog.packages[name];
        assert_eq!(out.channels.len(), 1);
        assert!(out.bundles.contains_key(&head.name), "{name}: head kept");
        assert!(out
            .bundles
            .values()
            .all(|b| b.version >= p.bundles[&head.name].version || out.bundles.len() == 1));
    }
}

#[test]
fn unknown_package_and_channel_and_empty_range_are_clear_errors() {
    let Some(cat) = community() else { return };
    let e = filter(
        &cat,
        &CatalogFilter {
            packages: vec![pkg("no-such-operator")],
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("\"no-such-operator\" is not in the catalog"), "{e}");
    let e = filter(
        &cat,
        &CatalogFilter {
            packages: vec![PackageFilter {
                name: "hive-operator".into(),
                channels: vec![ChannelFilter {
                    name: "nope".into(),
                    bundles: BundleFilter::default(),
                }],
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("channel \"nope\" is not in the catalog") && e.contains("hive-operator"),
        "{e}"
    );
    let e = filter(
        &cat,
        &CatalogFilter {
            full: true,
            packages: vec![PackageFilter {
                name: "hive-operator".into(),
                bundles: BundleFilter {
                    min_version: Some("99.0.0".into()),
                    max_version: Some("99.1.0".into()),
                    min_bundle: None,
                },
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("hive-operator") && e.contains(">=99.0.0 <=99.1.0") && e.contains("matches no bundle"),
        "{e}"
    );
}
