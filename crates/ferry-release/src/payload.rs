//! Reading a release image: `release-manifests/image-references` (an `ImageStream` listing the
//! component images) and `release-manifests/release-metadata` (`cincinnati-metadata-v0`),
//! taken from the image's layers as they stream through [`ImageSource::get_blob`], without
//! extracting anything. Layers are read top first (the release manifests live in the top
//! layer, and an upper layer's file wins anyway); reading stops as soon as both files are in
//! hand. A `multi` payload is a manifest list; its files are read from the linux/amd64 child
//! (every child carries the same ones) and the list itself is what gets mirrored.

use ferry_types::media::{is_index, ManifestView};
use ferry_types::{Digest, Error, ImageSource, Manifest, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};

pub const IMAGE_REFERENCES: &str = "release-manifests/image-references";
pub const RELEASE_METADATA: &str = "release-manifests/release-metadata";
/// Largest release file kept in memory (the real image-references is ~120 KB).
const MAX_FILE: u64 = 16 << 20;

/// One component image of a release (`spec.tags[]` of the ImageStream).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// The tag name, e.g. `etcd`; it becomes the destination tag suffix.
    pub name: String,
    /// The image by digest, e.g. `quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:…`.
    pub image: String,
}

/// `release-metadata`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseMetadata {
    pub kind: String,
    pub version: String,
    #[serde(default)]
    pub previous: Vec<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, serde_json::Value>,
}

/// What a release image says about itself.
#[derive(Debug, Clone)]
pub struct ReleaseContents {
    /// `metadata.name` of the ImageStream: the release version.
    pub version: String,
    pub components: Vec<Component>,
    pub metadata: Option<ReleaseMetadata>,
    /// The manifest at the requested reference (a list for `multi` payloads).
    pub manifest: Manifest,
    /// Compressed layer bytes read to find the files.
    pub bytes_read: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImageStream {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    metadata: IsMeta,
    #[serde(default)]
    spec: IsSpec,
}

#[derive(Deserialize, Default)]
struct IsMeta {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Default)]
struct IsSpec {
    #[serde(default)]
    tags: Vec<IsTag>,
}

#[derive(Deserialize)]
struct IsTag {
    name: String,
    from: Option<IsFrom>,
}

#[derive(Deserialize)]
struct IsFrom {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

/// Parse `image-references`. `what` names the release image in errors.
pub fn parse_image_references(bytes: &[u8], what: &str) -> Result<(String, Vec<Component>)> {
    let bad = |m: String| Error::InvalidConfig(format!("{what}: {IMAGE_REFERENCES}: {m}"));
    let is: ImageStream = serde_json::from_slice(bytes).map_err(|e| bad(format!("not JSON: {e}")))?;
    if is.kind != "ImageStream" || is.api_version != "image.openshift.io/v1" {
        return Err(bad(format!(
            "expected kind ImageStream, apiVersion image.openshift.io/v1, got kind {:?} apiVersion {:?}",
            is.kind, is.api_version
        )));
    }
    let mut out = Vec::with_capacity(is.spec.tags.len());
    for (i, t) in is.spec.tags.into_iter().enumerate() {
        let Some(from) = t.from else {
            return Err(bad(format!("spec.tags[{i}] ({}) has no from", t.name)));
        };
        if from.kind != "DockerImage" {
            return Err(bad(format!(
                "spec.tags[{i}] ({}): from.kind is {:?}, expected DockerImage",
                t.name, from.kind
            )));
        }
        if !from.name.contains("@sha256:") {
            return Err(bad(format!(
                "spec.tags[{i}] ({}): {} is not pinned by digest; release components must be",
                t.name, from.name
            )));
        }
        out.push(Component {
            name: t.name,
            image: from.name,
        });
    }
    Ok((is.metadata.name, out))
}

/// Parse `release-metadata`.
pub fn parse_release_metadata(bytes: &[u8], what: &str) -> Result<ReleaseMetadata> {
    serde_json::from_slice(bytes)
        .map_err(|e| Error::InvalidConfig(format!("{what}: {RELEASE_METADATA}: not release metadata JSON: {e}")))
}

fn normalise(path: &std::path::Path) -> String {
    let s = path.to_string_lossy();
    s.trim_start_matches("./").trim_start_matches('/').to_string()
}

/// Scan one layer (gzip or plain tar) for the two files; stops reading once both are known.
fn scan_layer(reader: impl Read, found: &mut BTreeMap<&'static str, Vec<u8>>, what: &str) -> std::io::Result<()> {
    let mut r = BufReader::with_capacity(64 * 1024, reader);
    let gz = {
        let head = r.fill_buf()?;
        head.len() >= 2 && head[0] == 0x1f && head[1] == 0x8b
    };
    let inner: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(r))
    } else {
        Box::new(r)
    };
    let mut ar = tar::Archive::new(inner);
    for entry in ar.entries()? {
        let mut e = entry?;
        let name = normalise(&e.path()?);
        let key = match name.as_str() {
            IMAGE_REFERENCES => IMAGE_REFERENCES,
            RELEASE_METADATA => RELEASE_METADATA,
            _ => continue,
        };
        if found.contains_key(key) {
            continue;
        }
        if e.size() > MAX_FILE {
            return Err(std::io::Error::other(format!(
                "{what}: {name} is {} bytes, more than a release file can be",
                e.size()
            )));
        }
        let mut buf = Vec::with_capacity(e.size() as usize);
        e.read_to_end(&mut buf)?;
        found.insert(key, buf);
        if found.len() == 2 {
            break;
        }
    }
    Ok(())
}

/// Pick the child of a multi payload whose files are read (linux/amd64, else the first).
fn pick_child(view: &ManifestView) -> Option<&ferry_types::media::Descriptor> {
    view.manifests
        .iter()
        .find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
        })
        .or_else(|| view.manifests.first())
}

/// Read the release image `repo@reference` from `src`. `what` names it in errors.
pub async fn read_release(src: &dyn ImageSource, repo: &str, reference: &str, what: &str) -> Result<ReleaseContents> {
    let top = src.get_manifest(repo, reference).await?;
    let bad_manifest =
        |e: serde_json::Error| Error::InvalidConfig(format!("{what}: manifest is not an image manifest: {e}"));
    let mut view = ManifestView::parse(&top.bytes).map_err(bad_manifest)?;
    if is_index(view.effective_media_type(&top.media_type)) {
        let child = pick_child(&view)
            .ok_or_else(|| Error::InvalidConfig(format!("{what}: the manifest list is empty")))?
            .digest
            .clone();
        let m = src.get_manifest(repo, &child).await?;
        view = ManifestView::parse(&m.bytes).map_err(bad_manifest)?;
    }
    let mut found: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
    let mut bytes_read = 0u64;
    for layer in view.layers.iter().rev() {
        let digest =
            Digest::parse(&layer.digest).map_err(|e| Error::InvalidConfig(format!("{what}: layer digest: {e}")))?;
        let (_, stream) = src.get_blob(repo, &digest).await?;
        let counted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let c2 = counted.clone();
        let stream = futures::StreamExt::inspect(stream, move |r| {
            if let Ok(b) = r {
                c2.fetch_add(b.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
        });
        let reader = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
        let label = format!("{what} layer {digest}");
        let mut f = std::mem::take(&mut found);
        let res = tokio::task::spawn_blocking(move || {
            let r = scan_layer(reader, &mut f, &label);
            (r, f)
        })
        .await
        .map_err(|e| Error::Internal(format!("layer reader: {e}")))?;
        found = res.1;
        bytes_read += counted.load(std::sync::atomic::Ordering::Relaxed);
        res.0.map_err(|e| Error::io(format!("{what} layer {digest}"), e))?;
        if found.len() == 2 {
            break;
        }
    }
    let refs = found.get(IMAGE_REFERENCES).ok_or_else(|| Error::NotFound {
        what: format!("{IMAGE_REFERENCES} in {what}"),
        hint: Some("this image is not an OpenShift release payload".into()),
    })?;
    let (version, components) = parse_image_references(refs, what)?;
    let metadata = found
        .get(RELEASE_METADATA)
        .map(|b| parse_release_metadata(b, what))
        .transpose()?;
    Ok(ReleaseContents {
        version,
        components,
        metadata,
        manifest: top,
        bytes_read,
    })
}
