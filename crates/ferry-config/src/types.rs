//! The ImageSetConfiguration schema, as written by the user.
//!
//! Field names, nesting and JSON spelling follow oc-mirror's Go structs
//! (`v1/pkg/api/v1alpha2/types_config.go`, `types_include_config.go`,
//! `types_storage_config.go`, `types_platform.go`) so the `mirror` section serializes into
//! oc-mirror's metadata JSON unchanged.
//!
//! Representation rules (they make `parse → to_yaml → parse` lossless):
//! - Scalars the user may write with their default value (`full: false`, `type: ocp`,
//!   `archiveSize`) are `Option`s: `None` = not written. Defaults live in [`crate::defaults`]
//!   only, never here.
//! - Lists are `Vec`s, omitted from the output when empty.
//! - Every field accepts YAML `null` (`packages:` with nothing after it) as "not set", like
//!   oc-mirror's YAML → JSON → Go decoding does.
//! - Names that oc-mirror requires in practice (`catalog`, `name`, `url`) are plain `String`s
//!   that default to empty when missing; [`crate::validate`] reports the empty ones with their
//!   path, so one editing mistake yields a diagnostic instead of stopping the parse.

use serde::{Deserialize, Deserializer, Serialize};

/// `apiVersion` of the only configuration format Ferry reads.
pub const API_VERSION: &str = "mirror.openshift.io/v1alpha2";
/// `kind` of an image set configuration.
pub const KIND: &str = "ImageSetConfiguration";

/// Accept YAML/JSON `null` wherever a value may be omitted (oc-mirror decodes `null` into the
/// Go zero value, and users leave keys like `packages:` or `path:` empty).
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `kind: ImageSetConfiguration`, `apiVersion: mirror.openshift.io/v1alpha2`.
///
/// This is the configuration *as written*. Use [`ImageSetConfiguration::with_defaults`] (or the
/// accessors such as [`ImageSetConfiguration::archive_size_bytes`]) for effective values.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageSetConfiguration {
    #[serde(alias = "apiversion", default, deserialize_with = "nullable")]
    pub api_version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub kind: String,
    /// Maximum size of one archive file, in GiB (1024³ bytes). Unset or 0 = 500 GiB.
    #[serde(alias = "archivesize", default, skip_serializing_if = "Option::is_none")]
    pub archive_size: Option<u64>,
    /// Where the metadata (sequence, past associations) is kept between runs. Unset = a
    /// single-use run (oc-mirror's "stateless mode").
    #[serde(alias = "storageconfig", default, skip_serializing_if = "Option::is_none")]
    pub storage_config: Option<StorageConfig>,
    #[serde(default, deserialize_with = "nullable")]
    pub mirror: Mirror,
}

/// `storageConfig`: exactly one backend should be set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<RegistryConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalConfig>,
}

/// `storageConfig.registry`: metadata kept in an image (`imageURL`, e.g. `localhost:5000/meta:latest`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    #[serde(alias = "imageurl", rename = "imageURL", default, deserialize_with = "nullable")]
    pub image_url: String,
    /// Skip TLS verification (or use plain HTTP) for that registry.
    #[serde(
        alias = "skiptls",
        rename = "skipTLS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub skip_tls: Option<bool>,
}

/// `storageConfig.local`: metadata kept in a directory.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalConfig {
    #[serde(default, deserialize_with = "nullable")]
    pub path: String,
}

/// `mirror`: what the image set contains.
///
/// Field decisions (checked against every configuration under the shared oc-mirror fixtures
/// and `release-4.16/docs/imageset-config-ref.yaml`):
/// - `platform`, `operators`, `additionalImages`, `helm`, `blockedImages`: supported.
/// - `samples`: a field of oc-mirror's Go struct that oc-mirror documents as "not implemented";
///   accepted (and written back) so such files still load, with a warning that it is ignored.
/// - oc-mirror v2 (`v2alpha1`) additions such as `platform.release`, `platform.kubeVirtContainer`,
///   `operators[].targetCatalogSourceTemplate`, `additionalImages[].targetRepo`/`targetTag` and
///   the `delete` section are rejected as unknown fields, with a hint that they belong to v2alpha1.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mirror {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<Operator>,
    #[serde(
        alias = "additionalimages",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub additional_images: Vec<Image>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm: Option<Helm>,
    #[serde(
        alias = "blockedimages",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub blocked_images: Vec<Image>,
    /// Not implemented by oc-mirror v1 either; kept only so such files round-trip.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<Image>,
}

/// `mirror.platform`: OpenShift/OKD release payloads.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Platform {
    /// Also build the Cincinnati graph-data image (for the OpenShift Update Service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<bool>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ReleaseChannel>,
    /// `amd64`, `arm64`, `ppc64le`, `s390x` or `multi`. Defaults to `[amd64]` when channels are set.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
}

/// One release channel, e.g. `stable-4.16`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReleaseChannel {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// `ocp` (default) or `okd`. Unlike oc-mirror, which silently treats any unknown value
    /// (even `OKD`) as `ocp`, an unknown value is a parse error here.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub platform_type: Option<PlatformType>,
    #[serde(alias = "minversion", default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    #[serde(alias = "maxversion", default, skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
    /// Only the releases on the shortest upgrade path between min and max.
    #[serde(alias = "shortestpath", default, skip_serializing_if = "Option::is_none")]
    pub shortest_path: Option<bool>,
    /// Every release of the channel (min = first, max = last unless set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<bool>,
}

/// `type` of a release channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformType {
    #[default]
    Ocp,
    Okd,
}

impl PlatformType {
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformType::Ocp => "ocp",
            PlatformType::Okd => "okd",
        }
    }
}

/// `mirror.operators[]`: one operator catalog and what to take from it.
///
/// Field decisions: `catalog`, `full`, `skipDependencies`, `targetCatalog` (4.13+),
/// `targetTag` and `packages` are supported. `targetName` is accepted but deprecated since
/// oc-mirror 4.13 (warning; `targetCatalog` wins when both are set). `originalRef` is accepted
/// for old files but ignored, as in oc-mirror 4.13+ (warning).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Operator {
    /// Catalog image (`registry/ns/name:tag` or `@sha256:…`), or `oci://PATH` for an OCI layout
    /// on disk holding a file-based catalog.
    #[serde(default, deserialize_with = "nullable")]
    pub catalog: String,
    /// Deprecated (oc-mirror 4.13): the last path component of the rebuilt catalog.
    #[serde(alias = "targetname", default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
    /// `[namespace/]name` of the rebuilt catalog on the target registry.
    #[serde(alias = "targetcatalog", default, skip_serializing_if = "Option::is_none")]
    pub target_catalog: Option<String>,
    /// Tag of the rebuilt catalog (default: the source tag, or 6 hex chars of the digest).
    #[serde(alias = "targettag", default, skip_serializing_if = "Option::is_none")]
    pub target_tag: Option<String>,
    /// `true`: everything selected (whole catalog / package / channel); `false` (default):
    /// channel heads only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<bool>,
    #[serde(alias = "skipdependencies", default, skip_serializing_if = "Option::is_none")]
    pub skip_dependencies: Option<bool>,
    /// Deprecated in oc-mirror 4.13 and unused.
    #[serde(alias = "originalref", default, skip_serializing_if = "Option::is_none")]
    pub original_ref: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<IncludePackage>,
}

/// Prefix of a catalog held in a local OCI layout.
pub const OCI_TRANSPORT_PREFIX: &str = "oci:";

impl Operator {
    /// A catalog read from an OCI layout on disk (`oci://…`) rather than a registry.
    pub fn is_oci(&self) -> bool {
        self.catalog.starts_with(OCI_TRANSPORT_PREFIX)
    }
}

/// `packages[]`: one operator package. Version fields at this level apply to every channel
/// of the package; they are mutually exclusive with version fields on `channels[]`.
///
/// Field decision: `defaultChannel` (added in later v1 releases to override the catalog's
/// default channel when filtering drops it) is supported.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IncludePackage {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<IncludeChannel>,
    #[serde(alias = "minversion", default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    #[serde(alias = "maxversion", default, skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
    /// Like `minVersion` but by bundle name, for bundles without semantic versions.
    #[serde(alias = "minbundle", default, skip_serializing_if = "Option::is_none")]
    pub min_bundle: Option<String>,
    #[serde(alias = "defaultchannel", default, skip_serializing_if = "Option::is_none")]
    pub default_channel: Option<String>,
}

/// `packages[].channels[]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IncludeChannel {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(alias = "minversion", default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    #[serde(alias = "maxversion", default, skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
    #[serde(alias = "minbundle", default, skip_serializing_if = "Option::is_none")]
    pub min_bundle: Option<String>,
}

/// `additionalImages[]`, `blockedImages[]` (a regular expression there), `samples[]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Image {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
}

/// `mirror.helm`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Helm {
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub repositories: Vec<Repository>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub local: Vec<Chart>,
}

/// `helm.repositories[]`: a chart repository (its `index.yaml` lives under `url`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Repository {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub url: String,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub charts: Vec<Chart>,
}

/// A chart: in a repository (`name`, `version`) or local (`name`, `path` to a .tgz or directory).
///
/// Field decision: `imagePaths` (extra JSONPath expressions where the chart's rendered
/// manifests keep image references, added in later v1 releases) is supported on both kinds.
/// oc-mirror uses one Go struct for both kinds, so `path` on a repository chart and `version`
/// on a local chart are accepted too, but they mean nothing there (warning).
/// `valuesFiles` and `values` are Ferry extensions (a user ask, oc-mirror #1309): oc-mirror
/// rejects them, so a configuration using them is for Ferry only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Chart {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(
        alias = "imagepaths",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub image_paths: Vec<String>,
    /// Ferry extension (not in oc-mirror's v1alpha2): values files merged, in order, over the
    /// chart's defaults before its images are found (`helm -f`); relative paths are taken
    /// relative to the image-set file's folder, like `path` (`ferry_api::helm::resolve_paths`). oc-mirror v1 only ever used the chart's defaults.
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Vec::is_empty")]
    pub values_files: Vec<String>,
    /// Ferry extension: inline values merged last (they win over `valuesFiles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<serde_json::Value>,
}
