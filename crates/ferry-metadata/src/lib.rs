//! Ferry: oc-mirror v1alpha2 metadata (pastMirror, associations) and its local and registry backends.
//!
//! The JSON shape and field order follow what oc-mirror 4.11 emits (reference §2), so a metadata
//! file or image written by Ferry is read by oc-mirror and the other way round:
//!
//! - [`Metadata`] is `publish/.metadata.json`: `uid`, `singleUse`, `pastMirror` (the latest run:
//!   sequence, timestamp, the resolved `mirror` section, associations of that run) and
//!   `pastAssociations` (everything that should now be in the target).
//! - [`LocalBackend`] keeps it at `<dir>/publish/.metadata.json` (`storageConfig.local.path`).
//! - [`ImageBackend`] keeps it as oc-mirror's single-layer metadata image (a gzip tar layer whose
//!   only file is `publish/.metadata.json`), used for `storageConfig.registry.imageURL` and for
//!   the target-side copy `<host>/<ns>/oc-mirror:<uid>` that disk-to-mirror checks sequences
//!   against. It talks only through the transport traits, so any registry client works.
//!
//! The `mirror` section is kept as raw JSON: the metadata must round-trip whatever the config
//! crate (or oc-mirror) put there without this crate depending on the config schema.
//! Reading is lenient (unknown fields are ignored, missing ones default) because oc-mirror's own
//! fixtures carry minimal documents; writing emits exactly oc-mirror's fields.

use bytes::Bytes;
use ferry_types::media::{ManifestView, DOCKER_V2S2};
use ferry_types::{Digest, Error, ImageDestination, ImageKind, ImageSource, Manifest, Result, Sha256Hasher};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const API_VERSION: &str = "mirror.openshift.io/v1alpha2";
pub const KIND: &str = "Metadata";
/// Path of the metadata file inside archives, the local backend and the metadata image.
pub const METADATA_PATH: &str = "publish/.metadata.json";
/// Repository (under the user namespace) of the target-side metadata image; the tag is the uid.
pub const TARGET_METADATA_REPO: &str = "oc-mirror";

/// `publish/.metadata.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default = "default_kind")]
    pub kind: String,
    #[serde(default = "default_api_version")]
    pub api_version: String,
    #[serde(default)]
    pub uid: String,
    #[serde(default)]
    pub single_use: bool,
    #[serde(default)]
    pub past_mirror: PastMirror,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub past_associations: Vec<Association>,
}

fn default_kind() -> String {
    KIND.to_string()
}
fn default_api_version() -> String {
    API_VERSION.to_string()
}

/// The latest run only (oc-mirror keeps no history of older runs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PastMirror {
    #[serde(default)]
    pub timestamp: i64,
    #[serde(default)]
    pub sequence: u32,
    /// The ImageSetConfiguration `mirror` section of this run, release ranges resolved.
    #[serde(default)]
    pub mirror: serde_json::Value,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub associations: Vec<Association>,
}

/// One manifest of one image: a top-level image (name = the source reference) or a child of a
/// manifest list (name = the child digest), with the digests it needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Association {
    pub name: String,
    /// Repository path in the archive (mirror-to-disk) or the full destination (mirror-to-mirror).
    #[serde(default)]
    pub path: String,
    /// `sha256:` digest of this manifest.
    #[serde(default)]
    pub id: String,
    /// Tag file name under `manifests/` ("" for digest-only images and children).
    #[serde(default)]
    pub tag_symlink: String,
    #[serde(rename = "type", default = "generic")]
    pub kind: ImageKind,
    /// Children of a manifest list / OCI index.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifest_digests: Vec<String>,
    /// Config and layers of a single manifest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layer_digests: Vec<String>,
}

fn generic() -> ImageKind {
    ImageKind::Generic
}

impl Association {
    /// Whether this is a child manifest of a list (oc-mirror names those by their bare digest).
    pub fn is_child(&self) -> bool {
        self.name.starts_with("sha256:")
    }
}

impl Metadata {
    /// Fresh metadata for a new workspace: new uid, no runs yet (sequence 0).
    pub fn new(single_use: bool) -> Self {
        Metadata {
            kind: default_kind(),
            api_version: default_api_version(),
            uid: uuid::Uuid::new_v4().to_string(),
            single_use,
            past_mirror: PastMirror::default(),
            past_associations: Vec::new(),
        }
    }

    pub fn parse(bytes: &[u8], what: &str) -> Result<Self> {
        let md: Metadata = serde_json::from_slice(bytes)
            .map_err(|e| Error::Archive(format!("{what}: not valid oc-mirror metadata JSON: {e}")))?;
        if md.kind != KIND || md.api_version != API_VERSION {
            return Err(Error::Archive(format!(
                "{what}: unsupported metadata kind/apiVersion {}/{} (expected {KIND}/{API_VERSION}); \
                 v1alpha1 workspaces must be recreated with a v1alpha2 ImageSetConfiguration",
                md.kind, md.api_version
            )));
        }
        Ok(md)
    }

    /// Pretty JSON in Go's field order.
    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("metadata serialises");
        v.push(b'\n');
        v
    }

    pub fn sequence(&self) -> u32 {
        self.past_mirror.sequence
    }

    /// Every blob and manifest digest the target already got from earlier sequences (the set
    /// incremental runs do not pack again).
    pub fn past_digests(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for a in &self.past_associations {
            out.insert(a.id.clone());
            out.extend(a.layer_digests.iter().cloned());
            out.extend(a.manifest_digests.iter().cloned());
        }
        out
    }

    /// Repositories (association paths) that hold `digest` per `pastAssociations`; disk-to-mirror
    /// fetches blobs of earlier sequences from there.
    pub fn repos_with_digest(&self, digest: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .past_associations
            .iter()
            .filter(|a| a.id == digest || a.layer_digests.iter().any(|d| d == digest))
            .map(|a| a.path.clone())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The metadata of the next run: same uid, sequence + 1, this run's associations, and
    /// `pastAssociations` = the associations of this run (the config is declarative: images no
    /// longer wanted drop out and become prune candidates, as in oc-mirror).
    pub fn next_run(&self, timestamp: i64, mirror: serde_json::Value, associations: Vec<Association>) -> Metadata {
        let mut past = associations.clone();
        past.sort();
        past.dedup();
        Metadata {
            kind: default_kind(),
            api_version: default_api_version(),
            uid: self.uid.clone(),
            single_use: self.single_use,
            past_mirror: PastMirror {
                timestamp,
                sequence: self.past_mirror.sequence + 1,
                mirror,
                operators: Vec::new(),
                platforms: Vec::new(),
                associations,
            },
            past_associations: past,
        }
    }
}

/// Build the associations of one image from its manifests: the top manifest and, for a list,
/// one association per child. `manifests` = (manifest, is_top).
pub fn associations_for(
    name: &str,
    path: &str,
    tag: Option<&str>,
    kind: ImageKind,
    top: &Manifest,
    children: &[Manifest],
) -> Result<Vec<Association>> {
    let view = |m: &Manifest| {
        ManifestView::parse(&m.bytes)
            .map_err(|e| Error::Archive(format!("{name}: manifest {} is not valid JSON: {e}", m.digest)))
    };
    let layer_digests = |v: &ManifestView| v.blobs().map(|d| d.digest.clone()).collect::<Vec<_>>();
    let top_view = view(top)?;
    let mut out = vec![Association {
        name: name.to_string(),
        path: path.to_string(),
        id: top.digest.to_string(),
        tag_symlink: tag.unwrap_or_default().to_string(),
        kind,
        manifest_digests: top_view.manifests.iter().map(|d| d.digest.clone()).collect(),
        layer_digests: layer_digests(&top_view),
    }];
    for c in children {
        let v = view(c)?;
        out.push(Association {
            name: c.digest.to_string(),
            path: path.to_string(),
            id: c.digest.to_string(),
            tag_symlink: String::new(),
            kind,
            manifest_digests: Vec::new(),
            layer_digests: layer_digests(&v),
        });
    }
    Ok(out)
}

/// `storageConfig.local.path`: `<dir>/publish/.metadata.json`.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    pub dir: PathBuf,
}

impl LocalBackend {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalBackend { dir: dir.into() }
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join(METADATA_PATH)
    }

    /// `None` when no run has happened yet.
    pub fn read(&self) -> Result<Option<Metadata>> {
        let f = self.file();
        match std::fs::read(&f) {
            Ok(b) => Metadata::parse(&b, &f.display().to_string()).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(f.display(), e)),
        }
    }

    /// Written to a temporary file and renamed, so a crash never leaves half a metadata file.
    /// The temp file has an unpredictable name and is opened `O_EXCL|O_NOFOLLOW` with mode
    /// 0600 (the folder may be shared: a planted symlink cannot redirect the write).
    pub fn write(&self, md: &Metadata) -> Result<()> {
        let f = self.file();
        ferry_types::private_file::write_atomic(&f, &md.to_json()).map_err(|e| Error::io(f.display(), e))
    }
}

/// oc-mirror's metadata image in a registry (`storageConfig.registry.imageURL`, or the
/// target-side `<ns>/oc-mirror:<uid>`), reached through the transport traits.
#[derive(Clone)]
pub struct ImageBackend {
    pub source: Arc<dyn ImageSource>,
    pub dest: Arc<dyn ImageDestination>,
    pub repo: String,
    pub tag: String,
}

impl ImageBackend {
    /// `None` when the image does not exist (no earlier run against this storage/target).
    pub async fn read(&self) -> Result<Option<Metadata>> {
        let what = format!("{} {}:{}", self.source.describe(), self.repo, self.tag);
        let manifest = match self.source.get_manifest(&self.repo, &self.tag).await {
            Ok(m) => m,
            Err(Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let view = ManifestView::parse(&manifest.bytes)
            .map_err(|e| Error::Archive(format!("metadata image {what}: bad manifest: {e}")))?;
        let layer = view
            .layers
            .first()
            .ok_or_else(|| Error::Archive(format!("metadata image {what}: no layer")))?;
        let digest = Digest::parse(&layer.digest)
            .map_err(|e| Error::Archive(format!("metadata image {what}: bad layer digest: {e}")))?;
        let (_, mut body) = self.source.get_blob(&self.repo, &digest).await?;
        // The layer is a few KiB (one JSON file): reading it whole is fine and lets us verify it.
        let mut buf = Vec::new();
        let mut h = Sha256Hasher::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::io(&what, e))?;
            h.update(&chunk);
            buf.extend_from_slice(&chunk);
            if buf.len() > 64 << 20 {
                return Err(Error::Archive(format!(
                    "metadata image {what}: layer larger than 64 MiB"
                )));
            }
        }
        let actual = h.finish();
        if actual != digest {
            return Err(Error::DigestMismatch {
                what: format!("metadata image {what} layer"),
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        let json = extract_metadata_from_layer(&buf)
            .map_err(|e| Error::Archive(format!("metadata image {what}: {e}")))?
            .ok_or_else(|| Error::Archive(format!("metadata image {what}: no {METADATA_PATH} in its layer")))?;
        Metadata::parse(&json, &what).map(Some)
    }

    pub async fn write(&self, md: &Metadata) -> Result<Digest> {
        let image = build_metadata_image(md)?;
        for blob in [&image.layer, &image.config] {
            let d = Digest::of(blob);
            if !self.dest.has_blob(&self.repo, &d).await? {
                let body = futures::stream::once(futures::future::ready(Ok::<_, std::io::Error>(blob.clone())));
                self.dest
                    .put_blob(&self.repo, &d, Some(blob.len() as u64), Box::pin(body))
                    .await?;
            }
        }
        self.dest.put_manifest(&self.repo, &self.tag, &image.manifest).await?;
        Ok(image.manifest.digest.clone())
    }
}

/// The three parts of a metadata image.
pub struct MetadataImage {
    pub layer: Bytes,
    pub config: Bytes,
    pub manifest: Manifest,
}

/// Build the image the way crane does for oc-mirror: one gzip tar layer holding
/// `publish/.metadata.json`, a minimal config with the layer's diff id, docker v2s2 manifest.
/// Timestamps are zero so the same metadata always gives the same digest.
pub fn build_metadata_image(md: &Metadata) -> Result<MetadataImage> {
    let json = md.to_json();
    let mut tar_bytes = Vec::new();
    {
        let mut b = tar::Builder::new(&mut tar_bytes);
        let mut h = tar::Header::new_gnu();
        h.set_size(json.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        b.append_data(&mut h, METADATA_PATH, &json[..])
            .and_then(|_| b.finish())
            .map_err(|e| Error::Internal(format!("building metadata layer: {e}")))?;
    }
    let diff_id = Digest::of(&tar_bytes);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar_bytes)
        .map_err(|e| Error::Internal(format!("compressing metadata layer: {e}")))?;
    let layer = Bytes::from(gz.finish().map_err(|e| Error::Internal(format!("compressing: {e}")))?);
    let config = serde_json::json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [diff_id.to_string()]},
        "config": {}
    });
    let config = Bytes::from(serde_json::to_vec(&config).expect("json"));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_V2S2,
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": config.len(),
            "digest": Digest::of(&config).to_string()
        },
        "layers": [{
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": layer.len(),
            "digest": Digest::of(&layer).to_string()
        }]
    });
    let manifest = Manifest::new(Bytes::from(serde_json::to_vec(&manifest).expect("json")), DOCKER_V2S2);
    Ok(MetadataImage {
        layer,
        config,
        manifest,
    })
}

/// Find `publish/.metadata.json` in a (gzip or plain) tar layer.
pub fn extract_metadata_from_layer(layer: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
    let reader: Box<dyn Read> = if layer.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(layer))
    } else {
        Box::new(layer)
    };
    let mut ar = tar::Archive::new(reader);
    for entry in ar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().to_string();
        if normalize(&path) == METADATA_PATH {
            let mut out = Vec::new();
            entry.read_to_end(&mut out)?;
            return Ok(Some(out));
        }
    }
    Ok(None)
}

/// `./publish/x` and `/publish/x` → `publish/x` (oc-mirror's tars use the `./` form).
pub fn normalize(path: &str) -> &str {
    let mut p = path;
    loop {
        if let Some(r) = p.strip_prefix("./") {
            p = r;
        } else if let Some(r) = p.strip_prefix('/') {
            p = r;
        } else {
            return p;
        }
    }
}

/// Read a metadata file from a path on disk (used by `describe` on a plain file).
pub fn read_file(path: &Path) -> Result<Metadata> {
    let b = std::fs::read(path).map_err(|e| Error::io(path.display(), e))?;
    Metadata::parse(&b, &path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> Option<PathBuf> {
        ferry_testkit::fixtures()
    }

    #[test]
    fn reads_oc_mirror_metadata_and_writes_go_field_order() {
        let Some(fx) = fixtures() else { return };
        let md = read_file(&fx.join("oc-mirror/oc-mirror/v1/pkg/config/testdata/metadata/valid.json")).unwrap();
        assert_eq!(md.uid, "360a43c2-8a14-4b5d-906b-07491459f25f");
        assert_eq!(md.sequence(), 1);
        assert_eq!(md.past_associations.len(), 1);
        let a = &md.past_associations[0];
        assert_eq!(a.tag_symlink, "latest");
        assert_eq!(a.kind, ImageKind::Generic);
        assert_eq!(a.manifest_digests.len(), 4);
        assert_eq!(md.past_mirror.mirror["platform"]["channels"][0]["name"], "stable-4.7");
        let json = String::from_utf8(md.to_json()).unwrap();
        let pos = |k: &str| json.find(k).unwrap_or_else(|| panic!("{k} missing in {json}"));
        assert!(pos("\"kind\"") < pos("\"apiVersion\""));
        assert!(pos("\"apiVersion\"") < pos("\"uid\""));
        assert!(pos("\"uid\"") < pos("\"singleUse\""));
        assert!(pos("\"singleUse\"") < pos("\"pastMirror\""));
        assert!(pos("\"pastMirror\"") < pos("\"pastAssociations\""));
        assert!(pos("\"timestamp\"") < pos("\"sequence\""));
        assert!(
            !json.contains("layerDigests"),
            "empty lists are omitted like Go's omitempty"
        );
        assert_eq!(Metadata::parse(json.as_bytes(), "rt").unwrap(), md);
    }

    #[test]
    fn minimal_metadata_defaults() {
        let md = Metadata::parse(
            br#"{"apiVersion":"mirror.openshift.io/v1alpha2","kind":"Metadata","uid":"u"}"#,
            "min",
        )
        .unwrap();
        assert_eq!(md.sequence(), 0);
        assert!(md.past_associations.is_empty());
        let err = Metadata::parse(
            br#"{"apiVersion":"mirror.openshift.io/v1alpha1","kind":"Metadata"}"#,
            "old.json",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("old.json") && err.contains("v1alpha1"), "{err}");
    }

    #[test]
    fn local_backend_roundtrip_and_next_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let be = LocalBackend::new(dir.path());
        assert!(be.read().unwrap().is_none());
        let md = Metadata::new(false);
        let a = Association {
            name: "quay.io/a/b:1".into(),
            path: "a/b".into(),
            id: Digest::of(b"m").to_string(),
            tag_symlink: "1".into(),
            kind: ImageKind::Generic,
            manifest_digests: vec![],
            layer_digests: vec![Digest::of(b"l").to_string()],
        };
        let next = md.next_run(
            42,
            serde_json::json!({"additionalImages":[{"name":"quay.io/a/b:1"}]}),
            vec![a],
        );
        assert_eq!(next.sequence(), 1);
        assert_eq!(next.uid, md.uid);
        be.write(&next).unwrap();
        let back = be.read().unwrap().unwrap();
        assert_eq!(back, next);
        assert!(back.past_digests().contains(&Digest::of(b"l").to_string()));
        assert_eq!(
            back.repos_with_digest(&Digest::of(b"l").to_string()),
            vec!["a/b".to_string()]
        );
        assert_eq!(back.next_run(43, serde_json::Value::Null, vec![]).sequence(), 2);
    }

    #[test]
    fn metadata_image_is_deterministic_and_readable() {
        let md = Metadata::new(false);
        let a = build_metadata_image(&md).unwrap();
        let b = build_metadata_image(&md).unwrap();
        assert_eq!(a.manifest.digest, b.manifest.digest);
        let json = extract_metadata_from_layer(&a.layer).unwrap().unwrap();
        assert_eq!(Metadata::parse(&json, "layer").unwrap(), md);
        let view = ManifestView::parse(&a.manifest.bytes).unwrap();
        assert_eq!(view.layers[0].digest, Digest::of(&a.layer).to_string());
        assert_eq!(view.config.unwrap().size, a.config.len() as u64);
    }
}
