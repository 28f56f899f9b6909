//! The results model: what a run's results folder lists.
//!
//! Results cover everything mirrored to that target so far, not only this run's images: the
//! target's recorded associations (what earlier sequences put there) plus this run's. So
//! `oc apply` of sequence 2's ImageContentSourcePolicy / ImageDigestMirrorSet replaces sequence
//! 1's document of the same name (`generic-0`, `operator-0`, `release-0`, overflow `-1`…) with a
//! superset and never removes a mirror entry the cluster still needs. Names therefore stay
//! stable per target (they are oc-mirror's names). Images a pruning step really deleted leave
//! the results (hook: [`cumulative_images`] takes the pruned `(repository, digest)` pairs).

use ferry_manifests::MappedImage;
use ferry_metadata::{Association, Metadata};
use ferry_types::{Digest, ImageKind, ImageRef};
use std::collections::BTreeSet;

/// The tag an image was requested by, recovered from an association: the tag symlink, unless
/// it is one of the synthetic tags given to digest-only images (`oc-mirror` + 6 hex on the
/// disk path, 6 hex on the mirror-to-mirror path). Only generic images (additionalImages, helm)
/// are ever pulled by tag on a cluster; releases and operators are pinned by digest, so their
/// (computed) tags never go into an ImageTagMirrorSet.
fn requested_tag(a: &Association) -> Option<String> {
    if a.tag_symlink.is_empty() || a.kind != ImageKind::Generic {
        return None;
    }
    let hex = a.id.strip_prefix("sha256:").unwrap_or(&a.id);
    let short = hex.get(..6).unwrap_or(hex);
    let synthetic = a.tag_symlink == short || a.tag_symlink == format!("oc-mirror{short}");
    (!synthetic).then(|| a.tag_symlink.clone())
}

/// The destination repository of an association under `registry`/`prefix`. Mirror-to-disk
/// records the archive path (`ns/app`); a mirror-to-mirror run records the full destination
/// (`host/prefix/ns/app`), which is used as it is.
fn dest_repository(a: &Association, registry: &str, prefix: &str) -> String {
    match a.path.strip_prefix(&format!("{registry}/")) {
        Some(full) => full.to_string(),
        None => format!("{prefix}{}", a.path),
    }
}

/// One mapped image per top-level association (children of lists are covered by their list).
/// Catalog images are left out, as oc-mirror leaves them out of the mapping: the rebuilt
/// catalog is not a mirror of its source (its CatalogSource names it).
pub fn mapped_from_associations(assocs: &[Association], registry: &str, prefix: &str) -> Vec<MappedImage> {
    assocs
        .iter()
        .filter(|a| !a.is_child() && a.kind != ImageKind::OperatorCatalog)
        .map(|a| {
            let digest = Digest::parse(&a.id).ok();
            let mut source = ImageRef::parse(&a.name).unwrap_or_else(|_| ImageRef {
                registry: "unknown".into(),
                repository: a.path.clone(),
                tag: None,
                digest: digest.clone(),
            });
            if source.tag.is_none() {
                source.tag = requested_tag(a);
            }
            MappedImage {
                source,
                dest: ImageRef {
                    registry: registry.to_string(),
                    repository: dest_repository(a, registry, prefix),
                    tag: (!a.tag_symlink.is_empty()).then(|| a.tag_symlink.clone()),
                    digest,
                },
                kind: a.kind,
            }
        })
        .collect()
}

/// What the results of a run list: `earlier` (the target's recorded associations before this
/// run) ∪ `this_run` (what this run completed), minus what pruning deleted (`pruned` holds
/// `(destination repository, manifest digest)` pairs). Sorted and without duplicates.
pub fn cumulative_images(
    earlier: &[MappedImage],
    this_run: &[MappedImage],
    pruned: &BTreeSet<(String, String)>,
) -> Vec<MappedImage> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for m in this_run.iter().chain(earlier) {
        let digest = m.dest.digest.as_ref().map(|d| d.to_string()).unwrap_or_default();
        if pruned.contains(&(m.dest.repository.clone(), digest)) {
            continue;
        }
        if seen.insert((m.source.exact(), m.dest.to_string())) {
            out.push(m.clone());
        }
    }
    out.sort_by_key(|m| (m.dest.to_string(), m.source.exact()));
    out
}

/// Remove the associations (top and children) of the images at these (path, tag) pairs.
pub(crate) fn drop_images(md: &mut Metadata, paths_tags: &BTreeSet<(String, String)>) {
    let keep = |assocs: &mut Vec<Association>| {
        let doomed: BTreeSet<(String, String)> = assocs
            .iter()
            .filter(|a| !a.is_child() && paths_tags.contains(&(a.path.clone(), a.tag_symlink.clone())))
            .flat_map(|a| {
                std::iter::once((a.path.clone(), a.id.clone()))
                    .chain(a.manifest_digests.iter().map(|d| (a.path.clone(), d.clone())))
            })
            .collect();
        assocs.retain(|a| !doomed.contains(&(a.path.clone(), a.id.clone())));
    };
    keep(&mut md.past_mirror.associations);
    keep(&mut md.past_associations);
}

/// What a planner can look at when it adds documents to an import's results folder.
pub struct ResultsContext<'a> {
    /// The media being imported (None when the results come from elsewhere).
    pub set: Option<&'a ferry_archive::ArchiveSet>,
    /// The metadata recorded for this import (what the target now holds from this workspace).
    pub metadata: &'a ferry_metadata::Metadata,
    pub registry: &'a str,
    /// User namespace with a trailing `/`, or empty.
    pub prefix: &'a str,
}

/// The extra documents of an import's results folder (CatalogSource files,
/// `release-signatures/*.json`, `updateService.yaml`, charts). This is the one place planners
/// hook in: each adds one `extras.extend(their_module::import_results(ctx)?);` line here and
/// builds its documents with [`ferry_manifests::ResultsExtras`]. Built so far: release signatures.
pub fn results_extras(ctx: &ResultsContext<'_>) -> ferry_types::Result<ferry_manifests::ResultsExtras> {
    let mut extras = ferry_manifests::ResultsExtras::new();
    // Release signatures travel in the set; the import writes them without any network.
    let scratch = std::env::temp_dir().join(format!(
        "ferry-import-{}-{}",
        std::process::id(),
        crate::mirror::epoch_now()
    ));
    let sigs = crate::release::import_results(ctx, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    extras.extend(sigs?);
    Ok(extras)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assoc(name: &str, path: &str, tag: &str, id: &Digest, kind: ImageKind) -> Association {
        Association {
            name: name.into(),
            path: path.into(),
            id: id.to_string(),
            tag_symlink: tag.into(),
            kind,
            manifest_digests: vec![],
            layer_digests: vec![],
        }
    }

    #[test]
    fn associations_map_to_destinations_and_recover_requested_tags() {
        let d = Digest::of(b"a");
        let short = &d.hex()[..6];
        let assocs = vec![
            assoc(&format!("quay.io/ns/web@{d}"), "ns/web", "v1", &d, ImageKind::Generic),
            assoc(
                &format!("quay.io/ns/pinned@{d}"),
                "ns/pinned",
                &format!("oc-mirror{short}"),
                &d,
                ImageKind::Generic,
            ),
            assoc(
                &format!("registry.redhat.io/rh/op@{d}"),
                "rh/op",
                "3f1c9a7e",
                &d,
                ImageKind::OperatorBundle,
            ),
            assoc(&d.to_string(), "ns/web", "", &d, ImageKind::Generic),
            assoc(
                &format!("quay.io/ns/m2m@{d}"),
                "mirror.local:5000/x/ns/m2m",
                short,
                &d,
                ImageKind::Generic,
            ),
        ];
        let m = mapped_from_associations(&assocs, "mirror.local:5000", "x/");
        assert_eq!(m.len(), 4, "children are not listed: {m:?}");
        assert_eq!(m[0].dest.to_string(), format!("mirror.local:5000/x/ns/web:v1@{d}"));
        assert_eq!(m[0].source.tag.as_deref(), Some("v1"));
        assert_eq!(m[1].source.tag, None, "synthetic disk tag is not a requested tag");
        assert_eq!(m[2].source.tag, None, "operator tags are computed, not requested");
        assert_eq!(m[3].dest.repository, "x/ns/m2m", "full m2m paths are used as they are");
        assert_eq!(m[3].source.tag, None);
    }

    #[test]
    fn cumulative_keeps_earlier_entries_and_drops_pruned_ones() {
        let (d1, d2) = (Digest::of(b"1"), Digest::of(b"2"));
        let one = mapped_from_associations(
            &[assoc(
                &format!("quay.io/a/one@{d1}"),
                "a/one",
                "v1",
                &d1,
                ImageKind::Generic,
            )],
            "m:5000",
            "",
        );
        let two = mapped_from_associations(
            &[assoc(
                &format!("quay.io/b/two@{d2}"),
                "b/two",
                "v2",
                &d2,
                ImageKind::Generic,
            )],
            "m:5000",
            "",
        );
        let all = cumulative_images(&one, &two, &BTreeSet::new());
        assert_eq!(all.len(), 2);
        let icsp = ferry_manifests::icsp_yaml(&all);
        assert!(
            icsp.contains("source: quay.io/a") && icsp.contains("source: quay.io/b"),
            "{icsp}"
        );
        let again = cumulative_images(&all, &two, &BTreeSet::new());
        assert_eq!(again.len(), 2, "no duplicates");
        let pruned = BTreeSet::from([("a/one".to_string(), d1.to_string())]);
        assert_eq!(cumulative_images(&one, &two, &pruned).len(), 1);
    }
}
