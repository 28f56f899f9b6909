//! The release planner: the releases chosen by `ferry-release`'s version selection, expanded
//! into images by reading each release image through the [`SourceProvider`] transports.
//!
//! Destinations as oc-mirror: the release image to `openshift/release-images:<version>-<arch>`
//! (kind `ocpRelease`), each component to `openshift/release:<version>-<arch>-<component>`
//! (kind `ocpReleaseContent`). `multi` payloads are manifest lists and are mirrored as such.

use crate::{PlannedImage, SourceProvider};
use ferry_release::{read_release, Release, ReleaseSelection};
use ferry_types::{Error, ImageKind, ImageRef, Result};
use futures::stream::{self, StreamExt};
use serde::Serialize;

pub const RELEASE_IMAGES_REPO: &str = "openshift/release-images";
pub const RELEASE_CONTENT_REPO: &str = "openshift/release";

/// Where a release's signature stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "state")]
pub enum SignatureStatus {
    /// Not checked yet (planning without the signature step, e.g. `list`).
    Pending,
    /// Verified against the keyring; `key` is the signing key's fingerprint.
    Verified { key: String, identity: String },
    /// `--skip-verification`: shipped without a verified signature.
    Skipped,
}

/// One release in the plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedRelease {
    pub version: String,
    /// Configuration architecture (`amd64`…); the tags use [`ferry_release::tag_arch`].
    pub arch: String,
    pub channel: String,
    /// The release image, pinned by digest.
    #[serde(serialize_with = "crate::ser_display")]
    pub source: ImageRef,
    /// `<version>-<arch>`.
    pub dest_tag: String,
    pub components: usize,
    /// The payload is a manifest list (`multi`).
    pub multi: bool,
    pub signature: SignatureStatus,
    /// Raw signatures for the ConfigMap (verified ones only).
    #[serde(skip)]
    pub signatures: Vec<Vec<u8>>,
}

/// Expand every selected release. Release images are read `parallel` at a time. An image
/// that is not a release payload, or a component not pinned by digest, fails the plan naming
/// the release.
pub async fn plan_releases(
    selection: &ReleaseSelection,
    sources: &dyn SourceProvider,
    parallel: usize,
) -> Result<(Vec<PlannedImage>, Vec<PlannedRelease>)> {
    let results: Vec<Result<(Vec<PlannedImage>, PlannedRelease)>> = stream::iter(selection.releases.iter())
        .map(|r| expand(r, sources))
        .buffered(parallel.max(1))
        .collect()
        .await;
    let mut images = Vec::new();
    let mut releases = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok((i, rel)) => {
                images.extend(i);
                releases.push(rel);
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "{} release(s) could not be read:\n  {}",
            errors.len(),
            errors.join("\n  ")
        )));
    }
    Ok((images, releases))
}

async fn expand(r: &Release, sources: &dyn SourceProvider) -> Result<(Vec<PlannedImage>, PlannedRelease)> {
    let label = format!(
        "release {} ({}, channel {}) {}",
        r.version, r.arch, r.channel, r.payload
    );
    let payload = ImageRef::parse(&r.payload).map_err(|e| Error::InvalidReference(format!("{label}: {}", e.reason)))?;
    let Some(digest) = payload.digest.clone() else {
        return Err(Error::InvalidReference(format!(
            "{label}: the update graph gives the payload without a digest"
        )));
    };
    let src = sources.source(&payload.registry);
    let contents = read_release(src.as_ref(), &payload.repository, &digest.to_string(), &label).await?;
    if !contents.version.is_empty() && contents.version != r.version.to_string() {
        tracing::warn!(graph = %r.version, image = %contents.version, payload = %r.payload,
            "the release image names another version than the update graph; the graph's is used for tags");
    }
    let tag = r.tag();
    let mut images = Vec::with_capacity(contents.components.len() + 1);
    images.push(PlannedImage {
        requested: payload.clone(),
        source: payload.clone(),
        dest_repo: RELEASE_IMAGES_REPO.to_string(),
        dest_tag: tag.clone(),
        kind: ImageKind::OcpRelease,
    });
    for c in &contents.components {
        let cref = ImageRef::parse(&c.image)
            .map_err(|e| Error::InvalidReference(format!("{label}: component {}: {}", c.name, e.reason)))?;
        images.push(PlannedImage {
            requested: cref.clone(),
            source: cref,
            dest_repo: RELEASE_CONTENT_REPO.to_string(),
            dest_tag: format!("{tag}-{}", c.name),
            kind: ImageKind::OcpReleaseContent,
        });
    }
    let multi = ferry_types::media::is_index(&contents.manifest.media_type);
    Ok((
        images,
        PlannedRelease {
            version: r.version.to_string(),
            arch: r.arch.clone(),
            channel: r.channel.clone(),
            source: payload,
            dest_tag: tag,
            components: contents.components.len(),
            multi,
            signature: SignatureStatus::Pending,
            signatures: Vec::new(),
        },
    ))
}

/// Where the graph-data image goes (oc-mirror's name), tagged `latest`.
pub const GRAPH_IMAGE_REPO: &str = "openshift/graph-image";
pub const GRAPH_IMAGE_TAG: &str = "latest";

/// `graph: true`: the graph-data image to build on a base image the set also mirrors. The base
/// image is in the plan's images (kind generic, like an additional image); the tarball is
/// downloaded when the set is written (mirror-to-mirror, mirror-to-disk), not while planning.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedGraph {
    /// The graph-data tarball URL.
    pub data_url: String,
    /// The base image, pinned by digest.
    #[serde(serialize_with = "crate::ser_display")]
    pub base: ImageRef,
    /// Where the base image lands (repository without the target namespace, tag).
    pub base_dest_repo: String,
    pub base_dest_tag: String,
    /// The graph image by digest (`registry/ns/openshift/graph-image@sha256:…`) once it was
    /// built and pushed (`None` in a plan).
    pub pushed: Option<String>,
    /// `registry/ns/openshift/release-images` of the target it was pushed to.
    pub releases_repo: Option<String>,
    /// The downloaded tarball (set by the workflow before anything is copied).
    #[serde(skip)]
    pub tarball: Option<(std::path::PathBuf, String)>,
}
