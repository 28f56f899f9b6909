//! Where the destination already holds blobs, from what earlier runs recorded.

use std::collections::HashMap;

/// Blob digest (`sha256:…`) → destination repositories recorded to hold it. Built by the
/// workflows from the metadata's past associations (config and layer digests per repository),
/// so a later sequence mounts shared layers inside the target instead of sending them again.
/// A stale entry costs one refused mount (`202`), after which the blob is copied as usual.
#[derive(Debug, Default, Clone)]
pub struct BlobLocations {
    by_digest: HashMap<String, Vec<String>>,
}

impl BlobLocations {
    /// From `(digest, repository)` pairs; duplicates are dropped, order of first sight is kept.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut by_digest: HashMap<String, Vec<String>> = HashMap::new();
        for (d, r) in pairs {
            let repos = by_digest.entry(d).or_default();
            if !repos.contains(&r) {
                repos.push(r);
            }
        }
        BlobLocations { by_digest }
    }

    /// Repositories recorded to hold `digest` (empty when none).
    pub fn repos(&self, digest: &str) -> &[String] {
        self.by_digest.get(digest).map(Vec::as_slice).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }
}
