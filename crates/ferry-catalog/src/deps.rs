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

/// A bundle added because another one needs it.
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
                continue;
            }
            let head = channel_head(&pname, ch)?;
            if head.skips.contains(&bname) {
                continue;
            }
            let fill = fill_to_head(ch, &bname, &head.name).unwrap_or_else(|| BTreeSet::from([bname.clone()]));
            sel.entry(pname.clone())
                .or_default()
                .entry(ch.name.clone())
                .or_default()
                .extend(fill);
            out.push(DependencyPick {
                package: pname.clone(),
                channel: ch.name.clone(),
                bundle: bname,
                requirement: pick.requirement,
                required_by: pick.required_by.into_iter().collect(),
            });
        }
    }
    Ok((out, unresolved))
}
