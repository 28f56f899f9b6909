//! Mirror-to-mirror and dry runs: plan the image set, copy it registry to registry with the
//! streaming engine, and write the results folder (`mapping.txt`, ICSP, IDMS, ITMS).
//!
//! The run is all-or-nothing per image: the results list only images that are complete in the
//! destination, and any failed image makes the run fail (non-zero exit), naming each image.

use crate::registry::{build_client, RegistrySettings};
use ferry_copy::{copy_images, CancellationToken, CopyJob, CopyOptions, CopyReport, ProgressSink};
use ferry_manifests::MappedImage;
use ferry_plan::{BlockList, Plan, PlanPolicy, PlannedImage};
use ferry_registry::RegistryClient;
use ferry_types::{Destination, Error, ImageRef, ImageSource, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a mirror run is asked to do (the CLI's flags and the desktop app's form map onto this).
#[derive(Debug, Clone)]
pub struct MirrorOptions {
    pub registry: RegistrySettings,
    /// Workspace folder; results go to `<workspace>/results-<epoch>/` (oc-mirror's `--dir`).
    pub workspace: PathBuf,
    pub dry_run: bool,
    pub continue_on_error: bool,
    pub skip_missing: bool,
    /// Images copied at once (blobs at once is twice that); registry requests are further
    /// bounded per host by `registry.max_per_registry`.
    pub parallel_images: usize,
}

impl Default for MirrorOptions {
    fn default() -> Self {
        MirrorOptions {
            registry: RegistrySettings::default(),
            workspace: PathBuf::from("oc-mirror-workspace"),
            dry_run: false,
            continue_on_error: false,
            skip_missing: false,
            parallel_images: 4,
        }
    }
}

/// The image lists a plan is built from, taken out of an ImageSetConfiguration.
#[derive(Debug, Clone, Default)]
pub struct ImageSelection {
    pub additional: Vec<String>,
    pub blocked: Vec<String>,
}

impl ImageSelection {
    /// Extract what this version can plan. Sections whose planners are not built yet
    /// (releases, operator catalogs, helm charts) are refused with a clear message rather than
    /// silently skipped: a mirror that quietly leaves out half the set is worse than an error.
    pub fn from_config(cfg: &ferry_config::ImageSetConfiguration) -> Result<Self> {
        let m = &cfg.mirror;
        let mut unsupported = Vec::new();
        if m.platform
            .as_ref()
            .is_some_and(|p| !p.channels.is_empty() || p.graph.unwrap_or(false))
        {
            unsupported.push("mirror.platform (release payloads)");
        }
        if !m.operators.is_empty() {
            unsupported.push("mirror.operators (operator catalogs)");
        }
        if m.helm
            .as_ref()
            .is_some_and(|h| !h.local.is_empty() || !h.repositories.is_empty())
        {
            unsupported.push("mirror.helm (charts)");
        }
        if !unsupported.is_empty() {
            return Err(Error::InvalidConfig(format!(
                "this Ferry build plans additionalImages and blockedImages only; not yet supported: {}. \
                 Remove those sections (or mirror them with oc-mirror) and run again",
                unsupported.join(", ")
            )));
        }
        Ok(ImageSelection {
            additional: m.additional_images.iter().map(|i| i.name.clone()).collect(),
            blocked: m.blocked_images.iter().map(|i| i.name.clone()).collect(),
        })
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MirrorReport {
    pub plan: Plan,
    /// `<workspace>/results-<epoch>` (or the dry-run mapping file's folder).
    pub results_dir: PathBuf,
    pub mapping_file: PathBuf,
    pub images_copied: usize,
    pub images_up_to_date: usize,
    pub bytes_copied: u64,
    pub blobs_copied: u64,
    pub blobs_skipped: u64,
    pub seconds: f64,
}

/// Source transports per registry host, all sharing one client (one token cache, one set of
/// per-host limits).
pub(crate) fn source_provider(client: &RegistryClient) -> impl Fn(&str) -> Arc<dyn ImageSource> + Send + Sync + '_ {
    move |host: &str| Arc::new(client.registry(host)) as Arc<dyn ImageSource>
}

/// Plan the image set against the source registries (tags resolved to digests).
pub async fn plan(selection: &ImageSelection, client: &RegistryClient, opts: &MirrorOptions) -> Result<Plan> {
    let blocked = BlockList::new(&selection.blocked)?;
    let policy = PlanPolicy {
        skip_missing: opts.skip_missing,
        continue_on_error: opts.continue_on_error,
        parallel: opts.registry.max_per_registry.max(1),
    };
    let provider = source_provider(client);
    ferry_plan::plan_additional(&selection.additional, &blocked, &provider, policy).await
}

/// The destination reference of a planned image under `registry/namespace`.
pub fn destination_ref(img: &PlannedImage, registry: &str, namespace: Option<&str>) -> ImageRef {
    let repository = match namespace {
        Some(ns) => format!("{ns}/{}", img.dest_repo),
        None => img.dest_repo.clone(),
    };
    ImageRef {
        registry: registry.to_string(),
        repository,
        tag: Some(img.dest_tag.clone()),
        digest: Some(img.digest().clone()),
    }
}

fn mapped(plan: &Plan, registry: &str, namespace: Option<&str>) -> Vec<MappedImage> {
    plan.images
        .iter()
        .map(|i| MappedImage {
            source: i.source.clone(),
            dest: destination_ref(i, registry, namespace),
            kind: i.kind,
        })
        .collect()
}

pub(crate) fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn io_err(p: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::io(p.display(), e)
}

/// Mirror-to-mirror (`ferry mirror --config isc.yaml docker://host/ns`), or with `dry_run` only
/// the plan and `<workspace>/mapping.txt`.
pub async fn mirror_to_mirror(
    selection: &ImageSelection,
    destination: &Destination,
    opts: &MirrorOptions,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<MirrorReport> {
    let started = std::time::Instant::now();
    let Destination::Registry { registry, namespace } = destination else {
        return Err(Error::Internal("mirror_to_mirror needs a docker:// destination".into()));
    };
    let client = build_client(&opts.registry, Some(registry))?;
    let plan = plan(selection, &client, opts).await?;
    let images = mapped(&plan, registry, namespace.as_deref());
    std::fs::create_dir_all(&opts.workspace).map_err(io_err(&opts.workspace))?;

    if opts.dry_run {
        let mapping_file = opts.workspace.join("mapping.txt");
        std::fs::write(&mapping_file, ferry_manifests::mapping_txt(&images)).map_err(io_err(&mapping_file))?;
        tracing::info!(images = images.len(), file = %mapping_file.display(), "dry run: mapping written, nothing copied");
        return Ok(MirrorReport {
            plan,
            results_dir: opts.workspace.clone(),
            mapping_file,
            images_copied: 0,
            images_up_to_date: 0,
            bytes_copied: 0,
            blobs_copied: 0,
            blobs_skipped: 0,
            seconds: started.elapsed().as_secs_f64(),
        });
    }

    // oc-mirror probes push permission before any transfer, so a read-only account fails in
    // seconds instead of after hours of downloads.
    let probe_repo = match namespace {
        Some(ns) => format!("{ns}/oc-mirror"),
        None => "oc-mirror".to_string(),
    };
    client.check_push_permission(registry, &probe_repo).await?;

    let dest = Arc::new(client.registry(registry));
    let jobs: Vec<CopyJob> = plan
        .images
        .iter()
        .zip(&images)
        .map(|(p, m)| CopyJob {
            source_repo: p.source.repository.clone(),
            source_ref: p.digest().to_string(),
            source: Arc::new(client.registry(&p.source.registry)),
            dest_repo: m.dest.repository.clone(),
            dest_tag: Some(p.dest_tag.clone()),
            label: p.requested.to_string(),
        })
        .collect();
    let copy_opts = CopyOptions {
        parallel_images: opts.parallel_images.max(1),
        parallel_blobs: (opts.registry.max_per_registry).max(1),
        cancel,
        progress,
        ..CopyOptions::default()
    };
    let report = copy_images(dest, jobs, &copy_opts).await;
    finish(plan, images, report, opts, started)
}

/// Turn a copy report into results: only complete images go into the results folder; any
/// failure fails the run with every failed image named.
fn finish(
    plan: Plan,
    images: Vec<MappedImage>,
    report: CopyReport,
    opts: &MirrorOptions,
    started: std::time::Instant,
) -> Result<MirrorReport> {
    if report.cancelled() {
        return Err(Error::Cancelled);
    }
    let mut done = Vec::new();
    let mut failures = Vec::new();
    let (mut copied, mut up_to_date) = (0, 0);
    for (r, m) in report.results.iter().zip(images) {
        match &r.outcome {
            Ok(_) => {
                if r.up_to_date {
                    up_to_date += 1;
                } else {
                    copied += 1;
                }
                done.push(m);
            }
            Err(e) => failures.push(format!("{}: {e}", r.label)),
        }
    }
    let results_dir =
        ferry_manifests::write_results(&opts.workspace, epoch_now(), &done).map_err(io_err(&opts.workspace))?;
    let mapping_file = results_dir.join("mapping.txt");
    tracing::info!(dir = %results_dir.display(), images = done.len(), "results written");
    if !failures.is_empty() && !opts.continue_on_error {
        return Err(Error::Internal(format!(
            "{} of {} images failed (the results in {} list only the {} complete ones):\n  {}",
            failures.len(),
            report.results.len(),
            results_dir.display(),
            done.len(),
            failures.join("\n  ")
        )));
    }
    for f in &failures {
        tracing::warn!("continuing after error: {f}");
    }
    Ok(MirrorReport {
        plan,
        results_dir,
        mapping_file,
        images_copied: copied,
        images_up_to_date: up_to_date,
        bytes_copied: report.bytes_copied,
        blobs_copied: report.blobs_copied,
        blobs_skipped: report.blobs_skipped,
        seconds: started.elapsed().as_secs_f64(),
    })
}
