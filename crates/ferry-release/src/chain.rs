//! All channels of a configuration, every architecture on its own, plus oc-mirror's
//! cross-channel upgrade chain when several OCP channels are listed.
//!
//! The chain (v1 `CalculateUpgrades`): start at the lowest minimum over the OCP channels, walk
//! that channel to its head, then continue in `<prefix>-X.(Y+1)` (`eus-` channels: `+2`) from that
//! head, until the channel of the highest maximum, where the path ends at that maximum. When the
//! previous head is not in the next channel the edge is *blocked*: it is reported, only the
//! target release is added and the chain stops (as v1; v1 only logs it).

use crate::graph::Graph;
use crate::select::{dedup_releases, select_channel, split_channel, ChannelSelection, ChannelSpec, Release};
use async_trait::async_trait;
use ferry_types::{Error, Result};
use semver::Version;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where graphs come from: the Cincinnati client, or files in tests and benchmarks.
#[async_trait]
pub trait GraphSource: Send + Sync {
    async fn graph(&self, okd: bool, channel: &str, arch: &str) -> Result<Arc<Graph>>;
}

/// A hop of the chain that could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockedEdge {
    pub arch: String,
    /// The head of the previous channel…
    #[serde(serialize_with = "ser_version")]
    pub from: Version,
    /// …which the next channel does not contain.
    pub channel: String,
}

fn ser_version<S: serde::Serializer>(v: &Version, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Everything chosen for `mirror.platform`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseSelection {
    /// Deduplicated by (arch, payload); sorted by arch, then version.
    pub releases: Vec<Release>,
    pub channels: Vec<ChannelSelection>,
    pub blocked_edges: Vec<BlockedEdge>,
    /// Releases added by the cross-channel chain (already in `releases`).
    pub chain: Vec<Release>,
    /// Heads-only minimum to remember per channel name (oc-mirror's `pastMirror.platforms`):
    /// the lowest over the architectures.
    pub remember: BTreeMap<String, String>,
    pub notes: Vec<String>,
}

/// Selection options.
#[derive(Debug, Clone, Default)]
pub struct SelectOptions {
    /// Also follow conditional update edges (risks) in path searches.
    pub with_conditional: bool,
}

/// Select every channel for every architecture. `remembered` maps channel names to the
/// heads-only minimum of the previous run.
pub async fn select_all(
    source: &dyn GraphSource,
    channels: &[ChannelSpec],
    archs: &[String],
    remembered: &BTreeMap<String, Version>,
    opts: &SelectOptions,
) -> Result<ReleaseSelection> {
    let mut out = ReleaseSelection::default();
    let mut all = Vec::new();
    let mut errors = Vec::new();
    for arch in archs {
        let mut per_arch: Vec<(ChannelSpec, ChannelSelection)> = Vec::new();
        for spec in channels {
            let res = async {
                let g = source.graph(spec.okd, &spec.name, arch).await?;
                select_channel(&g, spec, remembered.get(&spec.name), opts.with_conditional)
            }
            .await;
            match res {
                Ok(sel) => per_arch.push((spec.clone(), sel)),
                // Collected so one run reports every bad channel at once (as v1).
                Err(e) => errors.push(e.to_string()),
            }
        }
        let ocp: Vec<&(ChannelSpec, ChannelSelection)> = per_arch.iter().filter(|(s, _)| !s.okd).collect();
        if ocp.len() > 1 && errors.is_empty() {
            match chain(source, &ocp, arch, opts).await {
                Ok((rels, blocked)) => {
                    out.chain.extend(rels.iter().cloned());
                    all.extend(rels);
                    out.blocked_edges.extend(blocked);
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        for (spec, sel) in per_arch {
            if sel.heads_only {
                let e = out
                    .remember
                    .entry(spec.name.clone())
                    .or_insert_with(|| sel.min.to_string());
                if parse(e) > Some(sel.min.clone()) {
                    *e = sel.min.to_string();
                }
            }
            all.extend(sel.releases.iter().cloned());
            out.notes.extend(sel.notes.iter().cloned());
            out.channels.push(sel);
        }
    }
    if !errors.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "release selection failed:\n  {}",
            errors.join("\n  ")
        )));
    }
    for b in &out.blocked_edges {
        out.notes.push(format!(
            "blocked edge ({}): {} is not in channel {}, so the upgrade chain stops there; only the target release was added",
            b.arch, b.from, b.channel
        ));
    }
    out.chain = dedup_releases(std::mem::take(&mut out.chain));
    out.releases = dedup_releases(all);
    Ok(out)
}

fn parse(s: &str) -> Option<Version> {
    Version::parse(s).ok()
}

/// The cross-channel chain for one architecture.
async fn chain(
    source: &dyn GraphSource,
    ocp: &[&(ChannelSpec, ChannelSelection)],
    arch: &str,
    opts: &SelectOptions,
) -> Result<(Vec<Release>, Vec<BlockedEdge>)> {
    let start = ocp.iter().min_by(|a, b| a.1.min.cmp(&b.1.min)).expect("non-empty");
    let target = ocp.iter().max_by(|a, b| a.1.max.cmp(&b.1.max)).expect("non-empty");
    let (start_ch, target_ch) = (&start.0.name, &target.0.name);
    if start_ch == target_ch {
        return Ok((Vec::new(), Vec::new()));
    }
    let (Some((prefix, sx, sy)), Some((_, tx, ty))) = (split_channel(start_ch), split_channel(target_ch)) else {
        tracing::warn!(
            start_ch,
            target_ch,
            "channel names do not end in -X.Y; no cross-channel upgrade chain"
        );
        return Ok((Vec::new(), Vec::new()));
    };
    if sx != tx {
        tracing::warn!(
            start_ch,
            target_ch,
            "channels of different major versions; no cross-channel upgrade chain"
        );
        return Ok((Vec::new(), Vec::new()));
    }
    let step = if prefix == "eus" { 2 } else { 1 };
    let target_v = target.1.max.clone();
    let mut rels = Vec::new();
    let mut blocked = Vec::new();
    let (mut minor, mut cur_ch, mut cur_v) = (sy, start_ch.clone(), start.1.min.clone());
    loop {
        let g = source.graph(false, &cur_ch, arch).await?;
        let last = minor >= ty || &cur_ch == target_ch;
        let to = if last {
            target_v.clone()
        } else {
            g.head()
                .map(|h| h.version.clone())
                .ok_or_else(|| crate::select::empty_channel(&g))?
        };
        let path = g.shortest_path(&cur_v, &to, opts.with_conditional).ok_or_else(|| {
            Error::InvalidConfig(format!(
                "no upgrade path from {cur_v} to {to} in channel {cur_ch} for architecture {arch} \
                 (needed for the upgrade chain from {} in {start_ch} to {target_v} in {target_ch}); \
                 check the channels' versions with `ferry list releases --channel {cur_ch} --arch {arch}`",
                start.1.min
            ))
        })?;
        rels.extend(path.iter().map(|n| Release {
            version: n.version.clone(),
            payload: n.payload.clone(),
            channel: cur_ch.clone(),
            arch: arch.to_string(),
            okd: false,
        }));
        if last {
            break;
        }
        let next = format!("{prefix}-{sx}.{}", minor + step);
        let g2 = source.graph(false, &next, arch).await?;
        if !g2.contains(&to) {
            blocked.push(BlockedEdge {
                arch: arch.to_string(),
                from: to.clone(),
                channel: next.clone(),
            });
            rels.extend(target.1.releases.iter().filter(|r| r.version == target_v).cloned());
            break;
        }
        minor += step;
        cur_ch = next;
        cur_v = to;
    }
    Ok((rels, blocked))
}
