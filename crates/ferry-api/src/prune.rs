//! Pruning in mirror-to-mirror and disk-to-mirror: the plan ([`ferry_prune::PrunePlan`],
//! computed on metadata alone) is written to `<workspace>/pruning-plan.json` and logged on
//! every run that has one, dry run or not, before anything is deleted; manifests are deleted
//! only with `--prune` (`DELETE /v2/<repo>/manifests/<digest>`, lists before their children).
//!
//! oc-mirror v1 deleted by default and users lost images they still wanted (oc-mirror #693,
//! #462), so Ferry keeps them unless asked, says so, and keeps their associations in the
//! recorded metadata so that a later `--prune` still finds them. Nothing is deleted when the
//! run had any failed or missing image or planning errors (a release or catalog that was only
//! partly mirrored must not lose the rest of what the target holds), and never a
//! `(repository, digest)` pair the new set needs.

use ferry_metadata::Association;
use ferry_prune::{Pair, PrunePlan};
use ferry_registry::Registry;
use ferry_types::{Error, Result};
use futures::StreamExt as _;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use ferry_prune::{needed_pairs, Candidate};

/// File name of the plan in the workspace (oc-mirror's).
pub const PLAN_FILE: &str = "pruning-plan.json";

/// What pruning did in one run.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PruneReport {
    pub plan: PrunePlan,
    /// `<workspace>/pruning-plan.json` when the plan is not empty.
    pub plan_file: Option<PathBuf>,
    /// `--prune` was given.
    pub requested: bool,
    /// Manifests deleted now.
    pub deleted: usize,
    /// Manifests the registry no longer had (404: counted as done).
    pub already_gone: usize,
    /// Why nothing was deleted although the plan is not empty: not asked, dry run, or a
    /// failure in this run.
    pub kept_because: Option<String>,
    /// Pairs deleted or already gone (the results and metadata leave these out).
    #[serde(skip)]
    pub removed: BTreeSet<Pair>,
}

impl PruneReport {
    /// Associations to carry into the recorded metadata: the candidates still in the target.
    pub fn associations_left(&self, repo_of: &dyn Fn(&Association) -> Option<String>) -> Vec<Association> {
        self.plan.associations_left(&self.removed, repo_of)
    }

    /// One line for the end of a run.
    pub fn summary(&self) -> Option<String> {
        if self.plan.is_empty() {
            return None;
        }
        let what = format!(
            "{} images and {} child manifests no longer in the image set",
            self.plan.images.len(),
            self.plan.children.len()
        );
        let file = self
            .plan_file
            .as_ref()
            .map(|f| format!(" (plan: {})", f.display()))
            .unwrap_or_default();
        Some(match &self.kept_because {
            Some(why) => format!("pruning: {what} kept in {}: {why}{file}", self.plan.registry),
            None => format!(
                "pruning: {what}: {} deleted from {}, {} were already gone{file}",
                self.deleted, self.plan.registry, self.already_gone
            ),
        })
    }
}

/// How a run asks for pruning.
#[derive(Debug, Clone)]
pub struct PruneRequest<'a> {
    pub workspace: &'a Path,
    /// `--prune`.
    pub prune: bool,
    pub dry_run: bool,
    /// A failure of this run that forbids deleting (failed images, planning errors).
    pub hold: Option<String>,
    /// Concurrent DELETEs (`--max-per-registry`).
    pub parallel: usize,
}

/// The repository in a mirror-to-mirror target of an association (path `registry/repository`).
pub fn m2m_repo(registry: &str) -> impl Fn(&Association) -> Option<String> + '_ {
    move |a: &Association| {
        a.path
            .strip_prefix(registry)
            .and_then(|r| r.strip_prefix('/'))
            .map(str::to_string)
    }
}

/// The repository in a disk-to-mirror target of an association (path relative to the namespace).
pub fn d2m_repo(prefix: &str) -> impl Fn(&Association) -> Option<String> + '_ {
    move |a: &Association| Some(format!("{prefix}{}", a.path))
}

/// Writes and logs the plan, then deletes what it lists if asked and allowed.
pub async fn run(plan: PrunePlan, target: &Registry, req: PruneRequest<'_>) -> Result<PruneReport> {
    let file = req.workspace.join(PLAN_FILE);
    let mut report = PruneReport {
        requested: req.prune,
        ..Default::default()
    };
    if plan.is_empty() {
        // A plan left by an earlier run would describe a target that no longer exists.
        match std::fs::remove_file(&file) {
            Ok(()) => tracing::debug!(file = %file.display(), "nothing to prune: removed the earlier plan"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(file.display(), e)),
        }
        report.plan = plan;
        return Ok(report);
    }
    write_plan(&file, &plan)?;
    report.plan_file = Some(file.clone());
    tracing::info!(
        "pruning plan: {} images and {} child manifests in {} are no longer in the image set (written to {}):\n{}",
        plan.images.len(),
        plan.children.len(),
        plan.registry,
        file.display(),
        plan.lines().join("\n")
    );
    report.kept_because = if req.dry_run {
        Some("dry run: nothing is deleted".into())
    } else if !req.prune {
        Some("Ferry deletes only with --prune (run again with --prune to delete them)".into())
    } else {
        req.hold
            .map(|h| format!("nothing deleted because {h}; fix that and run again with --prune"))
    };
    if let Some(why) = &report.kept_because {
        tracing::info!("pruning: images kept: {why}");
        report.plan = plan;
        return Ok(report);
    }
    delete_all(&plan, target, req.parallel, &mut report).await?;
    report.plan = plan;
    Ok(report)
}

/// `pruning-plan.json` through a temporary file, so a crash never leaves half a plan.
fn write_plan(file: &Path, plan: &PrunePlan) -> Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
    let tmp = dir.join(format!(".{PLAN_FILE}.tmp"));
    std::fs::write(&tmp, plan.to_json()).map_err(|e| Error::io(tmp.display(), e))?;
    std::fs::rename(&tmp, file).map_err(|e| Error::io(file.display(), e))
}

/// Lists, then children. The first DELETE goes alone: a registry with deletion disabled or an
/// account without delete rights answers it with the explanation, and nothing else is tried.
async fn delete_all(plan: &PrunePlan, target: &Registry, parallel: usize, report: &mut PruneReport) -> Result<()> {
    for group in [&plan.images, &plan.children] {
        let mut rest = group.iter();
        if report.deleted + report.already_gone == 0 {
            if let Some(first) = rest.next() {
                let gone = target
                    .delete_manifest(&first.repository, &parse(first)?)
                    .await
                    .map_err(|e| Error::Internal(format!("pruning stopped before deleting anything: {e}")))?;
                count(report, first, gone);
            }
        }
        let results: Vec<(&Candidate, Result<bool>)> = futures::stream::iter(rest)
            .map(|c| async move {
                let r = match parse(c) {
                    Ok(d) => target.delete_manifest(&c.repository, &d).await,
                    Err(e) => Err(e),
                };
                (c, r)
            })
            .buffer_unordered(parallel.max(1))
            .collect()
            .await;
        let mut failed = Vec::new();
        for (c, r) in results {
            match r {
                Ok(gone) => count(report, c, gone),
                Err(e) => failed.push(format!("{}@{}: {e}", c.repository, c.digest)),
            }
        }
        if !failed.is_empty() {
            return Err(Error::Internal(format!(
                "pruning: {} of {} manifests could not be deleted from {} ({} deleted, {} already gone); run again \
                 with --prune to finish:\n  {}",
                failed.len(),
                plan.len(),
                plan.registry,
                report.deleted,
                report.already_gone,
                failed.join("\n  ")
            )));
        }
    }
    tracing::info!(
        deleted = report.deleted,
        already_gone = report.already_gone,
        registry = %plan.registry,
        "pruning done (blobs are left to the registry's garbage collector)"
    );
    Ok(())
}

fn parse(c: &Candidate) -> Result<ferry_types::Digest> {
    ferry_types::Digest::parse(&c.digest)
        .map_err(|e| Error::Internal(format!("pruning: {}: recorded digest {}: {e}", c.repository, c.digest)))
}

fn count(report: &mut PruneReport, c: &Candidate, deleted: bool) {
    if deleted {
        report.deleted += 1;
        tracing::info!(repository = %c.repository, digest = %c.digest, "pruned");
    } else {
        report.already_gone += 1;
        tracing::debug!(repository = %c.repository, digest = %c.digest, "already gone");
    }
    report.removed.insert((c.repository.clone(), c.digest.clone()));
}

/// Why this run must not delete: failed or missing images, planning errors.
pub fn hold_reason(failed_images: usize, planning_errors: usize) -> Option<String> {
    match (failed_images, planning_errors) {
        (0, 0) => None,
        (f, 0) => Some(format!("{f} images of this run failed or are missing")),
        (0, p) => Some(format!("planning had errors ({p} images could not be planned)")),
        (f, p) => Some(format!(
            "{f} images of this run failed or are missing and planning had errors ({p} images)"
        )),
    }
}

/// Mirror-to-mirror after the copy: plan against the target copy's recorded associations
/// (`current`, the `<ns>/oc-mirror:<uid>` image) with `next` (what this run records) as the
/// set that stays, then write, show and (when asked and allowed) delete.
pub(crate) async fn m2m(
    current: Option<&ferry_metadata::Metadata>,
    next: &[Association],
    target: &Registry,
    req: PruneRequest<'_>,
) -> Result<PruneReport> {
    let registry = target.host().to_string();
    let repo_of = m2m_repo(&registry);
    let past = current.map(|c| c.past_associations.as_slice()).unwrap_or_default();
    let plan = PrunePlan::compute(&registry, past, &needed_pairs(next, &repo_of), &repo_of);
    run(plan, target, req).await
}

/// Mirror-to-mirror dry run (`None` for a single-use run: no recorded associations). Nothing is
/// copied, so the set that stays is the planned images (destination repository and digest),
/// the associations earlier runs recorded for the ones not copied again, and the children of
/// planned lists, read from their sources.
pub(crate) async fn m2m_dry_run(
    meta: Option<&crate::m2m_metadata::RunMetadata>,
    planned: &[(ferry_plan::PlannedImage, ferry_manifests::MappedImage)],
    client: &ferry_registry::RegistryClient,
    registry: &str,
    req: PruneRequest<'_>,
) -> Result<Option<PruneReport>> {
    use ferry_types::ImageSource as _;
    let Some(meta) = meta else { return Ok(None) };
    let repo_of = m2m_repo(registry);
    let kept: Vec<Association> = planned
        .iter()
        .flat_map(|(_, m)| {
            let digest = m.dest.digest.as_ref().map(|d| d.to_string()).unwrap_or_default();
            let tag = m.dest.tag.clone().unwrap_or_default();
            meta.kept(
                &crate::m2m_metadata::full_path(registry, &m.dest.repository),
                &tag,
                &digest,
            )
        })
        .collect();
    let mut needed = needed_pairs(&kept, &repo_of);
    let lists: Vec<Result<Vec<Pair>>> = futures::stream::iter(planned)
        .map(|(p, m)| async move {
            let digest = p.digest().to_string();
            let repo = m.dest.repository.clone();
            let top = client
                .registry(&p.source.registry)
                .get_manifest(&p.source.repository, &digest)
                .await?;
            let children = crate::image_tree::child_digests(&top, &p.source.exact())?;
            let mut pairs = vec![(repo.clone(), digest)];
            pairs.extend(children.into_iter().map(|c| (repo.clone(), c)));
            Ok(pairs)
        })
        .buffer_unordered(req.parallel.max(1))
        .collect()
        .await;
    for pairs in lists {
        needed.extend(pairs?);
    }
    let past = meta
        .current
        .as_ref()
        .map(|c| c.past_associations.as_slice())
        .unwrap_or_default();
    let plan = PrunePlan::compute(registry, past, &needed, &repo_of);
    run(plan, &client.registry(registry), req).await.map(Some)
}

/// Disk-to-mirror: plan against the target copy's recorded associations (`current`) with
/// `stays` (the incoming set's `pastAssociations`, less images this import left out) as the
/// set that stays, both relative to the namespace `prefix`. `None` for a single-use set or a
/// target that is not a registry client (nothing to prune by or with).
pub(crate) async fn d2m(
    current: Option<&ferry_metadata::Metadata>,
    stays: &ferry_metadata::Metadata,
    prefix: &str,
    target: Option<&Registry>,
    opts: &crate::disk::DiskOptions,
    failed: usize,
) -> Result<Option<PruneReport>> {
    let Some(target) = target.filter(|_| !stays.single_use) else {
        return Ok(None);
    };
    let repo_of = d2m_repo(prefix);
    let past = current.map(|c| c.past_associations.as_slice()).unwrap_or_default();
    let plan = PrunePlan::compute(
        target.host(),
        past,
        &needed_pairs(&stays.past_associations, &repo_of),
        &repo_of,
    );
    let req = PruneRequest {
        workspace: &opts.workspace,
        prune: opts.prune,
        dry_run: opts.dry_run,
        hold: hold_reason(failed, 0),
        parallel: opts.registry.max_per_registry,
    };
    run(plan, target, req).await.map(Some)
}
