//! An OCI image layout on disk (`oci://DIR`: `oci-layout`, `index.json`, `blobs/<alg>/<hex>`)
//! as an [`ImageSource`], so an `oci://` catalog goes through the same reader, filter and
//! rebuild as a registry catalog.
//!
//! The repository argument is ignored (a layout holds one image set). A manifest reference is a
//! digest (read from `blobs/`, checked against the bytes), or a tag matched against the
//! `org.opencontainers.image.ref.name` annotation of `index.json`; without a reference, or with
//! `latest` when nothing is annotated, the layout's single manifest is taken (a layout with
//! several unannotated manifests is an error that says to name one). Blobs stream from their
//! files; callers hash them as they flow.

use bytes::Bytes;
use ferry_types::media::{ManifestView, OCI_INDEX, OCI_MANIFEST};
use ferry_types::{BlobStream, Digest, Error, ImageSource, Manifest, Result};
use std::path::{Path, PathBuf};

/// The annotation naming a manifest of a layout's `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The registry name a planned `oci://` catalog carries in its references (no host is ever
/// contacted under it: the planner and the facade route it to the layout).
pub const OCI_REGISTRY: &str = "oci";

/// One OCI layout directory.
#[derive(Debug, Clone)]
pub struct OciLayout {
    pub root: PathBuf,
}

impl OciLayout {
    /// Open `oci://PATH` (or a plain path). The folder must hold `index.json`.
    pub fn open(spec: &str) -> Result<OciLayout> {
        let path = spec
            .strip_prefix("oci://")
            .or_else(|| spec.strip_prefix("oci:"))
            .unwrap_or(spec);
        let root = PathBuf::from(path);
        let index = root.join("index.json");
        if !index.is_file() {
            return Err(Error::NotFound {
                what: format!("OCI layout {}: {} is missing", spec, index.display()),
                hint: Some(
                    "an oci:// catalog must name a folder holding an OCI image layout (oci-layout, index.json, blobs/); \
                     write one with `skopeo copy docker://… oci:DIR`"
                        .into(),
                ),
            });
        }
        Ok(OciLayout { root })
    }

    fn blob_path(&self, d: &Digest) -> PathBuf {
        let s = d.to_string();
        let (alg, hex) = s.split_once(':').unwrap_or(("sha256", s.as_str()));
        self.root.join("blobs").join(alg).join(hex)
    }

    fn read(&self, p: &Path) -> Result<Vec<u8>> {
        std::fs::read(p).map_err(|e| Error::io(p.display(), e))
    }

    /// The digest of the manifest `reference` names in `index.json`.
    pub fn resolve(&self, reference: &str) -> Result<Digest> {
        if reference.starts_with("sha256:") {
            return Digest::parse(reference).map_err(|e| Error::InvalidReference(format!("{reference}: {e}")));
        }
        let path = self.root.join("index.json");
        let idx: serde_json::Value = serde_json::from_slice(&self.read(&path)?)
            .map_err(|e| Error::Internal(format!("{}: not an OCI index: {e}", path.display())))?;
        let all: Vec<&serde_json::Value> = idx["manifests"]
            .as_array()
            .map(|a| a.iter().collect())
            .unwrap_or_default();
        let name_of = |m: &serde_json::Value| m["annotations"][REF_NAME].as_str().map(str::to_string);
        let named: Vec<&serde_json::Value> = all
            .iter()
            .copied()
            .filter(|m| name_of(m).as_deref() == Some(reference))
            .collect();
        let pick = match (named.as_slice(), all.as_slice()) {
            ([one], _) => *one,
            ([], [only]) if reference.is_empty() || reference == "latest" || name_of(only).is_none() => *only,
            _ => {
                return Err(Error::NotFound {
                    what: format!("manifest {reference:?} in {}", path.display()),
                    hint: Some(format!(
                        "the layout lists {} manifests; name one by its {REF_NAME} annotation or digest",
                        all.len()
                    )),
                })
            }
        };
        let digest = pick["digest"].as_str().unwrap_or_default();
        Digest::parse(digest).map_err(|e| Error::Internal(format!("{}: manifest digest: {e}", path.display())))
    }
}

#[async_trait::async_trait]
impl ImageSource for OciLayout {
    fn describe(&self) -> String {
        format!("OCI layout {}", self.root.display())
    }

    async fn get_manifest(&self, _repo: &str, reference: &str) -> Result<Manifest> {
        let d = self.resolve(reference)?;
        let p = self.blob_path(&d);
        let bytes = self.read(&p)?;
        let got = Digest::of(&bytes);
        if got != d {
            return Err(Error::DigestMismatch {
                what: p.display().to_string(),
                expected: d.to_string(),
                actual: got.to_string(),
            });
        }
        let view = ManifestView::parse(&bytes).map_err(|e| Error::Internal(format!("{}: {e}", p.display())))?;
        let media_type = view.media_type.clone().unwrap_or_else(|| {
            if view.manifests.is_empty() {
                OCI_MANIFEST
            } else {
                OCI_INDEX
            }
            .to_string()
        });
        Ok(Manifest::new(Bytes::from(bytes), media_type))
    }

    async fn get_blob(&self, _repo: &str, digest: &Digest) -> Result<(Option<u64>, BlobStream)> {
        let p = self.blob_path(digest);
        let f = tokio::fs::File::open(&p).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound {
                what: format!("blob {digest} in {}", self.describe()),
                hint: Some("the layout is incomplete; write it again".into()),
            },
            _ => Error::io(p.display(), e),
        })?;
        let size = f.metadata().await.map_err(|e| Error::io(p.display(), e))?.len();
        let s: BlobStream = Box::pin(tokio_util::io::ReaderStream::with_capacity(f, 1 << 20));
        Ok((Some(size), s))
    }
}

/// Several `oci://` catalogs under the one pseudo registry [`OCI_REGISTRY`]: a request is routed
/// to the layout whose planned repository it names.
#[derive(Debug, Clone, Default)]
pub struct OciLayouts {
    pub by_repo: std::collections::BTreeMap<String, OciLayout>,
}

impl OciLayouts {
    fn get(&self, repo: &str) -> Result<&OciLayout> {
        self.by_repo.get(repo).ok_or_else(|| Error::NotFound {
            what: format!("oci:// catalog {repo:?}"),
            hint: Some("no OCI layout of this plan has that name".into()),
        })
    }
}

#[async_trait::async_trait]
impl ImageSource for OciLayouts {
    fn describe(&self) -> String {
        "OCI layouts".into()
    }
    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<Manifest> {
        self.get(repo)?.get_manifest(repo, reference).await
    }
    async fn get_blob(&self, repo: &str, digest: &Digest) -> Result<(Option<u64>, BlobStream)> {
        self.get(repo)?.get_blob(repo, digest).await
    }
}
