//! Version selection for one channel and architecture, on a graph already fetched.
//!
//! oc-mirror v1 semantics (`pkg/cli/mirror/release.go`), with its bugs fixed:
//! - `maxVersion` unset → the channel head. `minVersion` unset → heads-only (`full: false`, no
//!   max): the minimum remembered from the previous run, or the head on a first run; otherwise
//!   (full, or only max given) the lowest version in the channel.
//! - `shortestPath` → breadth-first path min → max ([`Graph::shortest_path`]); otherwise every
//!   node in `[min, max]`.
//! - Versions compare as semver (v1 compares previous-run versions as strings).
//! - Each architecture is selected from the configuration as written (v1 writes the resolved
//!   min/max back into the configuration after the first architecture, which turns a heads-only
//!   channel into `full` for the next one).
//! - A shortest path that does not exist is an error (v1 mirrors just the two ends).

use crate::graph::{parse_version, Graph, Node};
use ferry_types::{Error, Result};
use semver::Version;
use serde::Serialize;
use std::collections::BTreeMap;

/// One `mirror.platform.channels[]` entry, versions parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChannelSpec {
    pub name: String,
    /// `type: okd` (its own upstream; never part of a cross-channel chain).
    pub okd: bool,
    pub min: Option<Version>,
    pub max: Option<Version>,
    pub shortest_path: bool,
    pub full: bool,
}

impl ChannelSpec {
    /// Build from the strings of a configuration entry; errors name `mirror.platform.channels[i]`.
    pub fn new(
        index: usize,
        name: &str,
        okd: bool,
        min: Option<&str>,
        max: Option<&str>,
        shortest_path: bool,
        full: bool,
    ) -> Result<Self> {
        let at = |f: &str| format!("mirror.platform.channels[{index}].{f} (channel {name})");
        let min = min.map(|m| parse_version(m, &at("minVersion"))).transpose()?;
        let max = max.map(|m| parse_version(m, &at("maxVersion"))).transpose()?;
        if let (Some(a), Some(b)) = (&min, &max) {
            if a > b {
                return Err(Error::InvalidConfig(format!(
                    "{}: minVersion {a} is above maxVersion {b}; swap them or fix one",
                    at("minVersion")
                )));
            }
        }
        Ok(ChannelSpec {
            name: name.to_string(),
            okd,
            min,
            max,
            shortest_path,
            full,
        })
    }

    /// Heads-only: no explicit range and not `full` (the default).
    pub fn heads_only(&self) -> bool {
        !self.full && self.min.is_none() && self.max.is_none()
    }
}

/// A release picked for mirroring.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    #[serde(serialize_with = "ser_version")]
    pub version: Version,
    /// The release image by digest.
    pub payload: String,
    /// The channel it was selected from.
    pub channel: String,
    /// The configuration's architecture name (`amd64`, `arm64`, `ppc64le`, `s390x`, `multi`).
    pub arch: String,
    pub okd: bool,
}

fn ser_version<S: serde::Serializer>(v: &Version, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl Release {
    fn from_node(n: &Node, g: &Graph, okd: bool) -> Self {
        Release {
            version: n.version.clone(),
            payload: n.payload.clone(),
            channel: g.channel.clone(),
            arch: g.arch.clone(),
            okd,
        }
    }

    /// The architecture as it appears in release tags (`4.13.10-x86_64`): oc-mirror maps
    /// amd64→x86_64 and arm64→aarch64 and keeps the others.
    pub fn tag_arch(&self) -> &str {
        tag_arch(&self.arch)
    }

    /// `<version>-<arch>`, the tag of the release image in `openshift/release-images`.
    pub fn tag(&self) -> String {
        format!("{}-{}", self.version, self.tag_arch())
    }
}

/// Config architecture → release tag architecture.
pub fn tag_arch(arch: &str) -> &str {
    match arch {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        other => other,
    }
}

/// What was chosen from one channel for one architecture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelSelection {
    pub channel: String,
    pub arch: String,
    #[serde(serialize_with = "ser_version")]
    pub min: Version,
    #[serde(serialize_with = "ser_version")]
    pub max: Version,
    pub shortest_path: bool,
    pub heads_only: bool,
    pub releases: Vec<Release>,
    /// Things the user should know about this selection (previous-minor releases included…).
    pub notes: Vec<String>,
}

/// `<prefix>-X.Y` → (prefix, X, Y).
pub fn split_channel(name: &str) -> Option<(&str, u64, u64)> {
    let (prefix, ver) = name.rsplit_once('-')?;
    let (x, y) = ver.split_once('.')?;
    Some((prefix, x.parse().ok()?, y.parse().ok()?))
}

fn not_in_channel(v: &Version, g: &Graph, field: &str) -> Error {
    let range = match (g.lowest(), g.head()) {
        (Some(l), Some(h)) => format!("its releases run from {} to {}", l.version, h.version),
        _ => "it has no releases".to_string(),
    };
    Error::InvalidConfig(format!(
        "{field} {v} is not in channel {} for architecture {} ({range}); pick a version from \
         `ferry list releases --channel {} --arch {}`",
        g.channel, g.arch, g.channel, g.arch
    ))
}

/// An empty graph: Cincinnati answers an unknown channel (or one without this architecture)
/// with no nodes rather than an error.
pub fn empty_channel(g: &Graph) -> Error {
    Error::NotFound {
        what: format!("channel {} for architecture {}", g.channel, g.arch),
        hint: Some(
            "the update service lists no releases there; check the channel name and architecture \
             (`ferry list releases --channels` shows the channels, e.g. stable-4.14)"
                .to_string(),
        ),
    }
}

/// Select the releases of one channel for one architecture. `remembered_min` is the heads-only
/// minimum stored by the previous run for this channel.
pub fn select_channel(
    g: &Graph,
    spec: &ChannelSpec,
    remembered_min: Option<&Version>,
    with_conditional: bool,
) -> Result<ChannelSelection> {
    let (Some(head), Some(lowest)) = (g.head(), g.lowest()) else {
        return Err(empty_channel(g));
    };
    if let Some(m) = &spec.min {
        if !g.contains(m) {
            return Err(not_in_channel(m, g, "minVersion"));
        }
    }
    if let Some(m) = &spec.max {
        if !g.contains(m) {
            return Err(not_in_channel(m, g, "maxVersion"));
        }
    }
    let max = spec.max.clone().unwrap_or_else(|| head.version.clone());
    let heads_only = spec.heads_only();
    let min = match (&spec.min, heads_only) {
        (Some(m), _) => m.clone(),
        // The remembered minimum may have left the channel since; the range still works, and
        // the path search falls back to the range filter's lowest release in it.
        (None, true) => remembered_min
            .filter(|m| *m <= &max)
            .cloned()
            .unwrap_or_else(|| head.version.clone()),
        (None, false) => lowest.version.clone(),
    };
    let nodes: Vec<&Node> = if spec.shortest_path {
        let from = if g.contains(&min) {
            min.clone()
        } else {
            // Only a remembered minimum can be absent; start at the lowest release at or above it.
            g.range(&min, &max)
                .first()
                .map(|n| n.version.clone())
                .ok_or_else(|| not_in_channel(&min, g, "remembered minimum"))?
        };
        g.shortest_path(&from, &max, with_conditional).ok_or_else(|| {
            let hint = if !with_conditional && g.conditional_pair_count() > 0 {
                " (only unconditional update edges were followed; the channel also has conditional edges with known risks)"
            } else {
                ""
            };
            Error::InvalidConfig(format!(
                "no upgrade path from {from} to {max} in channel {} for architecture {}{hint}; \
                 pick versions that are connected (see `ferry list releases --channel {} --arch {}`) \
                 or drop shortestPath to mirror the whole range",
                g.channel, g.arch, g.channel, g.arch
            ))
        })?
    } else {
        g.range(&min, &max)
    };
    let releases: Vec<Release> = nodes.iter().map(|n| Release::from_node(n, g, spec.okd)).collect();
    let mut notes = Vec::new();
    if let Some((_, x, y)) = split_channel(&g.channel) {
        let older: Vec<&Release> = releases
            .iter()
            .filter(|r| (r.version.major, r.version.minor) < (x, y))
            .collect();
        if !older.is_empty() {
            notes.push(format!(
                "channel {} ({}) also holds the previous minor: {} of the {} selected releases are older than {x}.{y} \
                 (from {}); set minVersion: {x}.{y}.0 to leave them out",
                g.channel,
                g.arch,
                older.len(),
                releases.len(),
                older[0].version
            ));
        }
    }
    if spec.shortest_path {
        notes.extend(conditional_note(g, &min, &max, &releases, with_conditional));
    }
    if heads_only {
        notes.push(format!(
            "channel {} ({}) is heads-only: mirroring {min}..{max}; the next run mirrors from {min} up to the new head",
            g.channel, g.arch
        ));
    }
    Ok(ChannelSelection {
        channel: g.channel.clone(),
        arch: g.arch.clone(),
        min,
        max,
        shortest_path: spec.shortest_path,
        heads_only,
        releases,
        notes,
    })
}

/// What a shortest path did with conditional edges (updates with known risks) inside
/// `[min, max]`: without the opt-in, how many it skipped and their risk names; with it, which
/// path steps are conditional. `None` when the range has none.
fn conditional_note(g: &Graph, min: &Version, max: &Version, path: &[Release], with: bool) -> Option<String> {
    let inside = |i: usize| {
        let v = &g.nodes[i].version;
        v >= min && v <= max
    };
    let mut pairs = 0usize;
    let mut risks = std::collections::BTreeSet::new();
    let mut used = Vec::new();
    for c in &g.conditional_edges {
        for &(f, t) in &c.edges {
            if !(inside(f) && inside(t)) {
                continue;
            }
            pairs += 1;
            risks.extend(c.risks.iter().map(|r| r.name.clone()));
            let on_path = path
                .windows(2)
                .any(|w| w[0].version == g.nodes[f].version && w[1].version == g.nodes[t].version);
            if on_path {
                let names: Vec<&str> = c.risks.iter().map(|r| r.name.as_str()).collect();
                used.push(format!(
                    "{} -> {} ({})",
                    g.nodes[f].version,
                    g.nodes[t].version,
                    names.join(", ")
                ));
            }
        }
    }
    if pairs == 0 {
        return None;
    }
    let names: Vec<String> = risks.into_iter().collect();
    Some(if with {
        if used.is_empty() {
            format!(
                "channel {} ({}): conditional edges were allowed, and the shortest path needs none of them",
                g.channel, g.arch
            )
        } else {
            format!(
                "channel {} ({}): the shortest path takes conditional updates with known risks: {}",
                g.channel,
                g.arch,
                used.join("; ")
            )
        }
    } else {
        format!(
            "channel {} ({}): {pairs} conditional updates between {min} and {max} were not followed (known risks: {}); \
             pass --include-conditional-edges to allow them",
            g.channel,
            g.arch,
            names.join(", ")
        )
    })
}

/// Releases deduplicated by (architecture, payload), sorted by architecture then version.
pub fn dedup_releases(all: impl IntoIterator<Item = Release>) -> Vec<Release> {
    let mut m: BTreeMap<(String, String), Release> = BTreeMap::new();
    for r in all {
        m.entry((r.arch.clone(), r.payload.clone())).or_insert(r);
    }
    let mut v: Vec<Release> = m.into_values().collect();
    v.sort_by(|a, b| (&a.arch, &a.version).cmp(&(&b.arch, &b.version)));
    v
}
