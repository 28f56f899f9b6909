//! The catalog preview's total size: what the images a filtered catalog pulls weigh, read from
//! their source registries before anything is copied.
//!
//! Every image's manifest is fetched (a manifest list / OCI index: every child, since the
//! mirror keeps multi-arch images whole); the size is the sum of the config and layer
//! descriptors' `size`, each blob digest counted once across all images (layers shared by
//! bundles of one operator are copied once, and so they are counted once). Manifest bodies
//! are not counted (a few KiB each). Nothing is estimated: an image whose manifests cannot be
//! read is left out of the sum and named, and the figure says "n of m sized".

use ferry_types::media::ManifestView;
use ferry_types::{ImageRef, ImageSource, Result};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Manifests fetched at once (a Red Hat operator pulls hundreds of images).
const PARALLEL: usize = 8;

/// The sizes of a list of images.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Sized {
    /// Distinct blobs of every image sized, summed.
    pub total_bytes: u64,
    /// Images whose manifests were all read.
    pub sized: usize,
    /// Images asked for.
    pub images: usize,
    /// `image: why` for every image not sized.
    pub failed: Vec<String>,
}

/// The blobs (digest → size) of one image, every platform of a list.
async fn blobs_of(src: Arc<dyn ImageSource>, r: &ImageRef) -> Result<BTreeMap<String, u64>> {
    let top = src.get_manifest(&r.repository, &r.reference()).await?;
    let view = ManifestView::parse(&top.bytes)
        .map_err(|e| ferry_types::Error::Internal(format!("manifest {}: {e}", top.digest)))?;
    let mut singles = Vec::new();
    if ferry_types::media::is_index(view.effective_media_type(&top.media_type)) {
        for child in &view.manifests {
            let m = src.get_manifest(&r.repository, &child.digest).await?;
            singles.push(
                ManifestView::parse(&m.bytes)
                    .map_err(|e| ferry_types::Error::Internal(format!("manifest {}: {e}", child.digest)))?,
            );
        }
    } else {
        singles.push(view);
    }
    let mut out = BTreeMap::new();
    for s in singles {
        for d in s.config.iter().chain(s.layers.iter()) {
            out.insert(d.digest.clone(), d.size);
        }
    }
    Ok(out)
}

/// Size `images` (pull specs as the catalog writes them), each read through `source(host)`.
pub async fn size_images(images: &[String], source: &(dyn Fn(&str) -> Arc<dyn ImageSource> + Sync)) -> Sized {
    // Owned strings: a stream of `&String` makes the future borrow from the closure's argument,
    // which a Tauri command's `Send` future cannot prove for every lifetime.
    let unique: BTreeSet<String> = images.iter().cloned().collect();
    let results: Vec<(String, Result<BTreeMap<String, u64>>)> = stream::iter(unique)
        .map(|image| async move {
            let res = match ImageRef::parse(&image) {
                Ok(r) => blobs_of(source(&r.registry), &r).await,
                Err(e) => Err(ferry_types::Error::InvalidReference(format!(
                    "{}: {}",
                    e.input, e.reason
                ))),
            };
            (image, res)
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let mut out = Sized {
        images: results.len(),
        ..Default::default()
    };
    let mut blobs: BTreeMap<String, u64> = BTreeMap::new();
    for (image, res) in results {
        match res {
            Ok(b) => {
                out.sized += 1;
                blobs.extend(b);
            }
            Err(e) => out.failed.push(format!("{image}: {e}")),
        }
    }
    out.failed.sort();
    out.total_bytes = blobs.values().sum();
    out
}

/// What the preview says next to the figure.
pub fn note(s: &Sized) -> String {
    let blobs = "config and layer blobs from the source registries, every platform, shared blobs counted once";
    if s.failed.is_empty() {
        format!("{} of {} images sized: {blobs}", s.sized, s.images)
    } else {
        format!(
            "{} of {} images sized ({blobs}); not sized: {}",
            s.sized,
            s.images,
            s.failed.join("; ")
        )
    }
}
