//! Golden tests: the filter against operator-registry's expected diff outputs (the same
//! semantics oc-mirror 4.12 forked), written through our `WriteJSON` on both sides so the
//! comparison covers order and form.

use ferry_catalog::{filter, load_dir, write_json, BundleFilter, CatalogFilter, ChannelFilter, PackageFilter};
use std::path::PathBuf;

fn declcfgs(name: &str) -> Option<PathBuf> {
    ferry_testkit::fixture(&format!(
        "fbc/operator-registry/alpha/action/testdata/index-declcfgs/{name}"
    ))
}

fn expect(name: &str, f: &CatalogFilter) {
    let (Some(latest), Some(exp)) = (declcfgs("latest"), declcfgs(name)) else {
        return;
    };
    let cat = load_dir(&latest).unwrap();
    let got = filter(&cat, f).unwrap();
    let want = write_json(&load_dir(&exp).unwrap());
    let got = write_json(&got.catalog);
    if got != want {
        let _ = std::fs::write(format!("/tmp/ferry-golden-{name}.got.json"), &got);
        let _ = std::fs::write(format!("/tmp/ferry-golden-{name}.want.json"), &want);
    }
    assert_eq!(
        got, want,
        "{name}: output differs (written to /tmp/ferry-golden-{name}.*.json)"
    );
}

fn baz(channels: Vec<ChannelFilter>, bundles: BundleFilter) -> CatalogFilter {
    CatalogFilter {
        additive: true,
        packages: vec![PackageFilter {
            name: "baz".into(),
            channels,
            bundles,
            default_channel: None,
        }],
        ..Default::default()
    }
}

#[test]
fn heads_only_matches_opm() {
    expect("exp-headsonly", &CatalogFilter::default());
}

#[test]
fn include_package_matches_opm() {
    expect("exp-include-pkg", &baz(vec![], BundleFilter::default()));
}

#[test]
fn include_channel_matches_opm() {
    let ch = ChannelFilter {
        name: "stable".into(),
        bundles: BundleFilter::default(),
    };
    expect("exp-include-channel", &baz(vec![ch], BundleFilter::default()));
}

#[test]
fn include_version_and_bundle_match_opm() {
    // opm's IncludeVersion / IncludeBundle cases share the include-channel expectation.
    let v = BundleFilter {
        min_version: Some("1.0.0".into()),
        ..Default::default()
    };
    expect("exp-include-channel", &baz(vec![], v));
    let b = BundleFilter {
        min_bundle: Some("baz.v1.0.0".into()),
        ..Default::default()
    };
    expect("exp-include-channel", &baz(vec![], b));
}

#[test]
fn heads_only_reports_the_dependencies_it_added() {
    let Some(latest) = declcfgs("latest") else { return };
    let got = filter(&load_dir(&latest).unwrap(), &CatalogFilter::default()).unwrap();
    let picks: Vec<(String, String, String)> = got
        .dependencies
        .iter()
        .map(|d| (d.bundle.clone(), d.channel.clone(), d.requirement.clone()))
        .collect();
    assert_eq!(
        picks,
        [(
            "bar.v0.1.0".to_string(),
            "alpha".to_string(),
            "olm.package.required bar <0.2.0".to_string()
        )]
    );
    assert_eq!(got.dependencies[0].required_by, ["foo/foo.v0.3.1"]);
    assert!(got.unresolved.is_empty());
    // skipDependencies: bar keeps only its heads.
    let nodeps = filter(
        &load_dir(&latest).unwrap(),
        &CatalogFilter {
            skip_dependencies: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        nodeps.catalog.packages["bar"].bundles.keys().collect::<Vec<_>>(),
        ["bar.v1.0.0"]
    );
}
