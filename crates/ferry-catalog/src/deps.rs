//! Dependency resolution (`olm.gvk.required`, `olm.package.required`), after oc-mirror 4.12's
//! `addAllDependencies` / `getBundlesThatProvide`, made deterministic.
//!
//! The rule, in full:
//! 1. Start from every selected bundle; collect the GVKs and package ranges they require.
//! 2. Visit the catalog's packages **in name order**. A package that provides a required GVK
//!    (with any of its bundles) claims that GVK: later packages are not considered for it (this
//!    is oc-mirror's behaviour with Go map order, which made the winner random). A package
//!    required by name is considered for each required range.
//! 3. Within a package, for each claimed GVK and each range, the **highest version** wins; on
//!    equal versions the bundle in the package's **default channel** wins, then the channel
//!    first by name.
//! 4. Each picked bundle is added to its channel together with the upgrade graph from it to the
//!    channel head (`replaces` chain), unless the head `skips` it (OCPBUGS-11371). When the head
//!    is not reachable over `replaces` (skipRange-only channels), the bundle is added alone
//!    (oc-mirror fails the whole run there).
//! 5. Repeat with the newly picked bundles until no new requirement appears.
//!
//! Requirements that nothing in this catalog satisfies are returned as [`Unresolved`]: OLM
//! resolves across every catalog on a cluster, so a dependency from another catalog is normal
//! (the community catalog's alloydb-omni-operator requires cert-manager, which it does not ship).

use crate::filter::{channel_head, fill_to_head, Selection};
use crate::model::*;
use crate::semver_range::{compare, Range};
use crate::CatalogError;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// A bundle a requirement picked (one the configuration did not select itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DependencyPick {
    pub package: String,
    pub channel: String,
    pub bundle: String,
    /// `olm.gvk.required group/version Kind` or `olm.package.required name range`.
    pub requirement: String,
    /// `package/bundle` of the bundles that required it.
    pub required_by: Vec<String>,
    /// The bundles of `channel` this pick added to the selection: the pick and the upgrade
    /// graph from it to the channel head, minus what was selected already (empty when an
    /// earlier pick's graph brought the bundle in). Recorded so a caller need not filter twice.
    pub added_bundles: Vec<String>,
}

/// A requirement no package of this catalog provides.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unresolved {
    pub requirement: String,
    pub required_by: Vec<String>,
}

type Requirers = BTreeSet<String>;
/// Required package name → (range, range text, requirers).
type PackageReqs = BTreeMap<String, Vec<(Option<Range>, String, Requirers)>>;

struct Pick<'a> {
    channel: &'a str,
    bundle: &'a Bundle,
    requirement: String,
    required_by: Requirers,
}

fn better(pkg: &Package, a: (&str, &Bundle), b: (&str, &Bundle)) -> bool {
    // true when `a` is preferred over `b`.
    match compare(&a.1.version, &b.1.version) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => {
            let dc = pkg.default_channel();
            match (a.0 == dc, b.0 == dc) {
                (true, false) => true,
                (false, true) => false,
                _ => a.0 < b.0,
            }
        }
    }
}

fn providers<'a>(pkg: &'a Package, gvks: &mut BTreeMap<Gvk, Requirers>, pkgs: &mut PackageReqs) -> Vec<Pick<'a>> {
    let ranges = pkgs.get(pkg.name()).cloned().unwrap_or_default();
    let mut by_gvk: BTreeMap<Gvk, (&str, &Bundle)> = BTreeMap::new();
    let mut by_range: Vec<Option<(&str, &Bundle)>> = vec![None; ranges.len()];
    for ch in pkg.channels.values() {
        for e in &ch.entries {
            let b = &pkg.bundles[&e.name];
            for g in &b.provides {
                if gvks.contains_key(g) {
                    let cand = (ch.name.as_str(), b);
                    match by_gvk.get(g) {
                        Some(cur) if !better(pkg, cand, *cur) => {}
                        _ => {
                            by_gvk.insert(g.clone(), cand);
                        }
                    }
                }
            }
            for (i, (r, _, _)) in ranges.iter().enumerate() {
                if r.as_ref().is_none_or(|r| r.matches(&b.version)) {
                    let cand = (ch.name.as_str(), b);
                    if by_range[i].is_none_or(|cur| better(pkg, cand, cur)) {
                        by_range[i] = Some(cand);
                    }
                }
            }
        }
    }
    let mut picks = Vec::new();
    for (g, (ch, b)) in by_gvk {
        let required_by = gvks.remove(&g).unwrap_or_default();
        picks.push(Pick {
            channel: ch,
            bundle: b,
            requirement: format!("olm.gvk.required {g}"),
            required_by,
        });
    }
    let mut unsatisfied = Vec::new();
    for (i, (r, text, by)) in ranges.into_iter().enumerate() {
        match by_range[i] {
            Some((ch, b)) => picks.push(Pick {
                channel: ch,
                bundle: b,
                requirement: format!(
                    "olm.package.required {} {}",
                    pkg.name(),
                    if text.is_empty() { "(any version)" } else { &text }
                ),
                required_by: by,
            }),
            None => unsatisfied.push((r, text, by)),
        }
    }
    if pkgs.contains_key(pkg.name()) {
        if unsatisfied.is_empty() {
            pkgs.remove(pkg.name());
        } else {
            pkgs.insert(pkg.name().to_string(), unsatisfied);
        }
    }
    picks
}

/// Add every dependency of the selection to it (see the module docs for the rule).
pub fn add_dependencies(
    cat: &Catalog,
    sel: &mut Selection,
) -> Result<(Vec<DependencyPick>, Vec<Unresolved>), CatalogError> {
    let mut visited: BTreeSet<(String, String)> = BTreeSet::new();
    let mut current: Vec<(String, String)> = Vec::new();
    for (p, chans) in sel.iter() {
        for names in chans.values() {
            for n in names {
                if visited.insert((p.clone(), n.clone())) {
                    current.push((p.clone(), n.clone()));
                }
            }
        }
    }
    let own: BTreeSet<(String, String)> = visited.clone();
    let mut picked: BTreeMap<String, Vec<Pick>> = BTreeMap::new();
    let mut unresolved = Vec::new();
    while !current.is_empty() {
        let mut gvks: BTreeMap<Gvk, Requirers> = BTreeMap::new();
        let mut pkgs: PackageReqs = BTreeMap::new();
        for (p, n) in &current {
            let b = &cat.packages[p].bundles[n];
            let who = format!("{p}/{n}");
            for g in &b.requires_gvk {
                gvks.entry(g.clone()).or_default().insert(who.clone());
            }
            for r in &b.requires_pkg {
                let range = if r.version_range.is_empty() {
                    None
                } else {
                    Some(Range::parse(&r.version_range).map_err(|e| CatalogError::Invalid {
                        at: b.origin.to_string(),
                        detail: format!("bundle {n:?}: olm.package.required {:?}: {e}", r.package_name),
                    })?)
                };
                let list = pkgs.entry(r.package_name.clone()).or_default();
                match list.iter_mut().find(|(_, t, _)| *t == r.version_range) {
                    Some((_, _, by)) => {
                        by.insert(who.clone());
                    }
                    None => list.push((range, r.version_range.clone(), BTreeSet::from([who.clone()]))),
                }
            }
        }
        if gvks.is_empty() && pkgs.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for pkg in cat.packages.values() {
            for pick in providers(pkg, &mut gvks, &mut pkgs) {
                let key = (pkg.name().to_string(), pick.bundle.name().to_string());
                if visited.insert(key.clone()) {
                    next.push(key);
                }
                picked.entry(pkg.name().to_string()).or_default().push(pick);
            }
        }
        for (g, by) in gvks {
            unresolved.push(Unresolved {
                requirement: format!("olm.gvk.required {g}"),
                required_by: by.into_iter().collect(),
            });
        }
        for (p, list) in pkgs {
            for (_, text, by) in list {
                unresolved.push(Unresolved {
                    requirement: format!(
                        "olm.package.required {p} {}",
                        if text.is_empty() { "(any version)" } else { &text }
                    ),
                    required_by: by.into_iter().collect(),
                });
            }
        }
        current = next;
    }

    let mut out = Vec::new();
    for (pname, mut picks) in picked {
        let pkg = &cat.packages[&pname];
        picks.sort_by(|a, b| {
            a.channel
                .cmp(b.channel)
                .then_with(|| compare(&a.bundle.version, &b.bundle.version))
        });
        for pick in picks {
            let ch = &pkg.channels[pick.channel];
            let bname = pick.bundle.name().to_string();
            let already = sel
                .get(&pname)
                .and_then(|c| c.get(pick.channel))
                .is_some_and(|s| s.contains(&bname));
            if already {
                // Selected by the configuration: not a dependency. Brought in by an earlier
                // pick's upgrade graph: still recorded, so every requirement says what it got.
                if !own.contains(&(pname.clone(), bname.clone())) {
                    out.push(DependencyPick {
                        package: pname.clone(),
                        channel: pick.channel.to_string(),
                        bundle: bname,
                        requirement: pick.requirement,
                        required_by: pick.required_by.into_iter().collect(),
                        added_bundles: Vec::new(),
                    });
                }
                continue;
            }
            let head = channel_head(&pname, ch)?;
            if head.skips.contains(&bname) {
                continue;
            }
            let fill = fill_to_head(ch, &bname, &head.name).unwrap_or_else(|| BTreeSet::from([bname.clone()]));
            let chosen = sel
                .entry(pname.clone())
                .or_default()
                .entry(ch.name.clone())
                .or_default();
            let added: Vec<String> = fill.into_iter().filter(|n| chosen.insert(n.clone())).collect();
            out.push(DependencyPick {
                package: pname.clone(),
                channel: ch.name.clone(),
                bundle: bname,
                requirement: pick.requirement,
                required_by: pick.required_by.into_iter().collect(),
                added_bundles: added,
            });
        }
    }
    Ok((out, unresolved))
}

#[cfg(test)]
mod tests {
    use crate::{filter, load_files, CatalogFilter, PackageFilter};
    use std::collections::{BTreeMap, BTreeSet};

    fn bundle(pkg: &str, v: &str, props: &str) -> String {
        format!(
            "---\nschema: olm.bundle\nname: {pkg}.v{v}\npackage: {pkg}\nimage: quay.io/x/{pkg}-bundle:v{v}\nproperties:\n- type: olm.package\n  value: {{packageName: {pkg}, version: {v}}}\n{props}"
        )
    }

    /// app 1.0.0 requires package `db` (>=1.1.0) and the GVK `cache.x.io/v1 Cache`; db's
    /// stable channel is 1.0.0 → 1.1.0 → 1.2.0 (head), `cache` provides the GVK and itself
    /// requires db <1.2.0 (already brought in: recorded once, added nothing new).
    fn catalog() -> crate::Catalog {
        let mut y = String::new();
        y += "schema: olm.package\nname: app\ndefaultChannel: stable\n---\nschema: olm.channel\nname: stable\npackage: app\nentries:\n- name: app.v1.0.0\n";
        y += &bundle(
            "app",
            "1.0.0",
            "- type: olm.package.required\n  value: {packageName: db, versionRange: '>=1.1.0'}\n- type: olm.gvk.required\n  value: {group: cache.x.io, version: v1, kind: Cache}\n",
        );
        y += "---\nschema: olm.package\nname: db\ndefaultChannel: stable\n---\nschema: olm.channel\nname: stable\npackage: db\nentries:\n- name: db.v1.0.0\n- name: db.v1.1.0\n  replaces: db.v1.0.0\n- name: db.v1.2.0\n  replaces: db.v1.1.0\n";
        for v in ["1.0.0", "1.1.0", "1.2.0"] {
            y += &bundle("db", v, "");
        }
        y += "---\nschema: olm.package\nname: cache\ndefaultChannel: stable\n---\nschema: olm.channel\nname: stable\npackage: cache\nentries:\n- name: cache.v2.0.0\n";
        y += &bundle(
            "cache",
            "2.0.0",
            "- type: olm.gvk\n  value: {group: cache.x.io, version: v1, kind: Cache}\n- type: olm.package.required\n  value: {packageName: db, versionRange: '<1.2.0'}\n",
        );
        load_files(&BTreeMap::from([("c/index.yaml".to_string(), y.into_bytes())])).unwrap()
    }

    #[test]
    fn the_filter_records_what_each_dependency_added_and_who_required_it() {
        let cat = catalog();
        let f = CatalogFilter {
            packages: vec![PackageFilter {
                name: "app".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let r = filter(&cat, &f).unwrap();
        let by: BTreeMap<&str, _> = r.dependencies.iter().map(|d| (d.requirement.as_str(), d)).collect();
        let db = by["olm.package.required db >=1.1.0"];
        assert_eq!((db.package.as_str(), db.bundle.as_str()), ("db", "db.v1.2.0"));
        assert_eq!(db.required_by, vec!["app/app.v1.0.0".to_string()]);
        let gvk = by["olm.gvk.required cache.x.io/v1 Cache"];
        assert_eq!(gvk.bundle, "cache.v2.0.0");
        assert_eq!(gvk.required_by, vec!["app/app.v1.0.0".to_string()]);
        // The second round: cache needs db <1.2.0 → db 1.1.0 and the graph from it to the
        // head, which takes 1.2.0 too; the >=1.1.0 pick is still recorded, having added nothing.
        let db2 = by["olm.package.required db <1.2.0"];
        assert_eq!(db2.bundle, "db.v1.1.0");
        assert_eq!(db2.required_by, vec!["cache/cache.v2.0.0".to_string()]);
        assert_eq!(
            db2.added_bundles,
            vec!["db.v1.1.0".to_string(), "db.v1.2.0".to_string()]
        );
        assert!(db.added_bundles.is_empty(), "{db:?}");
        assert_eq!(
            by["olm.gvk.required cache.x.io/v1 Cache"].added_bundles,
            vec!["cache.v2.0.0".to_string()]
        );
        let deps: BTreeSet<(&str, &str)> = r
            .dependency_bundles
            .iter()
            .map(|(p, b)| (p.as_str(), b.as_str()))
            .collect();
        assert_eq!(
            deps,
            BTreeSet::from([("cache", "cache.v2.0.0"), ("db", "db.v1.1.0"), ("db", "db.v1.2.0")])
        );
        // What the configuration itself selected is never called a dependency.
        assert!(!r.dependency_bundles.iter().any(|(p, _)| p == "app"));

        // A dependency that is also selected by the configuration adds nothing and is not one.
        let mut f2 = f.clone();
        f2.packages.push(PackageFilter {
            name: "db".into(),
            ..Default::default()
        });
        let r2 = filter(&cat, &f2).unwrap();
        assert!(!r2
            .dependency_bundles
            .contains(&("db".to_string(), "db.v1.2.0".to_string())));
        assert!(r2
            .dependency_bundles
            .contains(&("db".to_string(), "db.v1.1.0".to_string())));
        // Skipping dependencies records none.
        let mut f3 = f.clone();
        f3.skip_dependencies = true;
        let r3 = filter(&cat, &f3).unwrap();
        assert!(r3.dependencies.is_empty() && r3.dependency_bundles.is_empty());
    }
}
