//! Mirror-to-mirror and dry runs: plan the image set, copy it registry to registry with the
//! streaming engine, and write the results folder (`mapping.txt`, ICSP, IDMS, ITMS).
//!
//! The run is all-or-nothing per image: the results list only images that are complete in the
//! destination, and any failed image makes the run fail (non-zero exit), naming each image.

use crate::m2m_metadata::{associations_in_target, full_path, RunMetadata};
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
    /// The image set's `storageConfig`: where the workspace metadata lives. `None` = a
    /// single-use run (no metadata read or written, no sequence check), as in oc-mirror.
    pub storage: Option<ferry_config::StorageConfig>,
    /// The image set's `mirror` section, recorded as `pastMirror.mirror`.
    pub mirror_section: serde_json::Value,
    /// `--ignore-history`: copy every planned image, also those earlier runs mirrored.
    pub ignore_history: bool,
    /// `--skip-metadata-check`: run whatever sequence the target copy of the metadata expects.
    pub skip_metadata_check: bool,
    /// `--prune`: delete what the pruning plan lists (by default the plan is only shown and
    /// written to `pruning-plan.json`; see [`crate::prune`]).
    pub prune: bool,
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
            storage: None,
            mirror_section: serde_json::Value::Null,
            ignore_history: false,
            skip_metadata_check: false,
            prune: false,
        }
    }
}

impl MirrorOptions {
    /// Take `storageConfig` and the `mirror` section from the image set.
    pub fn with_config(mut self, cfg: &ferry_config::ImageSetConfiguration) -> Self {
        self.storage = cfg.storage_config.clone();
        self.mirror_section = serde_json::to_value(&cfg.mirror).unwrap_or(serde_json::Value::Null);
        self
    }
}

/// The image lists a plan is built from, taken out of an ImageSetConfiguration.
#[derive(Debug, Clone, Default)]
pub struct ImageSelection {
    pub additional: Vec<String>,
    pub blocked: Vec<String>,
    /// `mirror.platform` (OpenShift releases), planned by [`crate::release`].
    pub platform: Option<ferry_config::Platform>,
    /// Release switches (`--skip-verification`, heads-only memory).
    pub release: crate::release::ReleaseOptions,
    /// `mirror.helm` (charts), planned by [`crate::helm`].
    pub helm: Option<ferry_config::Helm>,
    /// `mirror.operators` (catalogs), planned and rebuilt by [`crate::operators`].
    pub operators: Vec<ferry_config::Operator>,
    /// `--skip-image-pin`: tag references stay tags in the rebuilt catalogs.
    pub skip_image_pin: bool,
    /// Heads-only catalog starts earlier runs recorded (`pastMirror.operators`), see
    /// [`crate::operators::remembered`].
    pub remembered_operators: ferry_plan::operators_remember::Remembered,
}

impl ImageSelection {
    /// Take every section a planner handles out of the configuration. What a planner cannot do
    /// in this build is refused by that planner with a message naming the section, never
    /// silently skipped: a mirror that quietly leaves out half the set is worse than an error.
    pub fn from_config(cfg: &ferry_config::ImageSetConfiguration) -> Result<Self> {
        let m = &cfg.mirror;
        Ok(ImageSelection {
            additional: m.additional_images.iter().map(|i| i.name.clone()).collect(),
            blocked: m.blocked_images.iter().map(|i| i.name.clone()).collect(),
            platform: m.platform.clone(),
            release: Default::default(),
            helm: m
                .helm
                .clone()
                .filter(|h| !h.local.is_empty() || !h.repositories.is_empty()),
            operators: m.operators.clone(),
            skip_image_pin: false,
            remembered_operators: Default::default(),
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
    /// Images earlier runs of this workspace mirrored (per `pastAssociations`), not copied
    /// again (0 with `--ignore-history` or without a `storageConfig`).
    pub images_from_history: usize,
    /// The sequence recorded (for a dry run: the one a real run would record); `None` for a
    /// single-use run without `storageConfig`.
    pub sequence: Option<u32>,
    pub uid: Option<String>,
    /// Digest of the `<ns>/oc-mirror:<uid>` metadata image written to the target.
    pub metadata_image: Option<String>,
    /// Images that failed under `--continue-on-error` (otherwise the run fails).
    pub failed: Vec<crate::disk::FailedImage>,
    /// The pruning plan against the target's recorded associations and what was deleted
    /// (`None` for a single-use run without `storageConfig`: nothing is recorded to prune by).
    pub prune: Option<crate::prune::PruneReport>,
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
    // Chart images are planned as additional images (generic kind), after the charts are read.
    let mut additional = selection.additional.clone();
    let mut charts = Vec::new();
    if let Some(h) = &selection.helm {
        let (c, names) = crate::helm::plan_charts(h, client, opts).await?;
        additional.extend(names);
        charts = c;
    }
    let mut plan = ferry_plan::plan_additional(&additional, &blocked, &provider, policy).await?;
    // What the chart scan could not resolve is shown, not fatal (with how to add it by hand).
    for c in &charts {
        plan.notes.extend(c.unresolved_help());
        plan.notes
            .extend(c.notes.iter().map(|n| format!("chart {} {}: {n}", c.name, c.version)));
    }
    plan.charts = charts;
    if let Some(platform) = &selection.platform {
        let part = crate::release::plan_platform(platform, &selection.release, &opts.registry, &provider).await?;
        crate::release::merge(&mut plan, part);
    }
    if !selection.operators.is_empty() {
        crate::operators::plan_into(
            &mut plan,
            &selection.operators,
            selection.skip_image_pin,
            &provider,
            &blocked,
            policy,
            &selection.remembered_operators,
        )
        .await?;
    }
    Ok(plan)
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
/// the plan and `<workspace>/mapping.txt`. With a `storageConfig` the workspace metadata is
/// read first (sequence checked against the target's copy, images mirrored before left out)
/// and recorded after the copy, also in the target as `<ns>/oc-mirror:<uid>` (see
/// [`crate::m2m_metadata`]). A dry run reads and checks the metadata but writes none.
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
    let settings = opts.registry.clone().with_storage(opts.storage.as_ref());
    let client = build_client(&settings, Some(registry))?;
    let meta = RunMetadata::open(
        opts.storage.as_ref(),
        &client,
        registry,
        namespace.as_deref(),
        opts.skip_metadata_check,
    )
    .await?;
    // Heads-only release channels continue from the minimum the previous run remembered.
    let mut remembered = crate::release::with_remembered(selection, meta.as_ref().map(|m| &m.base));
    // Heads-only catalogs likewise start where earlier runs started (pastMirror.operators).
    remembered.remembered_operators = crate::operators::remembered(meta.as_ref().map(|m| &m.base));
    let selection = &remembered;
    let plan = plan(selection, &client, opts).await?;
    let images = mapped(&plan, registry, namespace.as_deref());
    // Images this workspace already mirrored (same destination, tag and digest) are not copied
    // again, as oc-mirror's removePreviouslyMirrored; --ignore-history copies everything.
    let mirrored = match &meta {
        Some(m) if !opts.ignore_history => m.mirrored(),
        _ => Default::default(),
    };
    let (to_copy, from_history): (Vec<_>, Vec<_>) = plan.images.iter().cloned().zip(images).partition(|(_, m)| {
        let key = (
            full_path(registry, &m.dest.repository),
            m.dest.tag.clone().unwrap_or_default(),
            m.dest.digest.as_ref().map(|d| d.to_string()).unwrap_or_default(),
        );
        !mirrored.contains(&key)
    });
    std::fs::create_dir_all(&opts.workspace).map_err(io_err(&opts.workspace))?;

    if opts.dry_run {
        let mapping_file = opts.workspace.join("mapping.txt");
        let copy: Vec<MappedImage> = to_copy.iter().map(|(_, m)| m.clone()).collect();
        std::fs::write(&mapping_file, ferry_manifests::mapping_txt(&copy)).map_err(io_err(&mapping_file))?;
        tracing::info!(images = copy.len(), from_history = from_history.len(), file = %mapping_file.display(), "dry run: mapping written, nothing copied");
        let all: Vec<_> = to_copy.iter().chain(&from_history).cloned().collect();
        let prune =
            crate::prune::m2m_dry_run(meta.as_ref(), &all, &client, registry, prune_request(opts, None)).await?;
        return Ok(MirrorReport {
            prune,
            results_dir: opts.workspace.clone(),
            mapping_file,
            images_copied: 0,
            images_up_to_date: 0,
            bytes_copied: 0,
            blobs_copied: 0,
            blobs_skipped: 0,
            images_from_history: from_history.len(),
            sequence: meta.as_ref().map(|m| m.sequence),
            uid: meta.as_ref().map(|m| m.base.uid.clone()),
            metadata_image: None,
            failed: Vec::new(),
            seconds: started.elapsed().as_secs_f64(),
            plan,
        });
    }

    // oc-mirror probes push permission before any transfer, so a read-only account fails in
    // seconds instead of after hours of downloads.
    let probe_repo = match namespace {
        Some(ns) => format!("{ns}/oc-mirror"),
        None => "oc-mirror".to_string(),
    };
    client.check_push_permission(registry, &probe_repo).await?;
    // graph: true: the graph data is fetched before anything is copied.
    let mut plan = plan;
    crate::release_graph::m2m_download(
        &mut plan,
        &opts.workspace,
        &crate::release::http_options(&opts.registry),
    )
    .await?;

    let dest = Arc::new(client.registry(registry));
    let jobs: Vec<CopyJob> = to_copy
        .iter()
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
        // Layers earlier runs put in the target are mounted from there (paths are `registry/repo`).
        mount_from: Arc::new(crate::disk::blob_locations(
            meta.iter().flat_map(|m| &m.base.past_associations),
            |path| path.strip_prefix(&format!("{registry}/")).map(str::to_string),
        )),
        ..CopyOptions::default()
    };
    let report = copy_images(dest.clone(), jobs, &copy_opts).await;
    // A catalog goes to the target only once every image it names is there.
    let mut catalogs = Vec::new();
    if !plan.catalogs.is_empty() && !report.cancelled() {
        if report.results.iter().all(|r| r.outcome.is_ok()) {
            let sources = source_provider(&client);
            let digests = crate::operators::push_catalogs(
                &plan,
                &sources,
                dest.as_ref(),
                namespace.as_deref(),
                &opts.workspace.join("catalogs"),
            )
            .await?;
            // Recorded as operatorCatalog associations (so pruning sees the rebuilt images).
            for (pc, d) in plan.catalogs.iter().zip(digests) {
                let repo = crate::operators::target_repo(pc, namespace.as_deref());
                catalogs.push((pc.source.exact(), repo, pc.target_tag.clone(), d));
            }
        } else {
            for c in std::mem::take(&mut plan.catalogs) {
                plan.notes.push(format!(
                    "catalog {} was not pushed: some of its images failed to copy",
                    c.catalog
                ));
            }
        }
    }
    // graph: true: the graph-data image goes on the base image now in the target.
    if !report.cancelled() {
        crate::release_graph::m2m_push(
            &mut plan,
            dest.as_ref(),
            registry,
            namespace.as_deref(),
            &opts.workspace,
        )
        .await?;
    }
    let run = Run {
        registry,
        namespace: namespace.as_deref(),
        dest: dest as Arc<dyn ImageSource>,
        meta: meta.as_ref(),
        to_copy,
        from_history,
        target: client.registry(registry),
        catalogs,
    };
    finish(plan, run, report, opts, started).await
}

/// What a copy was started with, for [`finish`].
struct Run<'a> {
    registry: &'a str,
    namespace: Option<&'a str>,
    dest: Arc<dyn ImageSource>,
    meta: Option<&'a RunMetadata>,
    to_copy: Vec<(PlannedImage, MappedImage)>,
    from_history: Vec<(PlannedImage, MappedImage)>,
    /// The target, for pruning's DELETEs.
    target: ferry_registry::Registry,
    /// Rebuilt catalogs pushed: (source pin, repository, tag, digest).
    catalogs: Vec<(String, String, String, ferry_types::Digest)>,
}

fn prune_request(opts: &MirrorOptions, hold: Option<String>) -> crate::prune::PruneRequest<'_> {
    crate::prune::PruneRequest {
        workspace: &opts.workspace,
        prune: opts.prune,
        dry_run: opts.dry_run,
        hold,
        parallel: opts.registry.max_per_registry,
    }
}

/// Turn a copy report into results and metadata: only complete images are recorded; any
/// failure fails the run with every failed image named (unless `--continue-on-error`, which
/// records what is complete and lists the rest).
async fn finish(
    plan: Plan,
    run: Run<'_>,
    report: CopyReport,
    opts: &MirrorOptions,
    started: std::time::Instant,
) -> Result<MirrorReport> {
    if report.cancelled() {
        return Err(Error::Cancelled);
    }
    let mut done = Vec::new();
    let mut associations = Vec::new();
    let folded = crate::outcome::fold(&report, &run.to_copy);
    let (copied, up_to_date) = (folded.copied, folded.up_to_date);
    for (p, m) in folded.done {
        if run.meta.is_some() {
            let digest = p.digest().to_string();
            associations.extend(
                associations_in_target(
                    &run.dest,
                    &p.source.exact(),
                    run.registry,
                    &m.dest.repository,
                    &p.dest_tag,
                    p.kind,
                    &digest,
                )
                .await?,
            );
        }
        done.push(m.clone());
    }
    let failures: Vec<crate::disk::FailedImage> = folded.failed.into_iter().map(|(_, f)| f).collect();
    if !failures.is_empty() && !opts.continue_on_error {
        return Err(Error::Internal(format!(
            "{} of {} images failed; nothing was recorded (no results, metadata unchanged). Fix the cause and run \
             again (complete images are skipped), or pass --continue-on-error to record the complete ones:\n  {}",
            failures.len(),
            report.results.len(),
            failures.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n  ")
        )));
    }
    for (_, m) in &run.from_history {
        done.push(m.clone());
    }
    let (mut sequence, mut uid, mut metadata_image, mut earlier) = (None, None, None, Vec::new());
    let mut prune: Option<crate::prune::PruneReport> = None;
    if let Some(meta) = run.meta {
        for (_, m) in &run.from_history {
            let digest = m.dest.digest.as_ref().map(|d| d.to_string()).unwrap_or_default();
            let tag = m.dest.tag.clone().unwrap_or_default();
            associations.extend(meta.kept(&full_path(run.registry, &m.dest.repository), &tag, &digest));
        }
        let full = |repo: &str| full_path(run.registry, repo);
        associations.extend(crate::operators::catalog_associations(run.dest.as_ref(), &run.catalogs, &full).await?);
        let prefix = crate::disk::ns_prefix(run.namespace);
        if let Some(c) = &meta.current {
            earlier = crate::disk::results::mapped_from_associations(&c.past_associations, run.registry, &prefix);
        }
        // Pruning runs before the metadata is recorded: if it stops half-way, the target copy
        // still lists what is left and the next run plans it again (a 404 counts as done).
        let hold = crate::prune::hold_reason(failures.len(), plan.failures.len());
        let pruned = crate::prune::m2m(
            meta.current.as_ref(),
            &associations,
            &run.target,
            prune_request(opts, hold),
        )
        .await?;
        // What was not deleted stays recorded, so a later --prune still finds it.
        associations.extend(pruned.associations_left(&crate::prune::m2m_repo(run.registry)));
        prune = Some(pruned);
        let (md, digest) = meta
            .record(
                epoch_now() as i64,
                opts.mirror_section.clone(),
                associations,
                crate::release::platforms_metadata(&plan),
                crate::operators::past_operators(&plan),
            )
            .await?;
        sequence = Some(md.sequence());
        uid = Some(md.uid.clone());
        metadata_image = Some(digest);
    }
    // Results cover everything this workspace mirrored to the target so far (the target copy's
    // associations plus this run), so applying them never drops an earlier run's entries.
    let pruned_pairs = prune.as_ref().map(|p| p.removed.clone()).unwrap_or_default();
    let images = crate::disk::results::cumulative_images(&earlier, &done, &pruned_pairs);
    let shipped = |r: &ferry_plan::release::PlannedRelease| {
        done.iter().any(|m| {
            m.dest.repository.ends_with(ferry_plan::release::RELEASE_IMAGES_REPO)
                && m.dest.tag.as_deref() == Some(r.dest_tag.as_str())
        })
    };
    let mut extras = crate::release::results_extras(&plan, &shipped);
    extras.extend(crate::helm::results_extras(&plan));
    extras.extend(crate::operators::results_extras(&plan, run.registry, run.namespace));
    let results_dir = ferry_manifests::write_results(&opts.workspace, epoch_now(), &images, &extras)
        .map_err(io_err(&opts.workspace))?
        .dir;
    let mapping_file = results_dir.join("mapping.txt");
    tracing::info!(dir = %results_dir.display(), images = images.len(), "results written");
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
        images_from_history: run.from_history.len(),
        sequence,
        uid,
        metadata_image,
        failed: failures,
        prune,
        seconds: started.elapsed().as_secs_f64(),
    })
}
