//! IPC wire types of the app's helm chart section and its pruning confirmation (see
//! [`crate::helm_browse`]). camelCase serde structs; `ts-rs` writes `ui/src/bindings/`.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A chart repository's `index.yaml`, as the editor's chart picker lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HelmRepoIndex {
    /// The repository URL as asked (the folder that holds `index.yaml`).
    pub url: String,
    /// Charts by name.
    pub charts: Vec<HelmChartEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartEntry {
    pub name: String,
    /// Newest first.
    pub versions: Vec<HelmChartVersionView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HelmChartVersionView {
    pub version: String,
    pub app_version: String,
    pub deprecated: bool,
    /// The index gives a sha256 for the archive (the download is checked against it).
    pub has_digest: bool,
}

/// A local chart (`.tgz` or folder) the user picked: what `mirror.helm.local[]` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct HelmLocalChart {
    pub path: String,
    pub name: String,
    pub version: String,
}

/// The images one chart yields, for the Plan screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChartPlanView {
    /// Repository name (`None` for a local chart).
    pub repository: Option<String>,
    pub name: String,
    pub version: String,
    /// `static scan` or `helm template (<binary>)`.
    pub mode: String,
    pub images: Vec<ChartImageView>,
    /// What the scan could not resolve, with where (values path or file:line) and why.
    pub unresolved: Vec<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChartImageView {
    /// Normalised reference (`docker.io/library/nginx:1.16.0`).
    pub image: String,
    /// As the chart wrote it.
    pub written: String,
    /// Where it was found: `chart: values image.repository`, `chart: templates/x.yaml:12`,
    /// `chart: annotation helm.sh/images`.
    pub provenance: Vec<String>,
    /// Only hook manifests use it (pre-install jobs and the like): still mirrored.
    pub hook: bool,
    /// Only `helm test` pods use it: not mirrored.
    pub test: bool,
    /// The `mirror.blockedImages` pattern that removes it from the run, if one does.
    pub blocked_by: Option<String>,
    /// The exact `mirror.blockedImages` pattern the Plan's "Remove" writes for this image.
    pub block_pattern: String,
}

/// The pruning plan of a mirror-to-mirror run into a registry, shown before anything is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PrunePreview {
    pub registry: String,
    /// Images (tops: single manifests and manifest lists) no longer in the image set.
    pub images: Vec<PruneItem>,
    /// Child manifests of those lists (deleted after their lists).
    pub children: Vec<PruneItem>,
    /// Sum of the known sizes (blobs shared with images that stay are counted too: they are
    /// only freed when the registry's garbage collector finds them unreferenced).
    pub known_bytes: u64,
    /// Why there is nothing to show (no storageConfig: nothing recorded to prune by).
    pub note: Option<String>,
    /// `<workspace>/pruning-plan.json` (oc-mirror's shape), when the plan is not empty.
    pub plan_file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PruneItem {
    pub repository: String,
    pub digest: String,
    /// Manifests and layers the image references, as the target registry reports them
    /// (`None` when the target could not say, e.g. the manifest is already gone).
    pub bytes: Option<u64>,
}
