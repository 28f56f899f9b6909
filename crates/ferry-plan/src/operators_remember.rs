//! Heads-only catalogs across runs, as oc-mirror keeps them (reference §2 "How incremental sets
//! are computed", step 5): each run records, per package and channel, the lowest version it
//! selected (`pastMirror.operators[].packages[].channels[].minVersion`). A later heads-only run
//! of the same catalog starts each channel there instead of at the new head, so the range grows
//! (old bundles stay in the catalog, their images come from history) rather than jumping from
//! head to head. Only heads-only parts of a filter are widened: a channel or package that names
//! a version range, `full`, or a remembered version that is no longer in the channel (then the
//! head is taken, as a first run would) stays as configured.

use ferry_catalog::{BundleFilter, Catalog, CatalogFilter, ChannelFilter, PackageFilter};
use ferry_config::IncludePackage;
use std::collections::BTreeMap;

/// What earlier runs remembered, per catalog as written in `mirror.operators[].catalog`.
pub type Remembered = BTreeMap<String, Vec<IncludePackage>>;

fn heads_only(b: &BundleFilter) -> bool {
    b.min_version.is_none() && b.max_version.is_none() && b.min_bundle.is_none()
}

/// The remembered start of `package`/`channel`, when that version is still in the channel.
fn start(cat: &Catalog, remembered: &[IncludePackage], package: &str, channel: &str) -> Option<String> {
    let min = remembered
        .iter()
        .find(|p| p.name == package)?
        .channels
        .iter()
        .find(|c| c.name == channel)?
        .min_version
        .clone()?;
    let p = cat.packages.get(package)?;
    let ch = p.channels.get(channel)?;
    ch.entries
        .iter()
        .filter_map(|e| p.bundles.get(&e.name))
        .any(|b| b.version.to_string() == min)
        .then_some(min)
}

fn channel_from(cat: &Catalog, remembered: &[IncludePackage], package: &str, channel: &str) -> ChannelFilter {
    ChannelFilter {
        name: channel.to_string(),
        bundles: BundleFilter {
            min_version: start(cat, remembered, package, channel),
            ..Default::default()
        },
    }
}

/// Widen the heads-only parts of `f` to the remembered starting versions. Returns whether
/// anything changed.
pub fn apply(f: &mut CatalogFilter, cat: &Catalog, remembered: &[IncludePackage]) -> bool {
    if f.full || remembered.is_empty() {
        return false;
    }
    let before = format!("{:?}", f.packages);
    if f.packages.is_empty() {
        // Whole catalog, heads only: every package and channel, each from its remembered start.
        f.packages = cat
            .packages
            .values()
            .map(|p| PackageFilter {
                name: p.name().to_string(),
                channels: p
                    .channels
                    .keys()
                    .map(|c| channel_from(cat, remembered, p.name(), c))
                    .collect(),
                ..Default::default()
            })
            .collect();
    } else {
        for pf in &mut f.packages {
            if !heads_only(&pf.bundles) || !cat.packages.contains_key(&pf.name) {
                continue;
            }
            if pf.channels.is_empty() {
                let p = &cat.packages[&pf.name];
                pf.channels = p
                    .channels
                    .keys()
                    .map(|c| channel_from(cat, remembered, &pf.name, c))
                    .collect();
            } else {
                for cf in &mut pf.channels {
                    if heads_only(&cf.bundles) {
                        cf.bundles.min_version = start(cat, remembered, &pf.name, &cf.name);
                    }
                }
            }
        }
    }
    before != format!("{:?}", f.packages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_config::IncludeChannel;

    /// Package `foo`, channel `stable`: 0.1.0 → 0.2.0 → 0.3.0 (each replacing the one before).
    fn catalog(versions: &[&str]) -> Catalog {
        let mut text = "---\nschema: olm.package\nname: foo\ndefaultChannel: stable\n---\nschema: olm.channel\npackage: foo\nname: stable\nentries:\n".to_string();
        for (i, v) in versions.iter().enumerate() {
            text.push_str(&format!("- name: foo.v{v}\n"));
            if i > 0 {
                text.push_str(&format!("  replaces: foo.v{}\n", versions[i - 1]));
            }
        }
        for v in versions {
            text.push_str(&format!(
                "---\nschema: olm.bundle\nname: foo.v{v}\npackage: foo\nimage: quay.io/ns/foo-bundle:v{v}\nproperties:\n- type: olm.package\n  value:\n    packageName: foo\n    version: {v}\n"
            ));
        }
        ferry_catalog::load_files(&BTreeMap::from([("index.yaml".to_string(), text.into_bytes())])).unwrap()
    }

    fn remembered(min: &str) -> Vec<IncludePackage> {
        vec![IncludePackage {
            name: "foo".into(),
            channels: vec![IncludeChannel {
                name: "stable".into(),
                min_version: Some(min.into()),
                ..Default::default()
            }],
            ..Default::default()
        }]
    }

    fn bundles(cat: &Catalog, f: &CatalogFilter) -> Vec<String> {
        let r = ferry_catalog::filter(cat, f).unwrap();
        r.catalog.packages["foo"].bundles.keys().cloned().collect()
    }

    #[test]
    fn heads_only_grows_from_the_remembered_start() {
        let cat = catalog(&["0.1.0", "0.2.0", "0.3.0"]);
        let mut f = CatalogFilter::default();
        assert_eq!(bundles(&cat, &f), ["foo.v0.3.0"], "a first run takes the head");
        assert!(apply(&mut f, &cat, &remembered("0.2.0")));
        assert_eq!(bundles(&cat, &f), ["foo.v0.2.0", "foo.v0.3.0"]);
    }

    #[test]
    fn listed_heads_only_packages_grow_and_ranges_and_full_stay() {
        let cat = catalog(&["0.1.0", "0.2.0", "0.3.0"]);
        let mut f = CatalogFilter {
            packages: vec![PackageFilter {
                name: "foo".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(apply(&mut f, &cat, &remembered("0.1.0")));
        assert_eq!(bundles(&cat, &f), ["foo.v0.1.0", "foo.v0.2.0", "foo.v0.3.0"]);

        let mut ranged = CatalogFilter {
            packages: vec![PackageFilter {
                name: "foo".into(),
                channels: vec![ChannelFilter {
                    name: "stable".into(),
                    bundles: BundleFilter {
                        min_version: Some("0.3.0".into()),
                        ..Default::default()
                    },
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(
            !apply(&mut ranged, &cat, &remembered("0.1.0")),
            "a configured range wins"
        );
        let mut full = CatalogFilter {
            full: true,
            ..Default::default()
        };
        assert!(!apply(&mut full, &cat, &remembered("0.1.0")));
    }

    #[test]
    fn a_remembered_version_no_longer_in_the_channel_falls_back_to_the_head() {
        let cat = catalog(&["0.2.0", "0.3.0"]);
        let mut f = CatalogFilter::default();
        apply(&mut f, &cat, &remembered("0.1.0"));
        assert_eq!(bundles(&cat, &f), ["foo.v0.3.0"]);
    }
}
