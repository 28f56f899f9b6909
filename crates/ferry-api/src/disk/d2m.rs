//! Disk-to-mirror (`ferry mirror --from DIR|TAR docker://host/ns`), see the module docs of
//! [`crate::disk`].

use super::results::{cumulative_images, drop_images, mapped_from_associations, results_extras, ResultsContext};
use super::stream_push::{push_blobs_verified, BlobNeeds, StreamStats};
use super::{ns_prefix, DiskOptions, FailedImage, ImportReport};
use crate::mirror::epoch_now;
use crate::registry::build_client;
use ferry_archive::{ArchiveSet, ArchiveSource};
use ferry_copy::{copy_images, CancellationToken, CopyJob, CopyOptions, ProgressSink};
use ferry_metadata::{Association, ImageBackend, Metadata, TARGET_METADATA_REPO};
use ferry_types::{Destination, Error, ImageDestination, ImageSource, Result};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

/// The registry an import pushes into, through its transports.
#[derive(Clone)]
pub struct ImportTarget<'a> {
    pub source: Arc<dyn ImageSource>,
    pub dest: Arc<dyn ImageDestination>,
    /// `host[:port]` as it goes into the results.
    pub registry: &'a str,
    /// User namespace prepended to every repository.
    pub namespace: Option<&'a str>,
    /// The target as a registry client, for pruning's DELETEs (`None`: no pruning).
    pub registry_client: Option<ferry_registry::Registry>,
}

/// Open the media: a missing path, an empty folder or a folder without a finished set is
/// reported here, naming the path, before any registry is contacted.
pub fn open_media(from: &Path) -> Result<(Arc<ArchiveSet>, Metadata)> {
    let set = ArchiveSet::open(from)?;
    let md = set.metadata.clone().ok_or_else(|| {
        Error::Archive(format!(
            "{}: no {} in the image set; it is not a mirror-to-disk archive (or part 000000 is missing)",
            from.display(),
            ferry_metadata::METADATA_PATH
        ))
    })?;
    Ok((Arc::new(set), md))
}

/// Disk-to-mirror from `from` into `target` (the media is opened and checked first).
pub async fn disk_to_mirror_with(
    from: &Path,
    target: ImportTarget<'_>,
    opts: &DiskOptions,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<ImportReport> {
    let media = open_media(from)?;
    import_set(media, target, opts, progress, cancel).await
}

fn sequence_error(from: &Path, registry: &str, meta_repo: &str, md: &Metadata, current: Option<&Metadata>) -> Error {
    let seq = md.sequence();
    let want = current.map(|c| c.sequence() + 1).unwrap_or(1);
    let holds = match current {
        Some(c) => format!("it holds sequence {} of this workspace", c.sequence()),
        None => "it holds no sequence of this workspace yet".into(),
    };
    let how = if seq > want {
        format!("import mirror_seq{want}_*.tar first, then this one")
    } else {
        "this set was already imported; import the next sequence instead".into()
    };
    Error::Sequence(format!(
        "{}: invalid mirror sequence order: the target {registry}/{meta_repo}:{} expects sequence {want} next, \
         this image set is sequence {seq} ({holds}). {how}. If the target already holds everything this set \
         needs, run again with --skip-metadata-check; to start over, create a full set with --ignore-history \
         and import it with --skip-metadata-check",
        from.display(),
        md.uid
    ))
}

/// Where each blob of the images this set carries must go (list children included).
fn blob_needs(md: &Metadata, planned: &[Planned<'_>], prefix: &str) -> BlobNeeds {
    let mut needs = BlobNeeds::default();
    for p in planned {
        let a = p.assoc;
        let repo = format!("{prefix}{}", a.path);
        let children = md
            .past_mirror
            .associations
            .iter()
            .filter(|c| c.is_child() && c.path == a.path && a.manifest_digests.contains(&c.id));
        for d in std::iter::once(a).chain(children).flat_map(|x| &x.layer_digests) {
            needs.add(d, &a.name, &repo);
        }
    }
    needs
}

/// One image of the set to push, with its association.
struct Planned<'a> {
    assoc: &'a Association,
    job: CopyJob,
}

async fn import_set(
    (set, md): (Arc<ArchiveSet>, Metadata),
    target: ImportTarget<'_>,
    opts: &DiskOptions,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<ImportReport> {
    let started = std::time::Instant::now();
    let from = set.origin.clone();
    let registry = target.registry;
    let seq = md.sequence();
    let prefix = ns_prefix(target.namespace);
    let meta_repo = format!("{prefix}{TARGET_METADATA_REPO}");
    let target_meta = ImageBackend {
        source: target.source.clone(),
        dest: target.dest.clone(),
        repo: meta_repo.clone(),
        tag: md.uid.clone(),
    };
    let current = if md.single_use { None } else { target_meta.read().await? };
    if !md.single_use && !opts.skip_metadata_check {
        let want = current.as_ref().map(|c| c.sequence() + 1).unwrap_or(1);
        if seq != want {
            return Err(sequence_error(&from, registry, &meta_repo, &md, current.as_ref()));
        }
    }

    let source: Arc<dyn ImageSource> =
        Arc::new(ArchiveSource::new(set.clone()).with_fallback(target.source.clone(), prefix.clone(), current.clone()));
    let on_target: BTreeSet<(&str, &str)> = current
        .iter()
        .flat_map(|c| &c.past_associations)
        .map(|a| (a.path.as_str(), a.id.as_str()))
        .collect();
    // Images whose manifests this set carries get pushed; the others were shipped by earlier
    // sequences, unless the target has no record of them either: then mirror-to-disk left
    // them out (a partial set) and this import says so instead of listing them as mirrored.
    let tops: Vec<&Association> = md.past_mirror.associations.iter().filter(|a| !a.is_child()).collect();
    let mut planned = Vec::new();
    let mut absent = Vec::new();
    for a in &tops {
        // Catalog source images are not pushed as they are: they are rebuilt below.
        if crate::operators_disk::is_catalog_source(a) {
            continue;
        }
        let by_id = format!("v2/{}/manifests/{}", a.path, a.id);
        let by_tag = format!("v2/{}/manifests/{}", a.path, a.tag_symlink);
        let source_ref = if set.resolve(&by_id).is_some() {
            a.id.clone()
        } else if !a.tag_symlink.is_empty() && set.resolve(&by_tag).is_some() {
            a.tag_symlink.clone()
        } else {
            if !on_target.contains(&(a.path.as_str(), a.id.as_str()))
                && target
                    .dest
                    .manifest_digest(&format!("{prefix}{}", a.path), &a.id)
                    .await?
                    .is_none()
            {
                absent.push(*a);
            }
            continue;
        };
        planned.push(Planned {
            assoc: a,
            job: CopyJob {
                source_repo: a.path.clone(),
                source_ref,
                source: source.clone(),
                dest_repo: format!("{prefix}{}", a.path),
                dest_tag: (!a.tag_symlink.is_empty()).then(|| a.tag_symlink.clone()),
                label: a.name.clone(),
            },
        });
    }
    let mut failed: Vec<FailedImage> = absent
        .iter()
        .map(|a| FailedImage {
            image: a.name.clone(),
            error: format!(
                "not in {} and not on {registry}: the mirror-to-disk run left it out (it failed there); \
                 the next sequence carries it",
                from.display()
            ),
        })
        .collect();

    if opts.dry_run {
        let prune = crate::prune::d2m(
            current.as_ref(),
            &md,
            &prefix,
            target.registry_client.as_ref(),
            opts,
            failed.len(),
        )
        .await?;
        let mut report = dry_run_report(&set, &md, &planned, failed, target, opts, started);
        report.prune = prune;
        return Ok(report);
    }

    // One read of the media: parts are hashed as their blobs stream to the target; only when
    // every part passed does the copy engine push the manifests and tags (it finds the blobs
    // there). `skip_verify` pushes straight from the parts (each blob still digest-checked).
    let (verify, streamed) = if opts.skip_verify {
        (None, StreamStats::default())
    } else {
        let mut needs = blob_needs(&md, &planned, &prefix);
        // Catalog source images are not copied, but their blobs go to the rebuilt catalog's
        // repository in this same pass, so the rebuild does not read them from the media again.
        for a in md
            .past_mirror
            .associations
            .iter()
            .filter(|a| crate::operators_disk::is_catalog_source(a))
        {
            for d in &a.layer_digests {
                needs.add(d, &a.name, &format!("{prefix}{}", a.path));
            }
        }
        let s = push_blobs_verified(
            set.clone(),
            Arc::new(needs),
            target.dest.clone(),
            opts.parallel_blobs.max(1),
            progress.clone(),
            cancel.clone(),
        )
        .await
        .map_err(|e| match e {
            Error::Cancelled => Error::Cancelled,
            e => Error::Archive(format!(
                "{e}. Nothing of {} was tagged in {registry} and the sequence was NOT recorded; run the import again \
                 once the media is fixed (blobs already sent are skipped)",
                from.display()
            )),
        })?;
        let report = ferry_archive::VerifyReport {
            sequence: set.sequence(),
            uid: Some(md.uid.clone()),
            parts: set.parts.len(),
            bytes: set.total_size(),
            entries_checked: s.entries_checked,
            parts_list: (s.parts_checked > 0).then_some(if set.parts_list_is_sidecar {
                "sidecar"
            } else {
                "in-archive"
            }),
        };
        (Some(report), s)
    };
    let copy_opts = CopyOptions {
        parallel_images: opts.parallel_images.max(1),
        parallel_blobs: opts.parallel_blobs.max(1),
        cancel,
        progress,
        // Blobs of earlier sequences are mounted from the repositories that hold them in the
        // target, not read back from the target and uploaded again.
        mount_from: Arc::new(super::blob_locations(
            current.iter().flat_map(|c| &c.past_associations),
            |path| Some(format!("{prefix}{path}")),
        )),
        ..CopyOptions::default()
    };
    let jobs = planned.iter().map(|p| p.job.clone()).collect();
    let report = copy_images(target.dest.clone(), jobs, &copy_opts).await;
    if report.cancelled() {
        return Err(Error::Cancelled);
    }
    let folded = crate::outcome::fold(&report, &planned);
    let (pushed, up_to_date) = (folded.copied, folded.up_to_date);
    let mut left_out: BTreeSet<(String, String)> =
        absent.iter().map(|a| (a.path.clone(), a.tag_symlink.clone())).collect();
    left_out.extend(
        folded
            .failed
            .iter()
            .map(|(p, _)| (p.assoc.path.clone(), p.assoc.tag_symlink.clone())),
    );
    let push_failures: Vec<FailedImage> = folded.failed.into_iter().map(|(_, f)| f).collect();
    if !push_failures.is_empty() && !opts.continue_on_error {
        return Err(Error::Archive(format!(
            "{} of {} images of {} could not be pushed to {registry} (the sequence was NOT recorded in the target; \
             run the same import again to finish, images already pushed are skipped; or pass --continue-on-error \
             to record what was pushed):\n  {}",
            push_failures.len(),
            report.results.len(),
            from.display(),
            push_failures
                .iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("\n  ")
        )));
    }
    failed.extend(push_failures);

    // What the target now holds from this workspace: the set's associations without the
    // images that are not there. Recorded even after a partial import, so the next sequence
    // is accepted; a failed image is not claimed, and its next set (or a rerun of this one
    // with --skip-metadata-check) pushes it.
    let mut recorded = md.clone();
    drop_images(&mut recorded, &left_out);
    // Operator catalogs: rebuilt from the set and pushed only now that every image is there.
    let catalogs = crate::operators_disk::import(
        &crate::operators_disk::ImportCtx {
            set: &set,
            source: source.as_ref(),
            target: target.source.as_ref(),
            dest: target.dest.as_ref(),
            registry,
            prefix: &prefix,
            workdir: &opts.workspace.join("catalogs"),
        },
        &mut recorded,
        failed.is_empty(),
    )
    .await?;
    let earlier = current
        .as_ref()
        .map(|c| mapped_from_associations(&c.past_associations, registry, &prefix))
        .unwrap_or_default();
    let this_run = mapped_from_associations(&recorded.past_associations, registry, &prefix);
    // Pruning (engineer H7) runs here, before the results: the (repository, digest) pairs it
    // deleted leave the results through this set.
    let prune = crate::prune::d2m(
        current.as_ref(),
        &recorded,
        &prefix,
        target.registry_client.as_ref(),
        opts,
        failed.len(),
    )
    .await?;
    if let Some(p) = &prune {
        // What was not deleted stays recorded, so a later --prune still finds it.
        recorded
            .past_associations
            .extend(p.associations_left(&crate::prune::d2m_repo(&prefix)));
    }
    let pruned = prune.as_ref().map(|p| p.removed.clone()).unwrap_or_default();
    let images = cumulative_images(&earlier, &this_run, &pruned);
    // graph: true: the graph-data image, built from the set's tarball on the base image in the target.
    let any_release = recorded
        .past_associations
        .iter()
        .any(|a| a.kind == ferry_types::ImageKind::OcpRelease);
    let graph = crate::release_graph::import(&set, &target, &prefix, &opts.workspace, any_release).await?;
    let mut extras = results_extras(&ResultsContext {
        set: Some(&set),
        metadata: &recorded,
        registry,
        prefix: &prefix,
    })?;
    // Helm charts the set carries stay in the workspace (`charts/`) and are listed in the results.
    extras.extend(crate::helm::import_results(&set, &opts.workspace.join("charts"))?);
    extras.extend(catalogs.extras);
    extras.extend(graph);
    let written = ferry_manifests::write_results(&opts.workspace, epoch_now(), &images, &extras)
        .map_err(|e| Error::io(opts.workspace.display(), e))?;
    let metadata_image = if md.single_use {
        None
    } else {
        Some(target_meta.write(&recorded).await?.to_string())
    };
    for f in &failed {
        tracing::warn!("not imported: {f}");
    }
    Ok(ImportReport {
        sequence: seq,
        uid: md.uid.clone(),
        dry_run: false,
        images: tops.len(),
        images_pushed: pushed,
        images_up_to_date: up_to_date,
        bytes_copied: report.bytes_copied + streamed.bytes_pushed,
        blobs_copied: report.blobs_copied + streamed.blobs_pushed,
        blobs_skipped: report.blobs_skipped.saturating_sub(streamed.blobs_pushed) + streamed.blobs_present,
        results_dir: written.dir,
        apply: written.apply,
        would_push: Vec::new(),
        would_push_bytes: 0,
        would_rebuild: Vec::new(),
        verify,
        metadata_image,
        failed,
        prune,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// `--dry-run --from`: what would be pushed, as `mapping.txt` in the workspace and in the
/// report; nothing is pushed and the target metadata is not touched.
#[allow(clippy::too_many_arguments)]
fn dry_run_report(
    set: &ArchiveSet,
    md: &Metadata,
    planned: &[Planned<'_>],
    failed: Vec<FailedImage>,
    target: ImportTarget<'_>,
    opts: &DiskOptions,
    started: std::time::Instant,
) -> ImportReport {
    let prefix = ns_prefix(target.namespace);
    let assocs: Vec<Association> = planned.iter().map(|p| p.assoc.clone()).collect();
    let images = mapped_from_associations(&assocs, target.registry, &prefix);
    let mut would_push: Vec<String> = images.iter().map(|m| m.dest.to_string()).collect();
    would_push.sort();
    let bytes = set
        .entries
        .iter()
        .filter(|(name, loc)| name.starts_with("blobs/") && loc.link.is_none())
        .map(|(_, loc)| loc.size)
        .sum();
    // Pruning (engineer H7): with a docker:// target the pruning plan is computed here from the
    // target's recorded associations and this set's, printed and written as pruning-plan.json;
    // a dry run never deletes.
    let mapping = opts.workspace.join("mapping.txt");
    let written = std::fs::create_dir_all(&opts.workspace)
        .and_then(|_| std::fs::write(&mapping, ferry_manifests::mapping_txt(&images)));
    if let Err(e) = written {
        tracing::warn!(file = %mapping.display(), error = %e, "dry run: cannot write mapping.txt");
    }
    ImportReport {
        sequence: md.sequence(),
        uid: md.uid.clone(),
        dry_run: true,
        images: md.past_mirror.associations.iter().filter(|a| !a.is_child()).count(),
        images_pushed: 0,
        images_up_to_date: 0,
        bytes_copied: 0,
        blobs_copied: 0,
        blobs_skipped: 0,
        results_dir: opts.workspace.clone(),
        apply: Default::default(),
        would_push,
        would_push_bytes: bytes,
        would_rebuild: crate::operators_disk::would_rebuild(set, target.registry, &prefix),
        verify: None,
        metadata_image: None,
        failed,
        prune: None,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// `ferry mirror --from DIR|TAR docker://host/ns`.
pub async fn disk_to_mirror(
    from: &Path,
    destination: &Destination,
    opts: &DiskOptions,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<ImportReport> {
    let Destination::Registry { registry, namespace } = destination else {
        return Err(Error::InvalidConfig(
            "--from imports into a registry: give a docker://host[/namespace] destination".into(),
        ));
    };
    // The media first: a wrong path must not wait for (or fail on) a registry connection.
    let media = open_media(from)?;
    let client = build_client(&opts.registry, Some(registry))?;
    let prefix = ns_prefix(namespace.as_deref());
    if !opts.dry_run {
        client
            .check_push_permission(registry, &format!("{prefix}{TARGET_METADATA_REPO}"))
            .await?;
    }
    let handle = Arc::new(client.registry(registry));
    let target = ImportTarget {
        source: handle.clone(),
        dest: handle,
        registry,
        namespace: namespace.as_deref(),
        registry_client: Some(client.registry(registry)),
    };
    import_set(media, target, opts, progress, cancel).await
}
