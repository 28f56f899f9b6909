//! IPC wire types of the app's release views: the channel graph with the engine's selection on
//! it, the planned releases of a dry run, and the signature status of a results folder.
//! Re-exported from [`crate::wire`]; the TypeScript declarations are generated with the rest.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the image-set editor asks for: one `mirror.platform.channels[]` entry and one
/// architecture, as the form holds them (strings, unparsed: the engine names bad versions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseGraphRequest {
    pub channel: String,
    /// `type: okd` (the OKD upstream).
    pub okd: bool,
    /// `amd64`, `arm64`, `ppc64le`, `s390x` or `multi`.
    pub arch: String,
    pub min_version: Option<String>,
    pub max_version: Option<String>,
    pub shortest_path: bool,
    pub full: bool,
}

/// One release of the channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GraphNode {
    pub version: String,
    /// The release image by digest.
    pub payload: String,
}

/// One risk on a group of conditional edges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GraphRisk {
    pub name: String,
    pub url: String,
    pub message: String,
}

/// Conditional update edges sharing the same risks (indexes into `nodes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GraphConditional {
    pub edges: Vec<(u32, u32)>,
    pub risks: Vec<GraphRisk>,
}

/// What the engine's selection (the same `ferry-release` code the CLI runs) picked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct GraphSelection {
    pub min: String,
    pub max: String,
    pub heads_only: bool,
    pub shortest_path: bool,
    /// The selected releases as indexes into `nodes`, ascending (with `shortestPath`: the
    /// upgrade path in order).
    pub releases: Vec<u32>,
    pub notes: Vec<String>,
}

/// A channel's update graph for one architecture, nodes in ascending semver order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseGraphView {
    pub channel: String,
    pub arch: String,
    /// The update service asked (`UPDATE_URL_OVERRIDE` when set).
    pub upstream: String,
    pub nodes: Vec<GraphNode>,
    /// Unconditional update edges (from, to) as indexes into `nodes`.
    pub edges: Vec<(u32, u32)>,
    pub conditional: Vec<GraphConditional>,
    /// None when the selection failed (see `selectionError`); the graph is still shown.
    pub selection: Option<GraphSelection>,
    pub selection_error: Option<String>,
}

/// Where a release's signature stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SignatureState {
    /// Verified against the keyring (`key` names the key).
    Verified,
    /// `--skip-verification`: shipped without a verified signature.
    Skipped,
    /// Not checked yet.
    Pending,
    /// A signature is there but does not verify (results only).
    NotVerified,
    /// No signature file for this release (results only).
    Missing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SignatureView {
    pub state: SignatureState,
    /// Fingerprint of the key that verified it.
    pub key: Option<String>,
    /// `critical.identity.docker-reference` of the signature.
    pub identity: Option<String>,
    /// Why it is not verified.
    pub detail: Option<String>,
}

/// One release in the dry run's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PlanRelease {
    pub version: String,
    pub arch: String,
    pub channel: String,
    /// The release image, pinned by digest.
    pub source: String,
    /// `openshift/release-images:<version>-<arch>` under the destination.
    pub destination: String,
    pub components: u32,
    pub multi: bool,
    /// Bytes of the release image and its components, blobs shared among them counted once.
    pub bytes: Option<u64>,
    pub signature: SignatureView,
}

/// A release a results folder holds (from `mapping.txt`) and its signature file, re-verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseSignatureRow {
    /// The mirrored release image (`…/openshift/release-images:<version>-<arch>`).
    pub image: String,
    pub digest: String,
    /// `release-signatures/signature-sha256-<16hex>.json`, when present.
    pub file: Option<String>,
    pub signature: SignatureView,
}
