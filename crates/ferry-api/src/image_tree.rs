//! One image's manifests read from a source: the top manifest and, for a list or index, its
//! children. The manifest walk that mirror-to-disk planning (associations, blob lists), the
//! app's size estimate and the pruning dry run share, with the blobs and byte counts it yields.

use ferry_types::media::ManifestView;
use ferry_types::{Error, ImageSource, Manifest, Result};

/// An image's manifests as its source serves them.
#[derive(Debug, Clone)]
pub struct ImageTree {
    pub top: Manifest,
    /// Children of a list or index, in its order (empty for a single manifest).
    pub children: Vec<Manifest>,
}

impl ImageTree {
    /// Reads `repo@reference` and, when it is a list, every child. `what` names the image in
    /// errors (a source reference).
    pub async fn fetch(src: &dyn ImageSource, repo: &str, reference: &str, what: &str) -> Result<ImageTree> {
        let top = src.get_manifest(repo, reference).await?;
        let mut children = Vec::new();
        for c in child_digests(&top, what)? {
            children.push(src.get_manifest(repo, &c).await?);
        }
        Ok(ImageTree { top, children })
    }

    /// Config and layer blobs of every manifest, with their sizes (a blob two platforms share
    /// is listed twice; callers that total sizes dedupe by digest).
    pub fn blobs(&self) -> Vec<(String, u64)> {
        blobs(std::iter::once(&self.top).chain(&self.children))
    }

    /// Bytes of the manifests themselves.
    pub fn manifest_bytes(&self) -> u64 {
        std::iter::once(&self.top)
            .chain(&self.children)
            .map(|m| m.bytes.len() as u64)
            .sum()
    }
}

/// The child digests a list or index names (none for a single manifest).
pub fn child_digests(top: &Manifest, what: &str) -> Result<Vec<String>> {
    let view = ManifestView::parse(&top.bytes)
        .map_err(|e| Error::InvalidReference(format!("{what}: manifest {} is not valid JSON: {e}", top.digest)))?;
    Ok(view.manifests.iter().map(|c| c.digest.clone()).collect())
}

/// Config and layer blobs of these manifests, with their sizes.
pub fn blobs<'a>(manifests: impl Iterator<Item = &'a Manifest>) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for m in manifests {
        if let Ok(v) = ManifestView::parse(&m.bytes) {
            out.extend(v.blobs().map(|d| (d.digest.clone(), d.size)));
        }
    }
    out
}
