//! `ferry release mirror --from <pullspec> (docker://REG/NS | file://DIR)`: one release by pull
//! spec, without an update graph or an ImageSetConfiguration (the `oc adm release mirror` path
//! of the OpenShift docs).
//!
//! The release is read like a planned one (its `image-references` and `release-metadata` from
//! the layer stream; the version from the ImageStream, the architecture from the image config,
//! `multi` for a manifest list), its signature fetched and verified (refused unless
//! `--skip-verification`), and then the usual workflows run: registry to registry with the
//! results folder (`release-signatures/` ConfigMap, `mapping.txt`, the `release-0` ICSP/IDMS),
//! or to removable media whose set imports with `ferry mirror --from`.
//!
//! Differs from `oc adm release mirror`: the destinations are oc-mirror's
//! (`<ns>/openshift/release-images:<version>-<arch>` and `<ns>/openshift/release:<version>-<arch>-<component>`)
//! instead of one repository for everything, so a release mirrored this way and one mirrored
//! from a channel land in the same place and one ICSP/IDMS covers both.

use crate::disk::{mirror_selection_to_disk, DiskOptions, DiskReport};
use crate::mirror::{mirror_to_mirror, ImageSelection, MirrorOptions, MirrorReport};
use crate::release::ReleaseOptions;
use ferry_copy::{CancellationToken, ProgressSink};
use ferry_plan::SourceProvider;
use ferry_release::Release;
use ferry_types::media::{is_index, ManifestView};
use ferry_types::{Destination, Error, ImageRef, Result};
use futures::StreamExt;
use semver::Version;

/// Image config blobs are small; anything larger is not one.
const MAX_CONFIG_BYTES: usize = 4 << 20;

/// The image selection of one release by pull spec (no channels, no graph).
pub fn selection(pullspec: &str, ropts: ReleaseOptions) -> ImageSelection {
    ImageSelection {
        platform: Some(ferry_config::Platform::default()),
        release: ReleaseOptions {
            release_image: Some(pullspec.to_string()),
            ..ropts
        },
        ..Default::default()
    }
}

/// Resolve the pull spec to a release: pinned by digest, version from the release image,
/// architecture from its config (`multi` for a manifest list). Errors name the pull spec.
pub async fn resolve(pullspec: &str, sources: &dyn SourceProvider) -> Result<Release> {
    let r = ImageRef::parse(pullspec).map_err(|e| {
        Error::InvalidReference(format!(
            "--from {pullspec:?}: {} (give a release image such as quay.io/openshift-release-dev/ocp-release:4.11.0-x86_64)",
            e.reason
        ))
    })?;
    let reference = match (&r.digest, &r.tag) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.clone(),
        (None, None) => "latest".to_string(),
    };
    let src = sources.source(&r.registry);
    let label = format!("release image {pullspec}");
    let contents = ferry_release::read_release(src.as_ref(), &r.repository, &reference, &label).await?;
    let version = Version::parse(contents.version.trim()).map_err(|e| {
        Error::InvalidConfig(format!(
            "{label}: its image-references names the version {:?}, which is not a release version ({e})",
            contents.version
        ))
    })?;
    let view = ManifestView::parse(&contents.manifest.bytes)
        .map_err(|e| Error::InvalidConfig(format!("{label}: not an image manifest: {e}")))?;
    let arch = if is_index(view.effective_media_type(&contents.manifest.media_type)) {
        "multi".to_string()
    } else {
        config_arch(src.as_ref(), &r.repository, &view, &label).await?
    };
    Ok(Release {
        version,
        payload: format!("{}/{}@{}", r.registry, r.repository, contents.manifest.digest),
        channel: String::new(),
        arch,
        okd: false,
    })
}

/// `architecture` of the image config (`amd64`…), as oc reads it for the tag.
async fn config_arch(
    src: &dyn ferry_types::ImageSource,
    repo: &str,
    view: &ManifestView,
    label: &str,
) -> Result<String> {
    let cfg = view
        .config
        .as_ref()
        .ok_or_else(|| Error::InvalidConfig(format!("{label}: the manifest has no config")))?;
    let d = ferry_types::Digest::parse(&cfg.digest).map_err(|e| Error::InvalidConfig(format!("{label}: {e}")))?;
    let (_, mut body) = src.get_blob(repo, &d).await?;
    let mut buf = Vec::new();
    while let Some(c) = body.next().await {
        buf.extend_from_slice(&c.map_err(|e| Error::io(format!("{label} config {d}"), e))?);
        if buf.len() > MAX_CONFIG_BYTES {
            return Err(Error::InvalidConfig(format!(
                "{label}: config {d} is larger than {MAX_CONFIG_BYTES} bytes"
            )));
        }
    }
    if ferry_types::Digest::of(&buf) != d {
        return Err(Error::DigestMismatch {
            what: format!("{label} config"),
            expected: d.to_string(),
            actual: ferry_types::Digest::of(&buf).to_string(),
        });
    }
    let v: serde_json::Value =
        serde_json::from_slice(&buf).map_err(|e| Error::InvalidConfig(format!("{label}: config {d}: {e}")))?;
    v.get("architecture")
        .and_then(|a| a.as_str())
        .filter(|a| !a.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::InvalidConfig(format!("{label}: config {d} names no architecture")))
}

/// What `ferry release mirror` did.
#[derive(Debug, Clone)]
pub enum SingleReport {
    Registry(Box<MirrorReport>),
    Disk(Box<DiskReport>),
}

/// `ferry release mirror --from <pullspec> <destination>`: registry to registry (results
/// folder in `opts.workspace`) or to removable media (`file://DIR`, single use: no metadata
/// backend, the set imports with `ferry mirror --from`).
pub async fn release_mirror(
    pullspec: &str,
    destination: &Destination,
    ropts: ReleaseOptions,
    opts: &MirrorOptions,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<SingleReport> {
    let sel = selection(pullspec, ropts);
    match destination {
        Destination::Registry { .. } => {
            let r = mirror_to_mirror(&sel, destination, opts, progress, cancel).await?;
            Ok(SingleReport::Registry(Box::new(r)))
        }
        Destination::Disk(dir) => {
            let dopts = DiskOptions {
                registry: opts.registry.clone(),
                workspace: opts.workspace.clone(),
                dry_run: opts.dry_run,
                ..Default::default()
            };
            let cfg = ferry_config::ImageSetConfiguration::default();
            let r = mirror_selection_to_disk(&sel, &cfg, dir, &dopts, progress, cancel).await?;
            Ok(SingleReport::Disk(Box::new(r)))
        }
    }
}
