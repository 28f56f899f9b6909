//! The catalog filter: oc-mirror 4.12's `pkg/operator/diff` (a fork of opm's `alpha/declcfg`
//! diff), ported for the cases oc-mirror uses (no old catalog: heads-only or full, with include
//! packages), with its known bugs fixed where noted.
//!
//! * No packages, `full: true`: the whole catalog.
//! * No packages, `full: false`: the head of every channel of every package.
//! * Packages listed: only those packages. Per package (or channel): nothing set → every
//!   channel's head (`full: false`) or every bundle (`full: true`); `minVersion` → that exact
//!   version plus the upgrade graph up to the channel head (`replaces` chain, as
//!   `findIntersectingBundles`); `minVersion`+`maxVersion` or `maxVersion` → the bundles in the
//!   range, no graph fill; `minBundle` → like `minVersion`, by bundle name.
//! * Dependencies (`olm.gvk.required`, `olm.package.required`) unless `skipDependencies`.
//! * Default channel: the catalog's, else the configuration's `defaultChannel`, else the one
//!   channel the configuration names for the package, else the highest `olm.channel` priority,
//!   else an error saying to set `defaultChannel`.
//!
//! Deliberate differences from 4.12 (its bugs, not its semantics):
//! * `minBundle` alone selected the whole channel (`getBundlesForVersions` short-circuits on an
//!   empty version list); here it starts the graph at that bundle as documented.
//! * A package-level range or `minVersion` combined with listed channels applied to no channel
//!   (range) or to every channel twice (versions); here it applies to the listed channels.
//! * A listed package, or a channel with its own range/version, that ends up with no bundle was
//!   dropped with a log line; here it is an error naming the package, channel and range.
//! * Package iteration for dependency providers follows Go map order (nondeterministic); here
//!   packages are visited by name (see [`crate::deps`]).

use crate::model::*;
use crate::semver_range::{compare, Range};
use crate::CatalogError;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// What to take from one catalog (the `mirror.operators[]` entry, config-independent).
#[derive(Debug, Clone, Default)]
pub struct CatalogFilter {
    pub full: bool,
    pub skip_dependencies: bool,
    pub packages: Vec<PackageFilter>,
    /// opm's `IncludeAdditively` (used by opm's own diff tests, not by oc-mirror): every
    /// package's heads plus the listed packages in full.
    pub additive: bool,
}

#[derive(Debug, Clone, Default)]
pub struct PackageFilter {
    pub name: String,
    pub channels: Vec<ChannelFilter>,
    pub bundles: BundleFilter,
    pub default_channel: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ChannelFilter {
    pub name: String,
    pub bundles: BundleFilter,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BundleFilter {
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    pub min_bundle: Option<String>,
}

impl BundleFilter {
    fn is_set(&self) -> bool {
        self.min_version.is_some() || self.max_version.is_some() || self.min_bundle.is_some()
    }

    /// oc-mirror's ConvertToDiffIncludeConfig: min+max or max → range; min → exact version;
    /// minBundle → bundle name.
    fn spec(&self, what: &str) -> Result<Spec, CatalogError> {
        let bad = |e: String| CatalogError::Config(format!("{what}: {e}"));
        if self.min_version.is_some() && self.min_bundle.is_some() {
            return Err(bad("minVersion and minBundle are mutually exclusive".into()));
        }
        Ok(match (&self.min_version, &self.max_version, &self.min_bundle) {
            (Some(min), Some(max), _) => {
                let text = format!(">={min} <={max}");
                Spec::Range(Range::parse(&text).map_err(bad)?, text)
            }
            (None, Some(max), _) => {
                let text = format!("<={max}");
                Spec::Range(Range::parse(&text).map_err(bad)?, text)
            }
            (Some(min), None, _) => {
                Spec::Version(semver::Version::parse(min).map_err(|e| bad(format!("minVersion {min:?}: {e}")))?)
            }
            (None, None, Some(b)) => Spec::Bundle(b.clone()),
            (None, None, None) => Spec::None,
        })
    }
}

#[derive(Debug, Clone)]
enum Spec {
    None,
    Range(Range, String),
    Version(semver::Version),
    Bundle(String),
}

/// The selection: package → channel → bundle names.
pub type Selection = BTreeMap<String, BTreeMap<String, BTreeSet<String>>>;

/// The filtered catalog and how it came to be.
#[derive(Debug, Clone)]
pub struct FilterResult {
    pub catalog: Catalog,
    /// Bundles added to satisfy dependencies, with the requirement that pulled each in, the
    /// bundles that required it and the bundles it added.
    pub dependencies: Vec<crate::deps::DependencyPick>,
    /// `(package, bundle)` pairs that only dependency resolution brought in: the configuration
    /// alone selects none of them (in any channel).
    pub dependency_bundles: BTreeSet<(String, String)>,
    /// Requirements no package of this catalog provides (OLM may satisfy them from another
    /// catalog on the cluster, so these are warnings, not errors).
    pub unresolved: Vec<crate::deps::Unresolved>,
    /// Packages whose default channel was replaced, and why.
    pub default_channel_changes: Vec<String>,
}

/// The channel head: the one bundle no other bundle of the channel replaces or skips (opm's
/// `Channel.Head`).
pub fn channel_head<'a>(pkg: &str, ch: &'a Channel) -> Result<&'a ChannelEntry, CatalogError> {
    let mut incoming = BTreeSet::new();
    for e in &ch.entries {
        if !e.replaces.is_empty() {
            incoming.insert(e.replaces.as_str());
        }
        for s in &e.skips {
            incoming.insert(s.as_str());
        }
    }
    let heads: Vec<&ChannelEntry> = ch
        .entries
        .iter()
        .filter(|e| !incoming.contains(e.name.as_str()))
        .collect();
    match heads.as_slice() {
        [h] => Ok(h),
        [] => Err(CatalogError::Graph(format!(
            "package {pkg:?} channel {:?}: no channel head found in graph",
            ch.name
        ))),
        many => Err(CatalogError::Graph(format!(
            "package {pkg:?} channel {:?}: multiple channel heads found in graph: {}",
            ch.name,
            many.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// `findIntersectingBundles`: the bundles between `start` and the head along `replaces` edges.
/// Returns `None` when start's chain never meets the head's.
pub fn fill_to_head(ch: &Channel, start: &str, head: &str) -> Option<BTreeSet<String>> {
    let by_name: BTreeMap<&str, &ChannelEntry> = ch.entries.iter().map(|e| (e.name.as_str(), e)).collect();
    if start == head {
        return Some(BTreeSet::from([head.to_string()]));
    }
    // start's replaces chain (a visited set guards against cycles in bad catalogs).
    let mut start_chain = BTreeSet::from([start]);
    let mut cur = by_name.get(start).copied();
    while let Some(e) = cur {
        if e.replaces.is_empty() || !start_chain.insert(e.replaces.as_str()) {
            break;
        }
        cur = by_name.get(e.replaces.as_str()).copied();
    }
    let mut intersection = None;
    if start_chain.contains(head) {
        intersection = Some(head);
    } else {
        let mut seen = BTreeSet::new();
        let mut cur = by_name.get(head).copied();
        while let Some(e) = cur {
            if e.replaces.is_empty() || !seen.insert(e.name.as_str()) {
                break;
            }
            if start_chain.contains(e.replaces.as_str()) {
                intersection = Some(e.replaces.as_str());
                break;
            }
            cur = by_name.get(e.replaces.as_str()).copied();
        }
    }
    let intersection = intersection?;
    // Everything that (transitively) replaces the intersection.
    let mut replaced_by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &ch.entries {
        if !e.replaces.is_empty() {
            replaced_by
                .entry(e.replaces.as_str())
                .or_default()
                .push(e.name.as_str());
        }
    }
    let mut set = BTreeSet::new();
    let mut queue: Vec<&str> = replaced_by.get(intersection).cloned().unwrap_or_default();
    while let Some(n) = queue.pop() {
        if set.insert(n.to_string()) {
            queue.extend(replaced_by.get(n).cloned().unwrap_or_default());
        }
    }
    // Bundles strictly between start and the intersection are below start: not wanted.
    let mut rep = by_name.get(start).copied();
    let mut guard = BTreeSet::new();
    while let Some(e) = rep {
        if e.name == intersection || !guard.insert(e.name.as_str()) {
            break;
        }
        set.remove(&e.name);
        rep = by_name.get(e.replaces.as_str()).copied();
    }
    set.insert(start.to_string());
    set.insert(head.to_string());
    Some(set)
}

/// The version used for selection. OCPBUGS-588: `minVersion: 2.2.0` also matches `2.2.0-0`.
fn version_matches(b: &Bundle, want: &semver::Version) -> bool {
    compare(&b.version, want) == Ordering::Equal
        || (want.pre.is_empty()
            && (b.version.major, b.version.minor, b.version.patch) == (want.major, want.minor, want.patch))
}

fn select_channel(
    pkg: &Package,
    ch: &Channel,
    spec: &Spec,
    heads_only: bool,
    skip_missing: bool,
) -> Result<BTreeSet<String>, CatalogError> {
    let pname = pkg.name();
    let bundle = |n: &str| pkg.bundles.get(n).expect("entries checked at load");
    match spec {
        Spec::None if heads_only => Ok(BTreeSet::from([channel_head(pname, ch)?.name.clone()])),
        Spec::None => Ok(ch.entries.iter().map(|e| e.name.clone()).collect()),
        Spec::Range(r, _) => Ok(ch
            .entries
            .iter()
            .filter(|e| r.matches(&bundle(&e.name).version))
            .map(|e| e.name.clone())
            .collect()),
        Spec::Version(_) | Spec::Bundle(_) => {
            let starts: Vec<&str> = ch
                .entries
                .iter()
                .filter(|e| match spec {
                    Spec::Version(v) => version_matches(bundle(&e.name), v),
                    Spec::Bundle(n) => &e.name == n,
                    _ => unreachable!(),
                })
                .map(|e| e.name.as_str())
                .collect();
            if starts.is_empty() {
                if skip_missing {
                    return Ok(BTreeSet::new());
                }
                let what = match spec {
                    Spec::Version(v) => format!("version {v}"),
                    Spec::Bundle(n) => format!("bundle {n:?}"),
                    _ => unreachable!(),
                };
                return Err(CatalogError::Config(format!(
                    "package {pname:?} channel {:?}: no bundle with {what} (the channel has: {}); check minVersion/minBundle with `ferry list operators --catalog … --package {pname}`",
                    ch.name,
                    ch.entries.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
                )));
            }
            let head = channel_head(pname, ch)?.name.clone();
            let mut out = BTreeSet::new();
            for s in starts {
                match fill_to_head(ch, s, &head) {
                    Some(set) => out.extend(set),
                    // Not on the head's replaces chain: the bundle alone (as opm does).
                    None => {
                        out.insert(s.to_string());
                    }
                }
            }
            Ok(out)
        }
    }
}

fn describe(spec: &Spec) -> String {
    match spec {
        Spec::None => "all".into(),
        Spec::Range(_, t) => format!("range {t}"),
        Spec::Version(v) => format!("minVersion {v}"),
        Spec::Bundle(b) => format!("minBundle {b}"),
    }
}

fn include_package(
    cat: &Catalog,
    ipkg: &PackageFilter,
    heads_only: bool,
) -> Result<BTreeMap<String, BTreeSet<String>>, CatalogError> {
    let pkg = cat.packages.get(&ipkg.name).ok_or_else(|| {
        CatalogError::Config(format!(
            "package {:?} is not in the catalog (it has {} packages; list them with `ferry list operators --catalog …`)",
            ipkg.name,
            cat.packages.len()
        ))
    })?;
    let pkg_spec = ipkg.bundles.spec(&format!("package {:?}", ipkg.name))?;
    let mut out = BTreeMap::new();
    // (channel, spec, skip-missing): listed channels, or every channel of the package.
    let mut plan: Vec<(&Channel, Spec, bool, bool)> = Vec::new();
    if ipkg.channels.is_empty() {
        for ch in pkg.channels.values() {
            let skip_missing = matches!(pkg_spec, Spec::Version(_) | Spec::Bundle(_));
            plan.push((ch, pkg_spec.clone(), skip_missing, false));
        }
    } else {
        for ich in &ipkg.channels {
            let ch = pkg.channels.get(&ich.name).ok_or_else(|| {
                CatalogError::Config(format!(
                    "package {:?}: channel {:?} is not in the catalog (channels: {})",
                    ipkg.name,
                    ich.name,
                    pkg.channels.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
            })?;
            let own = ich
                .bundles
                .spec(&format!("package {:?} channel {:?}", ipkg.name, ich.name))?;
            if ich.bundles.is_set() && ipkg.bundles.is_set() {
                return Err(CatalogError::Config(format!(
                    "package {:?} channel {:?}: version settings on the package and on its channels are mutually exclusive",
                    ipkg.name, ich.name
                )));
            }
            let (spec, strict) = if ich.bundles.is_set() {
                (own, true)
            } else {
                (pkg_spec.clone(), false)
            };
            let skip_missing = !strict && matches!(spec, Spec::Version(_) | Spec::Bundle(_));
            plan.push((ch, spec, skip_missing, strict));
        }
    }
    for (ch, spec, skip_missing, strict) in plan {
        let sel = select_channel(pkg, ch, &spec, heads_only, skip_missing)?;
        if sel.is_empty() {
            if strict {
                return Err(CatalogError::Config(format!(
                    "package {:?} channel {:?}: {} matches no bundle (versions in the channel: {})",
                    ipkg.name,
                    ch.name,
                    describe(&spec),
                    versions_of(pkg, ch)
                )));
            }
            continue;
        }
        out.insert(ch.name.clone(), sel);
    }
    if out.is_empty() {
        return Err(CatalogError::Config(format!(
            "package {:?}: {} matches no bundle in any channel (versions: {})",
            ipkg.name,
            describe(&pkg_spec),
            pkg.channels
                .values()
                .map(|c| format!("{}: {}", c.name, versions_of(pkg, c)))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    Ok(out)
}

fn versions_of(pkg: &Package, ch: &Channel) -> String {
    let mut v: Vec<&semver::Version> = ch
        .entries
        .iter()
        .filter_map(|e| pkg.bundles.get(&e.name))
        .map(|b| &b.version)
        .collect();
    v.sort_by(|a, b| compare(a, b));
    v.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
}

/// Filter a catalog as oc-mirror 4.12 does (see the module docs).
pub fn filter(cat: &Catalog, f: &CatalogFilter) -> Result<FilterResult, CatalogError> {
    let mut seen = BTreeSet::new();
    for p in &f.packages {
        if p.name.is_empty() {
            return Err(CatalogError::Config("a package entry has no name".into()));
        }
        if !seen.insert(p.name.as_str()) {
            return Err(CatalogError::Config(format!("package {:?} is listed twice", p.name)));
        }
    }
    let heads_only = !f.full;
    let mut sel: Selection = BTreeMap::new();
    if f.packages.is_empty() && f.full {
        for p in cat.packages.values() {
            sel.insert(
                p.name().to_string(),
                p.channels
                    .values()
                    .map(|c| (c.name.clone(), c.entries.iter().map(|e| e.name.clone()).collect()))
                    .collect(),
            );
        }
    } else {
        for ipkg in &f.packages {
            // Additive mode includes the listed packages in full (opm sets HeadsOnly=false).
            let chans = include_package(cat, ipkg, heads_only && !f.additive)?;
            sel.insert(ipkg.name.clone(), chans);
        }
        if f.packages.is_empty() || f.additive {
            for p in cat.packages.values() {
                let out = sel.entry(p.name().to_string()).or_default();
                for ch in p.channels.values() {
                    if !out.contains_key(&ch.name) {
                        out.insert(
                            ch.name.clone(),
                            BTreeSet::from([channel_head(p.name(), ch)?.name.clone()]),
                        );
                    }
                }
            }
        }
    }
    let own = selected_bundles(&sel);
    let (dependencies, unresolved) = if f.skip_dependencies {
        (Vec::new(), Vec::new())
    } else {
        crate::deps::add_dependencies(cat, &mut sel)?
    };
    let dependency_bundles = selected_bundles(&sel).difference(&own).cloned().collect();
    let mut changes = Vec::new();
    let catalog = materialise(cat, &sel, f, &mut changes)?;
    Ok(FilterResult {
        catalog,
        dependencies,
        dependency_bundles,
        unresolved,
        default_channel_changes: changes,
    })
}

/// `(package, bundle)` pairs of a selection, whatever channel lists them.
fn selected_bundles(sel: &Selection) -> BTreeSet<(String, String)> {
    sel.iter()
        .flat_map(|(p, chans)| chans.values().flatten().map(move |b| (p.clone(), b.clone())))
        .collect()
}

fn choose_default(
    pkg: &Package,
    chans: &BTreeMap<String, BTreeSet<String>>,
    f: &CatalogFilter,
    changes: &mut Vec<String>,
) -> Result<String, CatalogError> {
    let src = pkg.default_channel();
    if chans.contains_key(src) {
        return Ok(src.to_string());
    }
    let ipkg = f.packages.iter().find(|p| p.name == pkg.name());
    if let Some(dc) = ipkg.and_then(|p| p.default_channel.as_deref()) {
        if chans.contains_key(dc) {
            changes.push(format!(
                "package {:?}: default channel {dc:?} (from defaultChannel; {src:?} was filtered out)",
                pkg.name()
            ));
            return Ok(dc.to_string());
        }
        return Err(CatalogError::Config(format!(
            "package {:?}: defaultChannel {dc:?} is not among the selected channels ({})",
            pkg.name(),
            chans.keys().cloned().collect::<Vec<_>>().join(", ")
        )));
    }
    if let Some(p) = ipkg {
        if let [only] = p.channels.as_slice() {
            if chans.contains_key(&only.name) {
                changes.push(format!(
                    "package {:?}: default channel {:?} (the one channel selected; {src:?} was filtered out)",
                    pkg.name(),
                    only.name
                ));
                return Ok(only.name.clone());
            }
        }
    }
    // Highest olm.channel priority among the selected channels (ties: the later channel by
    // name, as Go's sort.Slice over map order would make arbitrary; documented instead).
    let mut best: Option<(i64, &str)> = None;
    for name in chans.keys() {
        let ch = &pkg.channels[name];
        let prios: Vec<ChannelPriority> =
            decode_props(&ch.properties, "olm.channel").map_err(|e| CatalogError::Invalid {
                at: pkg.origin.to_string(),
                detail: format!("package {:?} channel {name:?}: {e}", pkg.name()),
            })?;
        for p in prios {
            if best.is_none_or(|(b, _)| p.priority >= b) {
                best = Some((p.priority, name.as_str()));
            }
        }
    }
    if let Some((prio, name)) = best {
        changes.push(format!(
            "package {:?}: default channel {name:?} (highest olm.channel priority {prio}; {src:?} was filtered out)",
            pkg.name()
        ));
        return Ok(name.to_string());
    }
    Err(CatalogError::Config(format!(
        "package {:?}: the catalog's default channel {src:?} was filtered out and no other channel can be chosen (selected: {}); set `defaultChannel` for this package in the ImageSetConfiguration, or select a version in channel {src:?}",
        pkg.name(),
        chans.keys().cloned().collect::<Vec<_>>().join(", ")
    )))
}

/// Build the output catalog from a selection (entries and bundles copied from the source).
fn materialise(
    cat: &Catalog,
    sel: &Selection,
    f: &CatalogFilter,
    changes: &mut Vec<String>,
) -> Result<Catalog, CatalogError> {
    let mut out = Catalog {
        packages: BTreeMap::new(),
        others: cat.others.clone(),
    };
    for (pname, chans) in sel {
        let chans: BTreeMap<String, BTreeSet<String>> = chans
            .iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if chans.is_empty() {
            continue;
        }
        let src = &cat.packages[pname];
        let mut doc = src.doc.clone();
        doc.default_channel = choose_default(src, &chans, f, changes)?;
        let mut channels = BTreeMap::new();
        let mut bundles = BTreeMap::new();
        for (cname, names) in &chans {
            let sch = &src.channels[cname];
            let mut ch = sch.clone();
            ch.entries.retain(|e| names.contains(&e.name));
            for n in names {
                bundles.entry(n.clone()).or_insert_with(|| src.bundles[n].clone());
            }
            channels.insert(cname.clone(), ch);
        }
        out.packages.insert(
            pname.clone(),
            Package {
                doc,
                origin: src.origin.clone(),
                channels,
                bundles,
                others: src.others.clone(),
            },
        );
    }
    Ok(out)
}
