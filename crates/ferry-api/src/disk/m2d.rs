//! Mirror-to-disk (`ferry mirror --config isc.yaml file://DIR`), see the module docs of
//! [`crate::disk`].

use super::m2d_plan::{disk_tag, fetch_all, plan_set, Fetched, Left, SetPlan};
use super::results::drop_images;
use super::{metadata_store, DiskOptions, DiskReport, FailedImage, MetadataStore, DEFAULT_ARCHIVE_SIZE_GIB, GIB};
use crate::mirror::{epoch_now, ImageSelection, MirrorOptions};
use crate::registry::build_client;
use ferry_archive::{ArchiveWriter, WriterOptions};
use ferry_copy::{copy_images, CancellationToken, CopyJob, CopyOptions, ProgressSink};
use ferry_metadata::Metadata;
use ferry_plan::{PlannedImage, SourceProvider};
use ferry_types::{Digest, Error, ErrorCode, ImageDestination, ImageSource, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to write where: the plan and its transports, the target folder and metadata store.
pub struct M2dRequest<'a> {
    pub plan: &'a [PlannedImage],
    pub sources: &'a dyn SourceProvider,
    pub dir: &'a Path,
    pub store: &'a MetadataStore,
    /// The ImageSetConfiguration `mirror` section, recorded in the metadata.
    pub mirror_section: serde_json::Value,
    /// Split limit in bytes.
    pub archive_size_bytes: u64,
    /// Images planning already left out (`--continue-on-error`): listed in the report.
    pub plan_failed: Vec<FailedImage>,
    /// Images planning skipped (`--skip-missing`): listed in the report.
    pub plan_skipped: Vec<FailedImage>,
    /// Non-image files to pack, (archive path, file): release signatures (see
    /// [`crate::release::stage_signatures`]). The files must stay until the set is finished.
    pub extra_files: Vec<(String, PathBuf)>,
    /// `pastMirror.platforms` to record (heads-only release channels, see [`crate::release`]).
    pub platforms: Vec<serde_json::Value>,
    /// `pastMirror.operators` to record (catalogs, see [`crate::operators::past_operators`]).
    pub operators: Vec<serde_json::Value>,
}

/// Where a mirror-to-disk dry run writes its mapping (oc-mirror's `<dir>/oc-mirror-workspace`).
pub fn dry_run_mapping_file(dir: &Path) -> PathBuf {
    dir.join("oc-mirror-workspace").join("mapping.txt")
}

/// `mapping.txt` of a mirror-to-disk dry run: destinations are the file-store paths.
fn disk_mapping(fetched: &[Fetched]) -> String {
    let mut lines: Vec<String> = fetched
        .iter()
        .map(|f| {
            format!(
                "{}=file://{}:{}",
                f.plan.source.exact(),
                f.plan.dest_repo,
                f.plan.dest_tag
            )
        })
        .collect();
    lines.sort();
    lines.dedup();
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// Mirror-to-disk from a plan (see the module docs).
pub async fn mirror_to_disk_with(
    req: M2dRequest<'_>,
    opts: &DiskOptions,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<DiskReport> {
    let started = std::time::Instant::now();
    let dir = req.dir;
    let single_use = matches!(req.store, MetadataStore::None);
    let previous = req.store.read().await?;
    let seq = previous.as_ref().map(|m| m.sequence()).unwrap_or(0) + 1;
    let base = match previous {
        Some(m) => m,
        None => {
            let mut m = Metadata::new(single_use);
            // A first run killed mid-way left its uid behind: reuse it so the run resumes.
            if let Some((uid, _)) = ArchiveWriter::pending(dir, seq) {
                m.uid = uid;
            }
            m
        }
    };
    let plan: Vec<PlannedImage> = req.plan.iter().cloned().map(disk_tag).collect();
    let mut left = Left {
        failed: req.plan_failed,
        skipped: req.plan_skipped,
    };
    let fetched = fetch_all(&plan, req.sources, opts, &mut left).await?;
    let limit = req.archive_size_bytes;
    let set = plan_set(&fetched, &base, opts, limit)?;
    let report = |written: bool, sequence: u32, left: Left| DiskReport {
        dir: dir.to_path_buf(),
        written,
        dry_run: opts.dry_run,
        sequence,
        uid: base.uid.clone(),
        images: plan.len(),
        images_packed: set.to_pack.len(),
        parts: Vec::new(),
        blobs_written: 0,
        blob_bytes_written: 0,
        blobs_resumed: 0,
        blobs_from_history: set.from_history.len(),
        oversized: set.oversized.clone(),
        planned_bytes: set.planned_bytes,
        planned_parts: set.planned_parts,
        planned_blobs: set.new_blobs.len(),
        mapping_file: None,
        failed: left.failed,
        skipped: left.skipped,
        seconds: started.elapsed().as_secs_f64(),
    };
    let unchanged_catalogs = !opts.ignore_history
        && crate::operators_disk::only_unchanged_catalogs(
            set.to_pack.iter().map(|&i| fetched[i].plan.kind),
            &req.operators,
            &base.past_mirror.operators,
        );
    if (set.to_pack.is_empty() && set.new_blobs.is_empty()) || unchanged_catalogs {
        tracing::info!("No updates detected, process stopping: every image was shipped by an earlier sequence");
        let mut r = report(false, base.sequence(), left);
        r.images_packed = 0;
        r.planned_bytes = 0;
        r.planned_parts = 0;
        return Ok(r);
    }
    strict_check(&set, &fetched, limit, opts)?;

    // Pre-flight: will it fit? (A dry run reports it instead of failing.)
    let already = ArchiveWriter::pending_bytes(dir, seq);
    let needed = set.planned_bytes.saturating_sub(already);
    if opts.dry_run {
        let file = dry_run_mapping_file(dir);
        let parent = file.parent().expect("mapping file has a parent");
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
        std::fs::write(&file, disk_mapping(&fetched)).map_err(|e| Error::io(file.display(), e))?;
        tracing::info!(file = %file.display(), bytes = needed, parts = set.planned_parts, "dry run: mapping written, nothing downloaded");
        let mut r = report(false, seq, left);
        r.mapping_file = Some(file);
        return Ok(r);
    }
    let available = ferry_archive::free_space(dir)?;
    if needed > available {
        return Err(Error::NoSpace {
            path: dir.display().to_string(),
            needed,
            available,
        });
    }

    let mut next = base.next_run(epoch_now() as i64, req.mirror_section, set.associations.clone());
    next.past_mirror.platforms = req.platforms.clone();
    next.past_mirror.operators = req.operators.clone();
    let plan_key = {
        let mut key = serde_json::to_vec(&set.associations).expect("json");
        key.extend_from_slice(format!("|{seq}|{}|{limit}", opts.ignore_history).as_bytes());
        Digest::of(&key).to_string()
    };
    let writer = Arc::new(ArchiveWriter::create(WriterOptions {
        dir: dir.to_path_buf(),
        sequence: seq,
        uid: base.uid.clone(),
        max_part_bytes: limit,
        strict: opts.strict_archive,
        metadata_json: next.to_json(),
        plan_key,
        skip_digests: set.past.iter().cloned().collect(),
    })?);
    // A resumed set keeps the metadata it started with (same sequence and images; only the
    // timestamp can differ), so the backend gets what part 000000 holds.
    let mut next = Metadata::parse(writer.metadata_json(), "resumed set metadata")?;

    let jobs: Vec<CopyJob> = set
        .to_pack
        .iter()
        .map(|&i| {
            let f = &fetched[i];
            CopyJob {
                source_repo: f.plan.source.repository.clone(),
                source_ref: f.top.digest.to_string(),
                source: req.sources.source(&f.plan.source.registry),
                dest_repo: f.plan.dest_repo.clone(),
                dest_tag: Some(f.plan.dest_tag.clone()),
                label: f.plan.requested.to_string(),
            }
        })
        .collect();
    let copy_opts = CopyOptions {
        parallel_images: opts.parallel_images.max(1),
        parallel_blobs: opts.parallel_blobs.max(1),
        cancel,
        progress,
        ..CopyOptions::default()
    };
    let copied = copy_images(writer.clone() as Arc<dyn ImageDestination>, jobs, &copy_opts).await;
    if copied.cancelled() {
        return Err(Error::Cancelled);
    }
    let folded = crate::outcome::fold(&copied, &set.to_pack);
    let failed_paths: BTreeSet<(String, String)> = folded
        .failed
        .iter()
        .map(|(i, _)| (fetched[**i].plan.dest_repo.clone(), fetched[**i].plan.dest_tag.clone()))
        .collect();
    let failures: Vec<FailedImage> = folded.failed.into_iter().map(|(_, f)| f).collect();
    if !failures.is_empty() && !opts.continue_on_error {
        // The set is left unfinished on purpose: the next run resumes it.
        return Err(Error::Archive(format!(
            "{} of {} images could not be written to {}; the set is NOT complete. Fix the cause and run the same \
             command again (blobs already written are kept), or pass --continue-on-error to finish the set without them.\n  {}",
            failures.len(),
            copied.results.len(),
            dir.display(),
            failures.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n  ")
        )));
    }
    for (archive_path, file) in &req.extra_files {
        writer.add_file(archive_path, file).await?;
    }
    let mut stats = writer.finish().await?;
    if !failures.is_empty() {
        // Neither part 000000 (written before the copy, so it listed them) nor the backend may
        // count them as shipped, or the import would claim them and the next sequence would
        // never carry them: the set's metadata is corrected in place, then the backend gets the
        // same.
        drop_images(&mut next, &failed_paths);
        ferry_archive::rewrite_set_metadata(dir, seq, &next.to_json(), &mut stats.parts)?;
        left.failed.extend(failures);
    }
    req.store.write(&next).await?;
    tracing::info!(
        dir = %dir.display(),
        sequence = seq,
        parts = stats.parts.len(),
        blobs = stats.blobs_written,
        resumed = stats.blobs_resumed,
        failed = left.failed.len(),
        "image set written"
    );
    let mut r = report(true, seq, left);
    r.parts = stats.parts;
    r.blobs_written = stats.blobs_written;
    r.blob_bytes_written = stats.blob_bytes_written;
    r.blobs_resumed = stats.blobs_resumed;
    r.oversized = stats.oversized.iter().map(|(d, s)| (d.to_string(), *s)).collect();
    Ok(r)
}

/// `--strict-archive` is decided before writing anything.
fn strict_check(set: &SetPlan, fetched: &[Fetched], limit: u64, opts: &DiskOptions) -> Result<()> {
    if !opts.strict_archive {
        return Ok(());
    }
    let Some((d, s)) = set.oversized.first() else {
        return Ok(());
    };
    let img = set
        .to_pack
        .iter()
        .map(|&i| &fetched[i])
        .find(|f| super::m2d_plan::blobs_of(f).iter().any(|(b, _)| b == d))
        .map(|f| f.plan.source.exact())
        .unwrap_or_default();
    Err(Error::Archive(format!(
        "blob {d} of {img} is {s} bytes, larger than the archive size limit of {limit} bytes \
         (--strict-archive); raise archiveSize or run without --strict-archive ({} such blobs)",
        set.oversized.len()
    )))
}

/// `ferry mirror --config isc.yaml file://DIR`.
pub async fn mirror_to_disk(
    cfg: &ferry_config::ImageSetConfiguration,
    dir: &Path,
    opts: &DiskOptions,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<DiskReport> {
    let selection = ImageSelection::from_config(cfg)?;
    mirror_selection_to_disk(&selection, cfg, dir, opts, progress, cancel).await
}

/// [`mirror_to_disk`] with the selection given (release switches such as
/// `--skip-verification`, or a single release by pull spec, set on it).
pub async fn mirror_selection_to_disk(
    selection: &ImageSelection,
    cfg: &ferry_config::ImageSetConfiguration,
    dir: &Path,
    opts: &DiskOptions,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<DiskReport> {
    let client = build_client(&opts.registry, None)?;
    let mopts = MirrorOptions {
        registry: opts.registry.clone(),
        continue_on_error: opts.continue_on_error,
        skip_missing: opts.skip_missing,
        // Helm charts are downloaded to <dir>/oc-mirror-workspace/charts before packing.
        workspace: dir.join("oc-mirror-workspace"),
        ..MirrorOptions::default()
    };
    // Heads-only release channels continue from the minimum the previous run remembered.
    let previous = metadata_store(cfg, &client)?.read().await?;
    let mut remembered = crate::release::with_remembered(selection, previous.as_ref());
    // Heads-only catalogs likewise start where earlier runs started (pastMirror.operators).
    remembered.remembered_operators = crate::operators::remembered(previous.as_ref());
    let selection = &remembered;
    let plan = crate::mirror::plan(selection, &client, &mopts).await?;
    let (mut plan_failed, mut plan_skipped) = (Vec::new(), Vec::new());
    for f in &plan.failures {
        let entry = FailedImage {
            image: f.image.clone(),
            error: f.message.clone(),
        };
        if opts.skip_missing && f.code == ErrorCode::NotFound {
            plan_skipped.push(entry);
        } else {
            plan_failed.push(entry);
        }
    }
    let store = metadata_store(cfg, &client)?;
    let size = opts
        .archive_size_bytes
        .unwrap_or_else(|| cfg.archive_size.filter(|s| *s > 0).unwrap_or(DEFAULT_ARCHIVE_SIZE_GIB) * GIB);
    let mirror = serde_json::to_value(&cfg.mirror).map_err(|e| Error::Internal(format!("mirror section: {e}")))?;
    let registry_provider = |host: &str| Arc::new(client.registry(host)) as Arc<dyn ImageSource>;
    let provider = crate::operators_disk::with_layouts(&plan, &registry_provider)?;
    let mut extra_files = crate::release::stage_signatures(&plan, &dir.join("oc-mirror-workspace"))?;
    extra_files.extend(crate::helm::archive_files(&plan));
    let http = crate::release::http_options(&opts.registry);
    let workspace = dir.join("oc-mirror-workspace");
    extra_files.extend(crate::release_graph::stage_for_archive(&plan, &workspace, &http, opts.dry_run).await?);
    // Catalogs: the filtered FBC and a pointer as files, the source index image as an image.
    let staged = crate::operators_disk::stage(&plan, &dir.join("oc-mirror-workspace"))?;
    extra_files.extend(staged.files);
    let mut images = plan.images.clone();
    images.extend(staged.images);
    let req = M2dRequest {
        plan: &images,
        sources: &provider,
        dir,
        store: &store,
        mirror_section: mirror,
        archive_size_bytes: size,
        plan_failed,
        plan_skipped,
        extra_files,
        platforms: crate::release::platforms_metadata(&plan),
        operators: crate::operators::past_operators(&plan),
    };
    mirror_to_disk_with(req, opts, progress, cancel).await
}
