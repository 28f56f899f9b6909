//! The Cincinnati update graph of one channel and architecture, as `/graph` serves it:
//! `nodes[{version, payload, metadata}]`, `edges[[from, to]]` (indexes into `nodes`) and
//! `conditionalEdges[{edges[{from, to}], risks[…]}]`.
//!
//! Versions are parsed as semver when the graph is read, so every comparison afterwards is a
//! semver comparison (oc-mirror v1 compares previous-run versions as strings in places).
//! `conditionalEdges` are kept with their risks so front ends can show them; the shortest-path
//! search only follows them when asked to (oc-mirror v1 and v2 never parse them at all).

use ferry_types::{Error, Result};
use semver::Version;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// Graph metadata key listing the channels a release belongs to.
pub const META_CHANNELS: &str = "io.openshift.upgrades.graph.release.channels";
/// Graph metadata key for the payload's architecture (`multi` for manifest-list payloads).
pub const META_ARCH: &str = "release.openshift.io/architecture";

/// One release in a channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    #[serde(serialize_with = "ser_version")]
    pub version: Version,
    /// The release image by digest, e.g. `quay.io/openshift-release-dev/ocp-release@sha256:…`.
    pub payload: String,
    pub metadata: BTreeMap<String, String>,
}

fn ser_version<S: serde::Serializer>(v: &Version, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// One risk attached to a group of conditional edges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Risk {
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub message: String,
    /// Kept verbatim (PromQL or `Always`); Ferry does not evaluate cluster conditions.
    #[serde(default)]
    pub matching_rules: serde_json::Value,
}

/// Conditional update edges that share the same risks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionalEdges {
    /// (from, to) as node indexes.
    pub edges: Vec<(usize, usize)>,
    pub risks: Vec<Risk>,
}

/// A parsed update graph.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Graph {
    /// The channel and architecture this graph was fetched for (labels, for messages).
    pub channel: String,
    pub arch: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<(usize, usize)>,
    pub conditional_edges: Vec<ConditionalEdges>,
    /// Edges that pointed outside the node list (hand-made graphs) and were dropped.
    pub dropped_edges: usize,
    #[serde(skip)]
    by_version: HashMap<Version, usize>,
}

#[derive(Deserialize)]
struct RawGraph {
    #[serde(default)]
    nodes: Vec<RawNode>,
    #[serde(default)]
    edges: Vec<(i64, i64)>,
    #[serde(default, rename = "conditionalEdges")]
    conditional_edges: Vec<RawConditional>,
}

#[derive(Deserialize)]
struct RawNode {
    version: String,
    #[serde(default)]
    payload: String,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawConditional {
    #[serde(default)]
    edges: Vec<RawEdge>,
    #[serde(default)]
    risks: Vec<Risk>,
}

#[derive(Deserialize)]
struct RawEdge {
    from: String,
    to: String,
}

/// Parse a version as the graph and the configuration write it (semver; a leading `v` is
/// tolerated). The error names what was being read.
pub fn parse_version(s: &str, what: &str) -> Result<Version> {
    let t = s.trim();
    let t = t.strip_prefix('v').unwrap_or(t);
    Version::parse(t).map_err(|e| {
        Error::InvalidConfig(format!(
            "{what}: {s:?} is not a release version ({e}); write it as X.Y.Z, e.g. 4.13.10"
        ))
    })
}

impl Graph {
    /// Parse a `/graph` response body. `channel`/`arch` label the graph in messages.
    pub fn parse(body: &[u8], channel: &str, arch: &str) -> Result<Graph> {
        let what = format!("update graph of channel {channel} ({arch})");
        let raw: RawGraph = serde_json::from_slice(body)
            .map_err(|e| Error::InvalidConfig(format!("{what}: not a Cincinnati graph response: {e}")))?;
        let mut nodes = Vec::with_capacity(raw.nodes.len());
        let mut by_version = HashMap::new();
        for (i, n) in raw.nodes.into_iter().enumerate() {
            let version = parse_version(&n.version, &format!("{what}: nodes[{i}].version"))?;
            by_version.insert(version.clone(), i);
            nodes.push(Node {
                version,
                payload: n.payload,
                metadata: n.metadata,
            });
        }
        let n = nodes.len() as i64;
        let mut dropped = 0;
        let mut edges = Vec::with_capacity(raw.edges.len());
        for (f, t) in raw.edges {
            if (0..n).contains(&f) && (0..n).contains(&t) {
                edges.push((f as usize, t as usize));
            } else {
                dropped += 1;
            }
        }
        if dropped > 0 {
            tracing::warn!(
                channel,
                arch,
                dropped,
                "update graph has edges pointing outside its nodes; ignored"
            );
        }
        let mut conditional_edges = Vec::new();
        for c in raw.conditional_edges {
            let mut pairs = Vec::new();
            for e in c.edges {
                let f = Version::parse(&e.from).ok().and_then(|v| by_version.get(&v).copied());
                let t = Version::parse(&e.to).ok().and_then(|v| by_version.get(&v).copied());
                match (f, t) {
                    (Some(f), Some(t)) => pairs.push((f, t)),
                    _ => dropped += 1,
                }
            }
            conditional_edges.push(ConditionalEdges {
                edges: pairs,
                risks: c.risks,
            });
        }
        Ok(Graph {
            channel: channel.to_string(),
            arch: arch.to_string(),
            nodes,
            edges,
            conditional_edges,
            dropped_edges: dropped,
            by_version,
        })
    }

    pub fn index_of(&self, v: &Version) -> Option<usize> {
        self.by_version.get(v).copied()
    }

    pub fn node(&self, v: &Version) -> Option<&Node> {
        self.index_of(v).map(|i| &self.nodes[i])
    }

    pub fn contains(&self, v: &Version) -> bool {
        self.by_version.contains_key(v)
    }

    /// The highest version in the channel (its head).
    pub fn head(&self) -> Option<&Node> {
        self.nodes.iter().max_by(|a, b| a.version.cmp(&b.version))
    }

    /// The lowest version in the channel (often a release of the previous minor).
    pub fn lowest(&self) -> Option<&Node> {
        self.nodes.iter().min_by(|a, b| a.version.cmp(&b.version))
    }

    /// Versions in ascending semver order.
    pub fn versions(&self) -> Vec<&Version> {
        let mut v: Vec<&Version> = self.nodes.iter().map(|n| &n.version).collect();
        v.sort();
        v
    }

    /// Every node with `min <= version <= max`, ascending.
    pub fn range(&self, min: &Version, max: &Version) -> Vec<&Node> {
        let mut v: Vec<&Node> = self
            .nodes
            .iter()
            .filter(|n| &n.version >= min && &n.version <= max)
            .collect();
        v.sort_by(|a, b| a.version.cmp(&b.version));
        v
    }

    /// Number of conditional (risk-carrying) update pairs.
    pub fn conditional_pair_count(&self) -> usize {
        self.conditional_edges.iter().map(|c| c.edges.len()).sum()
    }

    /// The risks on the conditional edge `from → to`, if that pair is conditional.
    pub fn risks_of(&self, from: &Version, to: &Version) -> Vec<&Risk> {
        let (Some(f), Some(t)) = (self.index_of(from), self.index_of(to)) else {
            return Vec::new();
        };
        self.conditional_edges
            .iter()
            .filter(|c| c.edges.contains(&(f, t)))
            .flat_map(|c| c.risks.iter())
            .collect()
    }

    /// Breadth-first shortest upgrade path `from → to`, both ends included, as oc-mirror
    /// does it: each node's neighbours are tried highest version first, so among paths of
    /// equal length the one through higher versions wins. `with_conditional` also follows
    /// conditional edges. `None` when there is no path (never "just the two ends").
    pub fn shortest_path(&self, from: &Version, to: &Version, with_conditional: bool) -> Option<Vec<&Node>> {
        let start = self.index_of(from)?;
        let goal = self.index_of(to)?;
        if start == goal {
            return Some(vec![&self.nodes[start]]);
        }
        let mut adj: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        for &(f, t) in &self.edges {
            adj[f].push(t);
        }
        if with_conditional {
            for c in &self.conditional_edges {
                for &(f, t) in &c.edges {
                    adj[f].push(t);
                }
            }
        }
        for a in &mut adj {
            a.sort_by(|x, y| self.nodes[*y].version.cmp(&self.nodes[*x].version));
            a.dedup();
        }
        let mut prev: Vec<Option<usize>> = vec![None; self.nodes.len()];
        let mut seen = vec![false; self.nodes.len()];
        seen[start] = true;
        let mut queue = VecDeque::from([start]);
        while let Some(cur) = queue.pop_front() {
            for &nb in &adj[cur] {
                if seen[nb] {
                    continue;
                }
                seen[nb] = true;
                prev[nb] = Some(cur);
                if nb == goal {
                    let mut path = vec![goal];
                    let mut at = goal;
                    while let Some(p) = prev[at] {
                        path.push(p);
                        at = p;
                    }
                    path.reverse();
                    return Some(path.into_iter().map(|i| &self.nodes[i]).collect());
                }
                queue.push_back(nb);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TINY: &str = r#"{"version":1,"nodes":[
        {"version":"4.20.0","payload":"q/r@sha256:a","metadata":{}},
        {"version":"4.20.10","payload":"q/r@sha256:b","metadata":{}},
        {"version":"4.20.9","payload":"q/r@sha256:c","metadata":{}},
        {"version":"4.20.2","payload":"q/r@sha256:d","metadata":{}}],
        "edges":[[0,2],[0,3],[3,1],[2,1],[0,9]],
        "conditionalEdges":[{"edges":[{"from":"4.20.0","to":"4.20.10"}],"risks":[{"name":"R","url":"u","message":"m","matchingRules":[{"type":"Always"}]}]}]}"#;

    #[test]
    fn semver_order_and_head_not_string_order() {
        let g = Graph::parse(TINY.as_bytes(), "stable-4.20", "amd64").unwrap();
        assert_eq!(g.head().unwrap().version, Version::new(4, 20, 10));
        assert_eq!(g.lowest().unwrap().version, Version::new(4, 20, 0));
        assert_eq!(g.dropped_edges, 1);
        let v: Vec<String> = g.versions().iter().map(|v| v.to_string()).collect();
        assert_eq!(v, ["4.20.0", "4.20.2", "4.20.9", "4.20.10"]);
    }

    #[test]
    fn bfs_prefers_higher_neighbours_and_conditional_is_opt_in() {
        let g = Graph::parse(TINY.as_bytes(), "stable-4.20", "amd64").unwrap();
        let (a, b) = (Version::new(4, 20, 0), Version::new(4, 20, 10));
        let p: Vec<String> = g
            .shortest_path(&a, &b, false)
            .unwrap()
            .iter()
            .map(|n| n.version.to_string())
            .collect();
        // 4.20.9 and 4.20.2 both reach 4.20.10 in two hops; the higher neighbour wins.
        assert_eq!(p, ["4.20.0", "4.20.9", "4.20.10"]);
        let p = g.shortest_path(&a, &b, true).unwrap();
        assert_eq!(p.len(), 2, "the conditional edge is direct");
        assert_eq!(g.risks_of(&a, &b)[0].name, "R");
        assert!(g.shortest_path(&b, &a, true).is_none(), "no downgrade path");
    }

    #[test]
    fn bad_version_names_the_node() {
        let e = Graph::parse(br#"{"nodes":[{"version":"four","payload":""}]}"#, "c", "amd64").unwrap_err();
        assert!(e.to_string().contains("nodes[0].version"), "{e}");
        let e = Graph::parse(b"<html>", "stable-4.99", "amd64").unwrap_err();
        assert!(e.to_string().contains("stable-4.99"), "{e}");
    }
}
