//! Removable media: mirror-to-disk (`ferry mirror --config isc.yaml file://DIR`), disk-to-mirror
//! (`ferry mirror --from DIR|TAR docker://host/ns`), `ferry verify` and `ferry describe`.
//!
//! Mirror-to-disk works in two passes. First every planned image's manifests are fetched (they
//! are small) to build the oc-mirror associations and the exact list of blobs with sizes; from
//! that the run knows, before writing a byte, whether anything is new ("No updates detected",
//! no tar), whether it fits on the destination (pre-flight free-space check), and whether a
//! blob is too large for `--strict-archive`. Then the copy engine streams the new blobs from
//! the registries straight into the tar parts (the [`ArchiveWriter`] is its destination).
//! The metadata backend is updated only after the set is complete, as oc-mirror does.
//!
//! Disk-to-mirror indexes the parts in place, verifies them completely (every part hash and
//! every digest-named entry) before anything is pushed, checks the sequence against the
//! target's `<ns>/oc-mirror:<uid>` metadata image, pushes with the copy engine (blobs of
//! earlier sequences come from the target itself), writes the results folder and finally the
//! target metadata image. An interrupted import run again skips what the target already holds
//! (the copy engine checks blobs and manifests before sending them).
//!
//! The `*_with` functions take transports and a plan and do the work; the plain ones build the
//! registry client and plan from an ImageSetConfiguration for the CLI and the desktop app.

use crate::mirror::{epoch_now, ImageSelection, MirrorOptions};
use crate::registry::{build_client, RegistrySettings};
use ferry_archive::{ArchiveSet, ArchiveSource, ArchiveWriter, Description, PartInfo, VerifyReport, WriterOptions};
use ferry_copy::{copy_images, CancellationToken, CopyJob, CopyOptions, ProgressSink};
use ferry_manifests::MappedImage;
use ferry_metadata::{Association, ImageBackend, LocalBackend, Metadata, TARGET_METADATA_REPO};
use ferry_plan::{PlannedImage, SourceProvider};
use ferry_types::media::ManifestView;
use ferry_types::{Destination, Digest, Error, ImageDestination, ImageRef, ImageSource, Manifest, Result};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const GIB: u64 = 1024 * 1024 * 1024;
/// oc-mirror's default when `archiveSize` is unset or 0.
pub const DEFAULT_ARCHIVE_SIZE_GIB: u64 = 500;

/// Flags of mirror-to-disk and disk-to-mirror.
#[derive(Debug, Clone)]
pub struct DiskOptions {
    pub registry: RegistrySettings,
    /// Split limit in bytes; `None` = the config's `archiveSize` GiB (default 500 GiB).
    pub archive_size_bytes: Option<u64>,
    /// `--strict-archive`: a blob larger than the split limit is an error instead of a warning.
    pub strict_archive: bool,
    /// `--ignore-history`: pack every blob, not only the ones earlier sequences did not ship.
    pub ignore_history: bool,
    /// `--skip-metadata-check`: import whatever sequence this is.
    pub skip_metadata_check: bool,
    /// Skip the full re-hash of the media before an import (structure and sizes are still
    /// checked; digests are verified during the push anyway).
    pub skip_verify: bool,
    /// Workspace for the results folder of an import (`<workspace>/results-<epoch>`).
    pub workspace: PathBuf,
    pub parallel_images: usize,
    pub parallel_blobs: usize,
    pub continue_on_error: bool,
}

impl Default for DiskOptions {
    fn default() -> Self {
        DiskOptions {
            registry: RegistrySettings::default(),
            archive_size_bytes: None,
            strict_archive: false,
            ignore_history: false,
            skip_metadata_check: false,
            skip_verify: false,
            workspace: PathBuf::from("oc-mirror-workspace"),
            parallel_images: 4,
            parallel_blobs: 6,
            continue_on_error: false,
        }
    }
}

/// Where mirror-to-disk keeps its metadata between runs.
#[derive(Clone)]
pub enum MetadataStore {
    /// `storageConfig.local.path`.
    Local(LocalBackend),
    /// `storageConfig.registry.imageURL`.
    Image(ImageBackend),
    /// No storageConfig: single-use set (`singleUse: true`), no incremental runs.
    None,
}

impl MetadataStore {
    async fn read(&self) -> Result<Option<Metadata>> {
        match self {
            MetadataStore::Local(b) => b.read(),
            MetadataStore::Image(b) => b.read().await,
            MetadataStore::None => Ok(None),
        }
    }
    async fn write(&self, md: &Metadata) -> Result<()> {
        match self {
            MetadataStore::Local(b) => b.write(md),
            MetadataStore::Image(b) => b.write(md).await.map(|_| ()),
            MetadataStore::None => Ok(()),
        }
    }
}

/// Outcome of mirror-to-disk.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskReport {
    pub dir: PathBuf,
    /// False when nothing was new ("No updates detected"): no tar written, sequence not bumped.
    pub written: bool,
    pub sequence: u32,
    pub uid: String,
    pub images: usize,
    /// Images whose manifests this set carries (the others were shipped before).
    pub images_packed: usize,
    pub parts: Vec<PartInfo>,
    pub blobs_written: u64,
    pub blob_bytes_written: u64,
    /// Blobs already written intact by an interrupted earlier run (not downloaded again).
    pub blobs_resumed: u64,
    /// Blobs skipped because an earlier sequence shipped them.
    pub blobs_from_history: usize,
    /// Blobs larger than the split limit (each got a part of its own).
    pub oversized: Vec<(String, u64)>,
    pub planned_bytes: u64,
    pub seconds: f64,
}

/// One image's manifests as fetched during planning.
struct Fetched {
    plan: PlannedImage,
    top: Manifest,
    children: Vec<Manifest>,
}

async fn fetch_tree(src: Arc<dyn ImageSource>, p: PlannedImage) -> Result<Fetched> {
    let repo = p.source.repository.clone();
    let top = src.get_manifest(&repo, &p.digest().to_string()).await?;
    let view = ManifestView::parse(&top.bytes)
        .map_err(|e| Error::Archive(format!("{}: manifest is not valid JSON: {e}", p.source.exact())))?;
    let mut children = Vec::new();
    for c in &view.manifests {
        children.push(src.get_manifest(&repo, &c.digest).await?);
    }
    Ok(Fetched { plan: p, top, children })
}

/// Blob digests and sizes an image needs.
fn blobs_of(f: &Fetched) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for m in std::iter::once(&f.top).chain(&f.children) {
        if let Ok(v) = ManifestView::parse(&m.bytes) {
            out.extend(v.blobs().map(|d| (d.digest.clone(), d.size)));
        }
    }
    out
}

/// Mirror-to-disk from a plan (see the module docs).
#[allow(clippy::too_many_arguments)]
pub async fn mirror_to_disk_with(
    plan: &[PlannedImage],
    sources: &dyn SourceProvider,
    dir: &Path,
    store: &MetadataStore,
    mirror_section: serde_json::Value,
    archive_size_bytes: u64,
    opts: &DiskOptions,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<DiskReport> {
    let started = std::time::Instant::now();
    let single_use = matches!(store, MetadataStore::None);
    let previous = store.read().await?;
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

    // Pass 1: manifests → associations and the blob list.
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
        fetched.push(
            t.await
                .map_err(|e| Error::Internal(format!("manifest fetch task: {e}")))??,
        );
    }
    let mut associations = Vec::new();
    for f in &fetched {
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
    let past: BTreeSet<String> = if opts.ignore_history {
        BTreeSet::new()
    } else {
        base.past_digests()
    };
    let past_tags: BTreeSet<(String, String, String)> = base
        .past_associations
        .iter()
        .map(|a| (a.path.clone(), a.tag_symlink.clone(), a.id.clone()))
        .collect();
    // Images to pack: anything whose manifest or tag the earlier sequences did not ship.
    let to_pack: Vec<&Fetched> = fetched
        .iter()
        .filter(|f| {
            opts.ignore_history
                || !past_tags.contains(&(
                    f.plan.dest_repo.clone(),
                    f.plan.dest_tag.clone(),
                    f.top.digest.to_string(),
                ))
        })
        .collect();
    let mut new_blobs: BTreeMap<String, u64> = BTreeMap::new();
    let mut from_history = BTreeSet::new();
    for f in &to_pack {
        for (d, size) in blobs_of(f) {
            if past.contains(&d) {
                from_history.insert(d);
            } else {
                new_blobs.insert(d, size);
            }
        }
    }
    let uid = base.uid.clone();
    if to_pack.is_empty() && new_blobs.is_empty() {
        tracing::info!("No updates detected, process stopping: every image was shipped by an earlier sequence");
        return Ok(DiskReport {
            dir: dir.to_path_buf(),
            written: false,
            sequence: base.sequence(),
            uid,
            images: plan.len(),
            images_packed: 0,
            parts: Vec::new(),
            blobs_written: 0,
            blob_bytes_written: 0,
            blobs_resumed: 0,
            blobs_from_history: from_history.len(),
            oversized: Vec::new(),
            planned_bytes: 0,
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    // --strict-archive is decided before writing anything.
    let oversized: Vec<(String, u64)> = new_blobs
        .iter()
        .filter(|(_, s)| ferry_archive::estimate_bytes([**s], 1) > archive_size_bytes)
        .map(|(d, s)| (d.clone(), *s))
        .collect();
    if opts.strict_archive {
        if let Some((d, s)) = oversized.first() {
            let img = to_pack
                .iter()
                .find(|f| blobs_of(f).iter().any(|(b, _)| b == d))
                .map(|f| f.plan.source.exact())
                .unwrap_or_default();
            return Err(Error::Archive(format!(
                "blob {d} of {img} is {s} bytes, larger than the archive size limit of {archive_size_bytes} bytes \
                 (--strict-archive); raise archiveSize or run without --strict-archive ({} such blobs)",
                oversized.len()
            )));
        }
    }

    // Pre-flight: will it fit?
    let manifest_bytes = to_pack
        .iter()
        .flat_map(|f| std::iter::once(&f.top).chain(&f.children))
        .map(|m| m.bytes.len() as u64 + 512);
    let planned = ferry_archive::estimate_bytes(new_blobs.values().copied().chain(manifest_bytes), 1)
        + new_blobs.values().sum::<u64>() / archive_size_bytes.max(1) * 1024;
    let already = ArchiveWriter::pending_bytes(dir, seq);
    let available = ferry_archive::free_space(dir)?;
    if planned.saturating_sub(already) > available {
        return Err(Error::NoSpace {
            path: dir.display().to_string(),
            needed: planned.saturating_sub(already),
            available,
        });
    }

    let next = base.next_run(epoch_now() as i64, mirror_section, associations.clone());
    let plan_key = {
        let mut key = serde_json::to_vec(&associations).expect("json");
        key.extend_from_slice(format!("|{seq}|{}|{archive_size_bytes}", opts.ignore_history).as_bytes());
        Digest::of(&key).to_string()
    };
    let writer = Arc::new(ArchiveWriter::create(WriterOptions {
        dir: dir.to_path_buf(),
        sequence: seq,
        uid: uid.clone(),
        max_part_bytes: archive_size_bytes,
        strict: opts.strict_archive,
        metadata_json: next.to_json(),
        plan_key,
        skip_digests: past.iter().cloned().collect(),
    })?);
    // A resumed set keeps the metadata it started with (same sequence and images; only the
    // timestamp can differ), so the backend gets exactly what part 000000 holds.
    let next = Metadata::parse(writer.metadata_json(), "resumed set metadata")?;

    let jobs: Vec<CopyJob> = to_pack
        .iter()
        .map(|f| CopyJob {
            source_repo: f.plan.source.repository.clone(),
            source_ref: f.top.digest.to_string(),
            source: sources.source(&f.plan.source.registry),
            dest_repo: f.plan.dest_repo.clone(),
            dest_tag: Some(f.plan.dest_tag.clone()),
            label: f.plan.requested.to_string(),
        })
        .collect();
    let copy_opts = CopyOptions {
        parallel_images: opts.parallel_images.max(1),
        parallel_blobs: opts.parallel_blobs.max(1),
        cancel,
        progress,
        ..CopyOptions::default()
    };
    let report = copy_images(writer.clone() as Arc<dyn ImageDestination>, jobs, &copy_opts).await;
    if report.cancelled() {
        return Err(Error::Cancelled);
    }
    let failures: Vec<String> = report
        .failed()
        .map(|r| {
            format!(
                "{}: {}",
                r.label,
                r.outcome.as_ref().err().map(|e| e.to_string()).unwrap_or_default()
            )
        })
        .collect();
    if !failures.is_empty() {
        // The set is left unfinished on purpose: the next run resumes it.
        return Err(Error::Archive(format!(
            "{} of {} images could not be written to {}; the set is NOT complete. Fix the cause and run the same \
             command again: blobs already written are kept.\n  {}",
            failures.len(),
            report.results.len(),
            dir.display(),
            failures.join("\n  ")
        )));
    }
    let stats = writer.finish().await?;
    store.write(&next).await?;
    tracing::info!(
        dir = %dir.display(),
        sequence = seq,
        parts = stats.parts.len(),
        blobs = stats.blobs_written,
        resumed = stats.blobs_resumed,
        "image set written"
    );
    Ok(DiskReport {
        dir: dir.to_path_buf(),
        written: true,
        sequence: seq,
        uid,
        images: plan.len(),
        images_packed: to_pack.len(),
        parts: stats.parts,
        blobs_written: stats.blobs_written,
        blob_bytes_written: stats.blob_bytes_written,
        blobs_resumed: stats.blobs_resumed,
        blobs_from_history: from_history.len(),
        oversized: stats.oversized.iter().map(|(d, s)| (d.to_string(), *s)).collect(),
        planned_bytes: planned,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The metadata store an ImageSetConfiguration asks for.
pub fn metadata_store(
    cfg: &ferry_config::ImageSetConfiguration,
    client: &ferry_registry::RegistryClient,
) -> Result<MetadataStore> {
    let Some(sc) = &cfg.storage_config else {
        return Ok(MetadataStore::None);
    };
    if let Some(local) = &sc.local {
        let path = if local.path.is_empty() {
            ".".to_string()
        } else {
            local.path.clone()
        };
        return Ok(MetadataStore::Local(LocalBackend::new(path)));
    }
    if let Some(reg) = &sc.registry {
        let r = ImageRef::parse(&reg.image_url).map_err(|e| {
            Error::InvalidConfig(format!("storageConfig.registry.imageURL {:?}: {}", e.input, e.reason))
        })?;
        let handle = Arc::new(client.registry(&r.registry));
        return Ok(MetadataStore::Image(ImageBackend {
            source: handle.clone(),
            dest: handle,
            repo: r.repository.clone(),
            tag: r.tag.clone().unwrap_or_else(|| "latest".into()),
        }));
    }
    Ok(MetadataStore::None)
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
    let client = build_client(&opts.registry, None)?;
    let mopts = MirrorOptions {
        registry: opts.registry.clone(),
        continue_on_error: opts.continue_on_error,
        ..MirrorOptions::default()
    };
    let plan = crate::mirror::plan(&selection, &client, &mopts).await?;
    let store = metadata_store(cfg, &client)?;
    let size = opts
        .archive_size_bytes
        .unwrap_or_else(|| cfg.archive_size.filter(|s| *s > 0).unwrap_or(DEFAULT_ARCHIVE_SIZE_GIB) * GIB);
    let mirror = serde_json::to_value(&cfg.mirror).map_err(|e| Error::Internal(format!("mirror section: {e}")))?;
    let provider = |host: &str| Arc::new(client.registry(host)) as Arc<dyn ImageSource>;
    mirror_to_disk_with(
        &plan.images,
        &provider,
        dir,
        &store,
        mirror,
        size,
        opts,
        progress,
        cancel,
    )
    .await
}

/// Outcome of disk-to-mirror.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub sequence: u32,
    pub uid: String,
    pub images: usize,
    pub images_pushed: usize,
    pub images_up_to_date: usize,
    pub bytes_copied: u64,
    pub blobs_copied: u64,
    pub blobs_skipped: u64,
    pub results_dir: PathBuf,
    pub verify: Option<VerifyReport>,
    /// Digest of the pushed `<ns>/oc-mirror:<uid>` metadata image (None for single-use sets).
    pub metadata_image: Option<String>,
    pub seconds: f64,
}

fn ns_prefix(namespace: Option<&str>) -> String {
    namespace
        .map(|n| format!("{}/", n.trim_matches('/')))
        .unwrap_or_default()
}

/// Disk-to-mirror into `registry` (`namespace` prepended) through the given transports.
#[allow(clippy::too_many_arguments)]
pub async fn disk_to_mirror_with(
    from: &Path,
    target_src: Arc<dyn ImageSource>,
    target_dst: Arc<dyn ImageDestination>,
    registry: &str,
    namespace: Option<&str>,
    opts: &DiskOptions,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<ImportReport> {
    let started = std::time::Instant::now();
    let set = Arc::new(ArchiveSet::open(from)?);
    let md = set.metadata.clone().ok_or_else(|| {
        Error::Archive(format!(
            "{}: no {} in the image set; it is not a mirror-to-disk archive (or part 000000 is missing)",
            from.display(),
            ferry_metadata::METADATA_PATH
        ))
    })?;
    let seq = md.sequence();
    let verify = if opts.skip_verify {
        None
    } else {
        Some(ferry_archive::verify_set(&set)?)
    };
    let prefix = ns_prefix(namespace);
    let meta_repo = format!("{prefix}{TARGET_METADATA_REPO}");
    let target_meta = ImageBackend {
        source: target_src.clone(),
        dest: target_dst.clone(),
        repo: meta_repo.clone(),
        tag: md.uid.clone(),
    };
    let current = if md.single_use { None } else { target_meta.read().await? };
    if !md.single_use && !opts.skip_metadata_check {
        let want = current.as_ref().map(|c| c.sequence() + 1).unwrap_or(1);
        if seq != want {
            let holds = match &current {
                Some(c) => format!("it holds sequence {} of this workspace", c.sequence()),
                None => "it holds no sequence of this workspace yet".into(),
            };
            let how = if seq > want {
                format!("import mirror_seq{want}_*.tar first, then this one")
            } else {
                "this set was already imported; import the next sequence instead".into()
            };
            return Err(Error::Sequence(format!(
                "{}: invalid mirror sequence order: the target {registry}/{meta_repo}:{} expects sequence {want} next, \
                 this image set is sequence {seq} ({holds}). {how}. If the target already holds everything this set \
                 needs, run again with --skip-metadata-check; to start over, create a full set with --ignore-history \
                 and import it with --skip-metadata-check",
                from.display(),
                md.uid
            )));
        }
    }

    let source: Arc<dyn ImageSource> =
        Arc::new(ArchiveSource::new(set.clone()).with_fallback(target_src.clone(), prefix.clone(), current.clone()));
    // Images whose manifests this set carries; the others were shipped by earlier sequences.
    let tops: Vec<&Association> = md.past_mirror.associations.iter().filter(|a| !a.is_child()).collect();
    let mut jobs = Vec::new();
    let mut mapped = Vec::new();
    for a in &tops {
        let reference = if !a.tag_symlink.is_empty() {
            a.tag_symlink.clone()
        } else {
            a.id.clone()
        };
        let in_set = set.resolve(&format!("v2/{}/manifests/{reference}", a.path)).is_some()
            || set.resolve(&format!("v2/{}/manifests/{}", a.path, a.id)).is_some();
        if !in_set {
            continue;
        }
        let source_ref = if set.resolve(&format!("v2/{}/manifests/{}", a.path, a.id)).is_some() {
            a.id.clone()
        } else {
            reference.clone()
        };
        jobs.push(CopyJob {
            source_repo: a.path.clone(),
            source_ref,
            source: source.clone(),
            dest_repo: format!("{prefix}{}", a.path),
            dest_tag: (!a.tag_symlink.is_empty()).then(|| a.tag_symlink.clone()),
            label: a.name.clone(),
        });
        let src_ref = ImageRef::parse(&a.name).unwrap_or_else(|_| ImageRef {
            registry: "unknown".into(),
            repository: a.path.clone(),
            tag: None,
            digest: Digest::parse(&a.id).ok(),
        });
        mapped.push(MappedImage {
            source: src_ref,
            dest: ImageRef {
                registry: registry.to_string(),
                repository: format!("{prefix}{}", a.path),
                tag: (!a.tag_symlink.is_empty()).then(|| a.tag_symlink.clone()),
                digest: Digest::parse(&a.id).ok(),
            },
            kind: a.kind,
        });
    }
    let copy_opts = CopyOptions {
        parallel_images: opts.parallel_images.max(1),
        parallel_blobs: opts.parallel_blobs.max(1),
        cancel,
        progress,
        ..CopyOptions::default()
    };
    let report = copy_images(target_dst.clone(), jobs, &copy_opts).await;
    if report.cancelled() {
        return Err(Error::Cancelled);
    }
    let mut done = Vec::new();
    let mut failures = Vec::new();
    let (mut pushed, mut up_to_date) = (0, 0);
    for (r, m) in report.results.iter().zip(mapped) {
        match &r.outcome {
            Ok(_) => {
                if r.up_to_date {
                    up_to_date += 1;
                } else {
                    pushed += 1;
                }
                done.push(m);
            }
            Err(e) => failures.push(format!("{}: {e}", r.label)),
        }
    }
    let results_dir = ferry_manifests::write_results(&opts.workspace, epoch_now(), &done)
        .map_err(|e| Error::io(opts.workspace.display(), e))?;
    if !failures.is_empty() && !opts.continue_on_error {
        return Err(Error::Archive(format!(
            "{} of {} images of {} could not be pushed to {registry} (the sequence was NOT recorded in the target; \
             run the same import again to finish, images already pushed are skipped):\n  {}",
            failures.len(),
            report.results.len(),
            from.display(),
            failures.join("\n  ")
        )));
    }
    let metadata_image = if md.single_use || !failures.is_empty() {
        None
    } else {
        Some(target_meta.write(&md).await?.to_string())
    };
    Ok(ImportReport {
        sequence: seq,
        uid: md.uid.clone(),
        images: tops.len(),
        images_pushed: pushed,
        images_up_to_date: up_to_date,
        bytes_copied: report.bytes_copied,
        blobs_copied: report.blobs_copied,
        blobs_skipped: report.blobs_skipped,
        results_dir,
        verify,
        metadata_image,
        seconds: started.elapsed().as_secs_f64(),
    })
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
    let client = build_client(&opts.registry, Some(registry))?;
    let prefix = ns_prefix(namespace.as_deref());
    client
        .check_push_permission(registry, &format!("{prefix}{TARGET_METADATA_REPO}"))
        .await?;
    let target = Arc::new(client.registry(registry));
    disk_to_mirror_with(
        from,
        target.clone(),
        target,
        registry,
        namespace.as_deref(),
        opts,
        progress,
        cancel,
    )
    .await
}

/// `ferry verify DIR|TAR`: every part present and intact, every entry's digest right.
pub fn verify(path: &Path) -> Result<VerifyReport> {
    let set = ArchiveSet::open(path)?;
    ferry_archive::verify_set(&set)
}

/// `ferry describe DIR|TAR` (Ferry's sets and oc-mirror's own archives).
pub fn describe(path: &Path) -> Result<Description> {
    ferry_archive::describe(path)
}
