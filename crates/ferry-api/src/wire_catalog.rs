//! IPC wire types of the catalog browser (image-set editor): what a loaded catalog lists, one
//! package's channels and versions, and the filtered-result preview. Plain serde structs in
//! camelCase; ts-rs writes them to `ui/src/bindings/` (exported from [`crate::wire`]).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// An `olm.package` icon, as the catalog ships it (rendered by the UI as a `data:` URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CatalogIcon {
    pub media_type: String,
    pub base64_data: String,
}

/// One package in the catalog list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPackageSummary {
    pub name: String,
    /// `displayName` of the default channel head's `olm.csv.metadata`, when it has one.
    pub display_name: Option<String>,
    /// The first paragraph of the package description (at most ~240 characters).
    pub summary: String,
    pub icon: Option<CatalogIcon>,
    pub default_channel: String,
    /// Channel names, by name.
    pub channels: Vec<String>,
    /// Version of the default channel's head bundle.
    pub head_version: Option<String>,
    pub bundle_count: u32,
}

/// A catalog read from an index image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CatalogView {
    /// The index image as entered.
    pub catalog: String,
    /// The same image pinned to the digest that was read (`registry/repo@sha256:…`, the tag left out).
    pub pinned: String,
    pub digest: String,
    /// Directory of the FBC inside the image (from the configs label).
    pub configs_dir: String,
    pub packages: Vec<CatalogPackageSummary>,
    pub bundle_count: u32,
    /// Time to read this answer: the whole catalog when it was not cached yet.
    pub load_millis: u64,
    /// True when the catalog of this digest was already loaded in this session.
    pub cached: bool,
}

/// One channel of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CatalogChannelView {
    pub name: String,
    pub is_default: bool,
    /// Head bundle (the one nothing in the channel replaces or skips) and its version.
    pub head: String,
    pub head_version: String,
    /// Every bundle version of the channel, lowest first (the choices for a version range).
    pub versions: Vec<String>,
}

/// One package with its full description and its channels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPackageView {
    pub name: String,
    pub display_name: Option<String>,
    pub description: String,
    pub icon: Option<CatalogIcon>,
    pub default_channel: String,
    pub channels: Vec<CatalogChannelView>,
}

/// A bundle the filter keeps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PreviewBundle {
    pub package: String,
    pub bundle: String,
    pub version: String,
    /// The channels of the filtered catalog that list it.
    pub channels: Vec<String>,
    pub image: String,
    pub related_images: u32,
    /// True when only dependency resolution brought it in (the configuration alone would not).
    pub dependency: bool,
}

/// An image the mirror would copy for this catalog (bundle image or `relatedImages` entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PreviewImage {
    pub image: String,
    /// `bundle` or `related`.
    pub kind: String,
    pub package: String,
    pub bundle: String,
}

/// A bundle added for a dependency, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PreviewDependency {
    pub package: String,
    pub channel: String,
    pub bundle: String,
    /// `olm.gvk.required group/version Kind` or `olm.package.required name range`.
    pub requirement: String,
    /// `package/bundle` of the bundles that required it.
    pub required_by: Vec<String>,
    /// Every bundle this requirement added (the pick and the upgrade graph from it to its
    /// channel head, as the filter recorded it); empty when another pick's graph already
    /// brought the bundle in.
    pub added_bundles: Vec<String>,
}

/// A requirement nothing in this catalog provides (OLM may find it in another catalog).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PreviewUnresolved {
    pub requirement: String,
    pub required_by: Vec<String>,
}

/// The filtered result of one `mirror.operators[]` entry, computed on the loaded catalog with
/// the plan's own filter before anything is downloaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPreview {
    pub catalog: String,
    pub pinned: String,
    pub operator_index: u32,
    pub bundles: Vec<PreviewBundle>,
    pub images: Vec<PreviewImage>,
    pub dependencies: Vec<PreviewDependency>,
    pub unresolved: Vec<PreviewUnresolved>,
    pub default_channel_changes: Vec<String>,
    /// Total bytes of the distinct config and layer blobs of the images sized (every platform,
    /// read from the source registries); None when no image could be sized.
    pub total_bytes: Option<u64>,
    /// How many of the distinct images in `images` were sized ("n of m sized").
    pub sized_images: u32,
    /// What the size figure covers, and every image that could not be sized with the reason.
    pub size_note: String,
}
