//! The file-based catalog model: `olm.package`, `olm.channel` and `olm.bundle` documents in the
//! shape of operator-registry's `declcfg` types, plus every other schema kept verbatim.
//!
//! Property values stay raw JSON (`RawValue`) so that a catalog written back out carries the
//! publisher's bytes, as opm's `json.RawMessage` does; only the properties the filter needs
//! (`olm.package`, `olm.gvk`, `olm.gvk.required`, `olm.package.required`, `olm.channel`) are
//! decoded, on demand.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::fmt;

/// Where a document came from: file (relative to the catalog root), line and document number
/// (both 1-based), for error messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
    pub document: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{} (document {})", self.file, self.line, self.document)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Property {
    #[serde(rename = "type")]
    pub type_: String,
    pub value: Box<RawValue>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Icon {
    #[serde(rename = "base64data", default)]
    pub data: String,
    #[serde(rename = "mediatype", default)]
    pub media_type: String,
}

/// `olm.package`. Field order is opm's `declcfg.Package` (the writer relies on it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PackageDoc {
    pub schema: String,
    pub name: String,
    #[serde(rename = "defaultChannel", default)]
    pub default_channel: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Icon>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub properties: Vec<Property>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChannelEntry {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub replaces: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub skips: Vec<String>,
    #[serde(rename = "skipRange", default, skip_serializing_if = "String::is_empty")]
    pub skip_range: String,
}

/// `olm.channel` (opm's `declcfg.Channel` field order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Channel {
    pub schema: String,
    pub name: String,
    pub package: String,
    #[serde(default, deserialize_with = "nullable")]
    pub entries: Vec<ChannelEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub properties: Vec<Property>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct RelatedImage {
    #[serde(default)]
    pub name: String,
    pub image: String,
}

/// `olm.bundle` (opm's `declcfg.Bundle` field order).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleDoc {
    pub schema: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub package: String,
    #[serde(default)]
    pub image: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "nullable")]
    pub properties: Vec<Property>,
    #[serde(
        rename = "relatedImages",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "nullable"
    )]
    pub related_images: Vec<RelatedImage>,
}

/// A bundle with its decoded version and dependency properties.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub doc: BundleDoc,
    pub version: semver::Version,
    pub provides: Vec<Gvk>,
    pub requires_gvk: Vec<Gvk>,
    pub requires_pkg: Vec<PackageRequired>,
    pub origin: Origin,
}

impl Bundle {
    pub fn name(&self) -> &str {
        &self.doc.name
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
pub struct Gvk {
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub version: String,
}

impl fmt::Display for Gvk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{} {}", self.group, self.version, self.kind)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PackageRequired {
    #[serde(rename = "packageName")]
    pub package_name: String,
    #[serde(rename = "versionRange", default)]
    pub version_range: String,
}

/// A document of any other schema (`olm.deprecations`, `olm.csv.metadata` as its own blob,
/// vendor schemas): kept byte for byte.
#[derive(Debug, Clone)]
pub struct Meta {
    pub schema: String,
    pub package: String,
    pub name: String,
    pub blob: Box<RawValue>,
    pub origin: Origin,
}

/// One package with its channels, bundles and other documents.
#[derive(Debug, Clone)]
pub struct Package {
    pub doc: PackageDoc,
    pub origin: Origin,
    pub channels: BTreeMap<String, Channel>,
    pub bundles: BTreeMap<String, Bundle>,
    pub others: Vec<Meta>,
}

impl Package {
    pub fn name(&self) -> &str {
        &self.doc.name
    }
    pub fn default_channel(&self) -> &str {
        &self.doc.default_channel
    }
}

/// A whole catalog. Packages are keyed by name; `others` are documents without a package.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub packages: BTreeMap<String, Package>,
    pub others: Vec<Meta>,
}

impl Catalog {
    pub fn bundle_count(&self) -> usize {
        self.packages.values().map(|p| p.bundles.len()).sum()
    }
}

fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `olm.channel` property on a channel (the legacy channel priority used to choose a default).
#[derive(Debug, Clone, Deserialize)]
pub struct ChannelPriority {
    #[serde(rename = "channelName", default)]
    pub channel_name: String,
    #[serde(default)]
    pub priority: i64,
}

/// Decode every property of one type; a value that does not decode is an error for the caller.
pub fn decode_props<T: for<'a> Deserialize<'a>>(props: &[Property], type_: &str) -> Result<Vec<T>, String> {
    props
        .iter()
        .filter(|p| p.type_ == type_)
        .map(|p| serde_json::from_str(p.value.get()).map_err(|e| format!("property {type_} {}: {e}", p.value.get())))
        .collect()
}
