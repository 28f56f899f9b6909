//! Manifest media types Ferry understands, and a minimal view of manifests that lists the
//! descriptors the copy engine must move. Manifests themselves are always kept as raw bytes so
//! their digests are preserved; these structs are only read from them.

use serde::{Deserialize, Serialize};

pub const DOCKER_V2S2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_V2S1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";

/// The `Accept` header sent when fetching manifests: every type Ferry can copy.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

pub fn is_index(media_type: &str) -> bool {
    media_type == DOCKER_LIST || media_type == OCI_INDEX
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Platform {
    pub architecture: String,
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// Read-only view of an image manifest or an index (only the fields the copy needs).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestView {
    #[serde(default)]
    pub schema_version: u32,
    #[serde(default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// Children of a manifest list / OCI index.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

impl ManifestView {
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The media type from the document, falling back to the one the registry announced.
    pub fn effective_media_type<'a>(&'a self, announced: &'a str) -> &'a str {
        match self.media_type.as_deref() {
            Some(m) if !m.is_empty() => m,
            _ => announced,
        }
    }

    /// Config + layers of a single-image manifest (empty for an index).
    pub fn blobs(&self) -> impl Iterator<Item = &Descriptor> {
        self.config.iter().chain(self.layers.iter())
    }
}
