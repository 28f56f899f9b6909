//! Pass 1 of mirror-to-disk: fetch every planned image's manifests, build the associations,
//! and decide what the set holds (images and blobs not shipped before), its size and part count.

use super::{DiskOptions, FailedImage};
use crate::image_tree::ImageTree;
use ferry_metadata::{Association, Metadata};
use ferry_plan::{synthetic_tag, PlannedImage, SourceProvider};
use ferry_types::{Error, ImageSource, Manifest, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One image's manifests as fetched during planning.
pub(super) struct Fetched {
    pub plan: PlannedImage,
    pub top: Manifest,
    pub children: Vec<Manifest>,
}

/// oc-mirror's tag for a digest-only image on the mirror-to-disk path: `oc-mirror` + the first
/// six hex characters of the digest (its association builder makes this the tag symlink, and
/// the import pushes under it). The planner gives such images the mirror-to-mirror form (the six
/// hex characters alone); a tag a planner chose on purpose (releases, operators) is kept.
pub(super) fn disk_tag(mut p: PlannedImage) -> PlannedImage {
    if p.requested.tag.is_none() && p.dest_tag == synthetic_tag(p.digest()) {
        p.dest_tag = format!("oc-mirror{}", &p.digest().hex()[..6]);
    }
    p
}

async fn fetch_tree(src: Arc<dyn ImageSource>, p: PlannedImage) -> std::result::Result<Fetched, (PlannedImage, Error)> {
    let digest = p.digest().to_string();
    match ImageTree::fetch(src.as_ref(), &p.source.repository, &digest, &p.source.exact()).await {
        Ok(t) => Ok(Fetched {
            plan: p,
            top: t.top,
            children: t.children,
        }),
        Err(e) => Err((p, e)),
    }
}

/// Images that could not be fetched, split the way oc-mirror's flags treat them.
#[derive(Default)]
pub(super) struct Left {
    pub failed: Vec<FailedImage>,
    pub skipped: Vec<FailedImage>,
}

/// Fetch every image's manifests (`parallel` at once). A failure fails the run unless
/// `--continue-on-error` (any error) or `--skip-missing` (a 404) lets it be left out.
pub(super) async fn fetch_all(
    plan: &[PlannedImage],
    sources: &dyn SourceProvider,
    opts: &DiskOptions,
    left: &mut Left,
) -> Result<Vec<Fetched>> {
    let limit = Arc::new(tokio::sync::Semaphore::new(opts.parallel_blobs.max(1)));
    let mut tasks = Vec::new();
    for p in plan.iter().cloned() {
        let src = sources.source(&p.source.registry);
        let limit = limit.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await;
            fetch_tree(src, p).await
        }));
    }
    let mut fetched = Vec::new();
    for t in tasks {
        match t
            .await
            .map_err(|e| Error::Internal(format!("manifest fetch task: {e}")))?
        {
            Ok(f) => fetched.push(f),
            Err((p, e)) => {
                let entry = FailedImage {
                    image: p.requested.to_string(),
                    error: e.to_string(),
                };
                if opts.skip_missing && matches!(e, Error::NotFound { .. }) {
                    tracing::warn!(image = %p.requested, "skipping image the source does not have (--skip-missing)");
                    left.skipped.push(entry);
                } else if opts.continue_on_error {
                    tracing::warn!(image = %p.requested, error = %e, "leaving out image (--continue-on-error)");
                    left.failed.push(entry);
                } else {
                    return Err(e);
                }
            }
        }
    }
    Ok(fetched)
}

/// Blob digests and sizes an image needs.
pub(super) fn blobs_of(f: &Fetched) -> Vec<(String, u64)> {
    crate::image_tree::blobs(std::iter::once(&f.top).chain(&f.children))
}

/// What the set will hold, decided before a byte is written.
pub(super) struct SetPlan {
    pub associations: Vec<Association>,
    /// Indexes into the fetched list of the images whose manifests the set carries.
    pub to_pack: Vec<usize>,
    pub new_blobs: BTreeMap<String, u64>,
    pub from_history: BTreeSet<String>,
    /// Digests shipped by earlier sequences (empty under `--ignore-history`).
    pub past: BTreeSet<String>,
    pub oversized: Vec<(String, u64)>,
    pub planned_bytes: u64,
    pub planned_parts: u64,
}

pub(super) fn plan_set(fetched: &[Fetched], base: &Metadata, opts: &DiskOptions, limit: u64) -> Result<SetPlan> {
    let mut associations = Vec::new();
    for f in fetched {
        let p = &f.plan;
        associations.extend(ferry_metadata::associations_for(
            &p.source.exact(),
            &p.dest_repo,
            Some(&p.dest_tag),
            p.kind,
            &f.top,
            &f.children,
        )?);
    }
    let mut past = if opts.ignore_history {
        BTreeSet::new()
    } else {
        base.past_digests()
    };
    // A catalog's source index image is rebuilt on import, which needs its manifests and
    // config: those travel in every set (its layers only when new). See crate::operators_disk.
    for f in fetched
        .iter()
        .filter(|f| f.plan.kind == ferry_types::ImageKind::OperatorCatalog)
    {
        for m in std::iter::once(&f.top).chain(&f.children) {
            past.remove(&m.digest.to_string());
            if let Some(c) = ferry_types::media::ManifestView::parse(&m.bytes)
                .ok()
                .and_then(|v| v.config)
            {
                past.remove(&c.digest);
            }
        }
    }
    let past_tags: BTreeSet<(&str, &str, &str)> = base
        .past_associations
        .iter()
        .map(|a| (a.path.as_str(), a.tag_symlink.as_str(), a.id.as_str()))
        .collect();
    // Images to pack: anything whose manifest or tag the earlier sequences did not ship.
    let to_pack: Vec<usize> = (0..fetched.len())
        .filter(|&i| {
            let f = &fetched[i];
            let digest = f.top.digest.to_string();
            opts.ignore_history
                || f.plan.kind == ferry_types::ImageKind::OperatorCatalog
                || !past_tags.contains(&(f.plan.dest_repo.as_str(), f.plan.dest_tag.as_str(), digest.as_str()))
        })
        .collect();
    let mut new_blobs = BTreeMap::new();
    let mut from_history = BTreeSet::new();
    for &i in &to_pack {
        for (d, size) in blobs_of(&fetched[i]) {
            if past.contains(&d) {
                from_history.insert(d);
            } else {
                new_blobs.insert(d, size);
            }
        }
    }
    let oversized: Vec<(String, u64)> = new_blobs
        .iter()
        .filter(|(_, s)| ferry_archive::estimate_bytes([**s], 1) > limit)
        .map(|(d, s)| (d.clone(), *s))
        .collect();
    let manifest_sizes: Vec<u64> = to_pack
        .iter()
        .flat_map(|&i| std::iter::once(&fetched[i].top).chain(&fetched[i].children))
        .map(|m| m.bytes.len() as u64 + 512)
        .collect();
    let planned_bytes =
        ferry_archive::estimate_bytes(new_blobs.values().copied().chain(manifest_sizes.iter().copied()), 1)
            + new_blobs.values().sum::<u64>() / limit.max(1) * 1024;
    let planned_parts = count_parts(new_blobs.values().copied().chain(manifest_sizes), limit);
    Ok(SetPlan {
        associations,
        to_pack,
        new_blobs,
        from_history,
        past,
        oversized,
        planned_bytes,
        planned_parts,
    })
}

/// Parts the writer's split rule gives for these entry sizes: an entry that does not fit in
/// the current part starts the next one; one larger than the limit gets a part of its own.
/// Part 000000 always exists (it holds the metadata).
pub(super) fn count_parts(sizes: impl IntoIterator<Item = u64>, limit: u64) -> u64 {
    let mut parts = 1u64;
    let mut current = 0u64;
    for s in sizes {
        let entry = 512 + s.div_ceil(512) * 512;
        if current > 0 && current + entry > limit {
            parts += 1;
            current = 0;
        }
        current += entry;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_types::{Digest, ImageKind, ImageRef};

    fn planned(requested: &str, dest_tag: Option<&str>) -> PlannedImage {
        let d = Digest::of(b"manifest");
        let r = ImageRef::parse(requested).unwrap();
        PlannedImage {
            source: r.with_digest(d.clone()),
            dest_repo: r.repository.clone(),
            dest_tag: dest_tag.map(str::to_string).unwrap_or_else(|| synthetic_tag(&d)),
            requested: r,
            kind: ImageKind::Generic,
        }
    }

    #[test]
    fn digest_only_images_get_the_oc_mirror_disk_tag() {
        let d = Digest::of(b"manifest");
        let p = disk_tag(planned(&format!("quay.io/ns/a@{d}"), None));
        assert_eq!(p.dest_tag, format!("oc-mirror{}", &d.hex()[..6]));
        // A tagged source keeps its tag; a tag a planner chose is kept too.
        assert_eq!(disk_tag(planned("quay.io/ns/a:v1", Some("v1"))).dest_tag, "v1");
        let chosen = disk_tag(planned(&format!("quay.io/ns/op@{d}"), Some("3f1c9a7e")));
        assert_eq!(chosen.dest_tag, "3f1c9a7e");
    }

    #[test]
    fn part_count_follows_the_split_rule() {
        assert_eq!(count_parts([], 1 << 20), 1);
        assert_eq!(count_parts([100, 100], 1 << 20), 1);
        // Three 400 KiB entries at a 1 MiB limit: two fit, the third starts part 2.
        assert_eq!(count_parts([400 << 10, 400 << 10, 400 << 10], 1 << 20), 2);
        // An oversized entry gets a part of its own.
        assert_eq!(count_parts([10, 5 << 20, 10], 1 << 20), 3);
    }
}
