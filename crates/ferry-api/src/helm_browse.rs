//! The desktop app's helm and pruning views, over the same planners as the CLI:
//! - [`repository_index`]: a chart repository's `index.yaml` for the editor's chart picker,
//!   read with the registry trust settings and stored logins the CLI uses for that host;
//! - [`local_chart`]: name and version of a chart `.tgz` or folder picked with the file dialog;
//! - [`chart_plan`]: per chart, the images it yields with provenance, hook/test flags and the
//!   `blockedImages` pattern that removes an image (how the Plan screen's "Remove" works:
//!   it writes an exact, anchored pattern into `mirror.blockedImages`, so the removal is part of
//!   the image set: saved with it, honoured by every run (export, mirror, CLI) and recorded
//!   in the run's `pastMirror` metadata);
//! - [`prune_preview`]: the pruning plan a mirror-to-mirror run would act on (a dry run:
//!   nothing copied or deleted), with sizes read from the target, for the confirmation dialog.

use crate::mirror::{ImageSelection, MirrorOptions};
use crate::wire_helm::{
    ChartImageView, ChartPlanView, HelmChartEntry, HelmChartVersionView, HelmLocalChart, HelmRepoIndex, PruneItem,
    PrunePreview,
};
use ferry_types::{Error, Result};
use futures::StreamExt as _;
use std::path::Path;

fn parse_at(yaml: &str, config_path: Option<&Path>) -> Result<ferry_config::ImageSetConfiguration> {
    let mut cfg = ferry_config::parse_str(yaml, "the image set").map_err(|e| Error::InvalidConfig(e.to_string()))?;
    crate::app_workflows::resolve_storage_path(&mut cfg, config_path)?;
    crate::helm::resolve_paths(&mut cfg, config_path)?;
    Ok(cfg)
}

/// The charts and versions of the repository at `url` (newest version first).
pub async fn repository_index(url: &str) -> Result<HelmRepoIndex> {
    let settings = crate::registry::RegistrySettings::default();
    let client = crate::registry::build_client(&settings, None)?;
    let access = crate::helm::access(&client, &settings)?;
    let index = ferry_plan::helm::fetch_index(url, &access).await?;
    let charts = index
        .entries
        .keys()
        .map(|name| HelmChartEntry {
            name: name.clone(),
            versions: index
                .versions_newest_first(name)
                .into_iter()
                .map(|v| HelmChartVersionView {
                    version: v.version.clone(),
                    app_version: v.app_version.clone(),
                    deprecated: v.deprecated,
                    has_digest: v.digest.as_deref().is_some_and(|d| !d.trim().is_empty()),
                })
                .collect(),
        })
        .collect();
    Ok(HelmRepoIndex {
        url: url.trim().to_string(),
        charts,
    })
}

/// A chart `.tgz` or folder: its name and version (from `Chart.yaml`).
pub fn local_chart(path: &Path) -> Result<HelmLocalChart> {
    let c = ferry_helm::load_path(path)?;
    Ok(HelmLocalChart {
        path: path.display().to_string(),
        name: c.metadata.name,
        version: c.metadata.version,
    })
}

/// The exact `blockedImages` pattern that removes one image (and nothing else).
pub fn exact_block_pattern(image: &str) -> String {
    format!("^{}$", regex_escape(image))
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A scratch folder for chart archives, removed when dropped (also on an error path).
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Result<Self> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("ferry-chart-plan-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).map_err(|e| Error::io(p.display(), e))?;
        Ok(Scratch(p))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Per chart of `mirror.helm`, the images it yields (charts downloaded into a scratch folder
/// that is removed afterwards; digests checked as in a run).
pub async fn chart_plan(yaml: &str, config_path: Option<&Path>) -> Result<Vec<ChartPlanView>> {
    let cfg = parse_at(yaml, config_path)?;
    let Some(helm) = cfg
        .mirror
        .helm
        .as_ref()
        .filter(|h| !h.local.is_empty() || !h.repositories.is_empty())
    else {
        return Ok(Vec::new());
    };
    let blocked: Vec<String> = cfg.mirror.blocked_images.iter().map(|b| b.name.clone()).collect();
    let blocklist = ferry_plan::BlockList::new(&blocked)?;
    let settings = crate::registry::RegistrySettings::default();
    let client = crate::registry::build_client(&settings, None)?;
    let access = crate::helm::access(&client, &settings)?;
    let scratch = Scratch::new()?;
    let charts = ferry_plan::helm::plan_charts(helm, &access, &scratch.0).await?;
    Ok(charts
        .iter()
        .map(|c| ChartPlanView {
            repository: c.repository.clone(),
            name: c.name.clone(),
            version: c.version.clone(),
            mode: c.mode.clone(),
            images: c
                .images
                .iter()
                .map(|i| {
                    let image = i.image.to_string();
                    ChartImageView {
                        blocked_by: blocklist.matches(std::slice::from_ref(&image)).map(str::to_string),
                        block_pattern: exact_block_pattern(&image),
                        written: i.written.clone(),
                        provenance: i.provenance.iter().map(|p| p.to_string()).collect(),
                        hook: i.hook,
                        test: i.test,
                        image,
                    }
                })
                .collect(),
            unresolved: c
                .unresolved
                .iter()
                .map(|u| format!("{}: {}: {}", u.chart, u.location, u.reason))
                .collect(),
            notes: c.notes.clone(),
        })
        .collect())
}

/// The pruning plan a mirror-to-mirror run of `yaml` into `registry` would act on: a dry run
/// (nothing copied, nothing deleted; `pruning-plan.json` written to `workspace` as every run
/// with a plan does), each candidate's size read from the target.
pub async fn prune_preview(
    yaml: &str,
    config_path: Option<&Path>,
    registry: &str,
    workspace: &Path,
) -> Result<PrunePreview> {
    let cfg = parse_at(yaml, config_path)?;
    let selection = ImageSelection::from_config(&cfg)?;
    let dest = crate::app_workflows::registry_destination(registry)?;
    let opts = MirrorOptions {
        workspace: workspace.to_path_buf(),
        dry_run: true,
        continue_on_error: true,
        ..MirrorOptions::default()
    }
    .with_config(&cfg);
    let r = crate::mirror::mirror_to_mirror(
        &selection,
        &dest,
        &opts,
        ferry_copy::no_progress(),
        ferry_copy::CancellationToken::new(),
    )
    .await?;
    let Some(p) = r.prune else {
        return Ok(PrunePreview {
            registry: registry.to_string(),
            images: vec![],
            children: vec![],
            known_bytes: 0,
            note: Some(
                "this image set has no storageConfig: runs record nothing, so there is nothing to prune by".into(),
            ),
            plan_file: None,
        });
    };
    let settings = opts.registry.clone().with_storage(opts.storage.as_ref());
    let client = crate::registry::build_client(&settings, Some(&p.plan.registry))?;
    let target = client.registry(&p.plan.registry);
    let sized = |list: &[crate::prune::Candidate]| {
        let target = &target;
        let list = list.to_vec();
        async move {
            futures::stream::iter(list)
                .map(|c| async move {
                    let bytes = crate::image_tree::ImageTree::fetch(target, &c.repository, &c.digest, &c.name)
                        .await
                        .ok()
                        .map(|t| t.manifest_bytes() + t.blobs().iter().map(|(_, s)| s).sum::<u64>());
                    PruneItem {
                        repository: c.repository,
                        digest: c.digest,
                        bytes,
                    }
                })
                .buffered(4)
                .collect::<Vec<_>>()
                .await
        }
    };
    let images = sized(&p.plan.images).await;
    let children = sized(&p.plan.children).await;
    let known_bytes = images.iter().filter_map(|i| i.bytes).sum();
    Ok(PrunePreview {
        registry: p.plan.registry.clone(),
        images,
        children,
        known_bytes,
        note: None,
        plan_file: p.plan_file.map(|f| f.display().to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_pattern_blocks_only_that_image() {
        let p = exact_block_pattern("quay.io/a/b:1.0");
        let b = ferry_plan::BlockList::new(std::slice::from_ref(&p)).unwrap();
        assert!(b.matches(&["quay.io/a/b:1.0".into()]).is_some());
        assert!(b.matches(&["quay.io/a/b:1x0".into()]).is_none(), "dots are literal");
        assert!(b.matches(&["quay.io/a/b:1.0.1".into()]).is_none(), "anchored");
        assert!(b.matches(&["x.quay.io/a/b:1.0".into()]).is_none(), "anchored");
    }
}
