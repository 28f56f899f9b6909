//! `mirror.platform.graph: true`: the graph-data image and `updateService.yaml`, so an
//! OpenShift Update Service inside the disconnected network can serve the mirrored releases.
//!
//! As oc-mirror (later v1 / v2): the cincinnati-graph-data tarball
//! (`https://api.openshift.com/api/upgrades_info/graph-data`, or `FERRY_GRAPH_DATA_URL`) is laid
//! on a base image that the image set mirrors too (default oc-mirror v2's
//! `registry.access.redhat.com/ubi9/ubi:latest`; `FERRY_GRAPH_BASE_IMAGE` or
//! [`ReleaseOptions::graph_base_image`] change it), unpacked at `/var/lib/cincinnati-graph-data`
//! with `Cmd ["/bin/bash","-c","exec cp -rp /var/lib/cincinnati-graph-data/* /var/lib/cincinnati/graph-data"]`
//! (oc-mirror v2's graph Dockerfile), and pushed to `<ns>/openshift/graph-image:latest`. Every
//! platform of a base index is rebuilt. `results-<epoch>/updateService.yaml` names the graph
//! image by digest and the `openshift/release-images` repository.
//!
//! - mirror-to-mirror: after the copy, built on the base image now in the target (its layers
//!   are mounted within the target, not fetched again).
//! - mirror-to-disk: the tarball and `cincinnati/graph-image.json` (which base, by digest) go
//!   into the archive, as oc-mirror 4.11 packs `cincinnati/cincinnati-graph-data.tar.gz`.
//! - disk-to-mirror: built from the archive's tarball on the base image in the target, with
//!   no network beyond the target registry.
//!
//! Differences from oc-mirror: the layer is built by Ferry (deterministic: same tarball and
//! base, same digest) instead of a container build; the tarball is checked to be a gzip tar
//! with files before anything is pushed; a base image missing from the target stops the
//! import with what to do instead of pushing a broken image.

use crate::image_rebuild::rebuild_platform;
use crate::release::ReleaseOptions;
use ferry_imagebuild::{layer_from_tarball, rebuild_index, ConfigEdit};
use ferry_manifests::ResultsExtras;
use ferry_plan::release::{PlannedGraph, GRAPH_IMAGE_REPO, GRAPH_IMAGE_TAG, RELEASE_IMAGES_REPO};
use ferry_plan::{BlockList, Plan, PlanPolicy, PlannedImage, SourceProvider};
use ferry_release::{download_graph_data, HttpOptions};
use ferry_types::media::{is_index, ManifestView};
use ferry_types::{Digest, Error, ImageDestination, ImageSource, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// oc-mirror v2's base image for the graph image.
pub const DEFAULT_BASE_IMAGE: &str = "registry.access.redhat.com/ubi9/ubi:latest";
/// Replaces [`DEFAULT_BASE_IMAGE`] (a Ferry extension).
pub const BASE_IMAGE_ENV: &str = "FERRY_GRAPH_BASE_IMAGE";
/// Where the graph data lives in the image.
pub const GRAPH_DATA_DIR: &str = "var/lib/cincinnati-graph-data";
/// The tarball in an archive (oc-mirror 4.11's path).
pub const ARCHIVE_TARBALL: &str = "cincinnati/cincinnati-graph-data.tar.gz";
/// Which base image the import builds on.
pub const ARCHIVE_GRAPH_INFO: &str = "cincinnati/graph-image.json";

/// The graph image's command: copy the data into the volume the update service reads.
pub fn graph_cmd() -> Vec<String> {
    vec![
        "/bin/bash".into(),
        "-c".into(),
        "exec cp -rp /var/lib/cincinnati-graph-data/* /var/lib/cincinnati/graph-data".into(),
    ]
}

/// The base image: the option, else `FERRY_GRAPH_BASE_IMAGE`, else oc-mirror's UBI.
pub fn base_image(ropts: &ReleaseOptions) -> String {
    if let Some(b) = ropts.graph_base_image.as_deref().filter(|b| !b.trim().is_empty()) {
        return b.trim().to_string();
    }
    match std::env::var(BASE_IMAGE_ENV) {
        Ok(b) if !b.trim().is_empty() => b.trim().to_string(),
        _ => DEFAULT_BASE_IMAGE.to_string(),
    }
}

/// The tarball URL: the option, else `FERRY_GRAPH_DATA_URL`, else Red Hat's.
pub fn data_url(ropts: &ReleaseOptions) -> String {
    ropts
        .graph_data_url
        .clone()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(ferry_release::graph_data_url)
}

/// Plan `graph: true`: the base image resolved to a digest (an image of the set, generic kind);
/// nothing is downloaded yet.
pub async fn plan_graph(
    ropts: &ReleaseOptions,
    sources: &dyn SourceProvider,
    parallel: usize,
) -> Result<(PlannedGraph, PlannedImage)> {
    let base = base_image(ropts);
    let policy = PlanPolicy {
        parallel: parallel.max(1),
        ..Default::default()
    };
    let planned = ferry_plan::plan_additional(&[base.as_str()], &BlockList::default(), sources, policy)
        .await
        .map_err(|e| graph_base_error(&base, &e.to_string()))?;
    if let Some(f) = planned.failures.first() {
        return Err(graph_base_error(&base, &f.message));
    }
    let img = planned
        .images
        .into_iter()
        .next()
        .ok_or_else(|| graph_base_error(&base, "it resolved to no image"))?;
    let graph = PlannedGraph {
        data_url: data_url(ropts),
        base: img.source.clone(),
        base_dest_repo: img.dest_repo.clone(),
        base_dest_tag: img.dest_tag.clone(),
        pushed: None,
        releases_repo: None,
        tarball: None,
    };
    Ok((graph, img))
}

fn graph_base_error(base: &str, why: &str) -> Error {
    Error::InvalidConfig(format!(
        "graph: true needs the base image {base} for the graph-data image, and it cannot be resolved: {why}. \
         Make it reachable (credentials, --source-* flags) or set {BASE_IMAGE_ENV} to a base image the source \
         registry has"
    ))
}

/// Build the graph image on the base `base_repo@base_digest` of `src` and push it to
/// `dest_repo:latest`; returns the digest the tag points at. `what` names the tarball in errors.
#[allow(clippy::too_many_arguments)]
pub async fn build_and_push(
    src: &dyn ImageSource,
    base_repo: &str,
    base_digest: &str,
    dest: &dyn ImageDestination,
    dest_repo: &str,
    tarball: &Path,
    what: &str,
    workdir: &Path,
) -> Result<Digest> {
    std::fs::create_dir_all(workdir).map_err(|e| Error::io(workdir.display(), e))?;
    let (tb, what_s, wd) = (tarball.to_path_buf(), what.to_string(), workdir.to_path_buf());
    let built = tokio::task::spawn_blocking(move || -> Result<_> {
        let f = std::fs::File::open(&tb).map_err(|e| Error::io(tb.display(), e))?;
        let r = layer_from_tarball(
            f,
            GRAPH_DATA_DIR,
            &what_s,
            &wd,
            "ferry: cincinnati graph data in /var/lib/cincinnati-graph-data",
        )
        .map_err(|e| Error::InvalidConfig(format!("graph data: {e}")))?;
        Ok(r)
    })
    .await
    .map_err(|e| Error::Internal(format!("graph layer task: {e}")))??;
    let edit = ConfigEdit {
        cmd: Some(graph_cmd()),
        ..Default::default()
    };
    let top = src.get_manifest(base_repo, base_digest).await?;
    let view = ManifestView::parse(&top.bytes).map_err(|e| Error::Internal(format!("base image {base_repo}: {e}")))?;
    let result = if is_index(view.effective_media_type(&top.media_type)) {
        let mut replace = BTreeMap::new();
        for child in &view.manifests {
            let d = Digest::parse(&child.digest).map_err(|e| Error::Internal(e.to_string()))?;
            // Attestations (platform unknown/unknown) describe the base image, not this one.
            if child.platform.as_ref().is_some_and(|p| p.os == "unknown") {
                replace.insert(d, None);
                continue;
            }
            let m = src.get_manifest(base_repo, &child.digest).await?;
            let new = rebuild_platform(
                src,
                base_repo,
                &m,
                dest,
                dest_repo,
                &[&built.layer],
                &edit,
                Some(base_repo),
            )
            .await?;
            replace.insert(d, Some(new));
        }
        rebuild_index(&top.bytes, &top.media_type, &replace)?
    } else {
        rebuild_platform(
            src,
            base_repo,
            &top,
            dest,
            dest_repo,
            &[&built.layer],
            &edit,
            Some(base_repo),
        )
        .await?
    };
    dest.put_manifest(dest_repo, GRAPH_IMAGE_TAG, &result).await?;
    tracing::info!(target = %format!("{dest_repo}:{GRAPH_IMAGE_TAG}"), digest = %result.digest, files = built.files,
        base = %format!("{base_repo}@{base_digest}"), "graph-data image pushed");
    Ok(result.digest)
}

fn with_ns(namespace: Option<&str>, repo: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{repo}"),
        _ => repo.to_string(),
    }
}

/// Mirror-to-mirror, before anything is copied: download the tarball into
/// `<workspace>/cincinnati/` (a bad download fails the run with nothing shipped).
pub async fn m2m_download(plan: &mut Plan, workspace: &Path, http: &HttpOptions) -> Result<()> {
    let Some(g) = plan.graph.as_mut() else { return Ok(()) };
    let tarball = workspace.join(ARCHIVE_TARBALL);
    let data = download_graph_data(http, &g.data_url, &tarball).await?;
    g.tarball = Some((tarball, data.url));
    Ok(())
}

/// Mirror-to-mirror, after the copy: build the graph image on the base image now in `target`
/// and push it. Recorded in `plan.graph` for the results. Skipped with a plan note when the
/// base image did not make it into the target (its copy failed; the run reports that failure).
pub async fn m2m_push(
    plan: &mut Plan,
    target: &(impl ImageSource + ImageDestination),
    registry: &str,
    namespace: Option<&str>,
    workspace: &Path,
) -> Result<()> {
    let Some(g) = plan.graph.clone() else { return Ok(()) };
    let Some((tarball, url)) = g.tarball.clone() else {
        return Err(Error::Internal(
            "the graph data was not downloaded before the copy".into(),
        ));
    };
    let base_repo = with_ns(namespace, &g.base_dest_repo);
    let digest = g.base.digest.clone().expect("the base image is pinned").to_string();
    if ImageDestination::manifest_digest(target, &base_repo, &digest)
        .await?
        .is_none()
    {
        plan.notes.push(format!(
            "graph image not built: its base image {} is not in {registry}/{base_repo} (its copy failed)",
            g.base
        ));
        return Ok(());
    }
    let dest_repo = with_ns(namespace, GRAPH_IMAGE_REPO);
    let pushed = build_and_push(
        target,
        &base_repo,
        &digest,
        target,
        &dest_repo,
        &tarball,
        &url,
        &workspace.join("cincinnati"),
    )
    .await?;
    let gm = plan.graph.as_mut().expect("checked");
    gm.pushed = Some(format!("{registry}/{dest_repo}@{pushed}"));
    gm.releases_repo = Some(format!("{registry}/{}", with_ns(namespace, RELEASE_IMAGES_REPO)));
    Ok(())
}

/// `updateService.yaml` when the graph image was pushed and at least one release image is in
/// the results (oc-mirror writes it only then).
pub fn results_extras(plan: &Plan, any_release: bool) -> ResultsExtras {
    let mut x = ResultsExtras::new();
    if let Some(g) = &plan.graph {
        if let (Some(img), Some(repo), true) = (&g.pushed, &g.releases_repo, any_release) {
            x.add_manifest("updateService.yaml", ferry_release::update_service_yaml(img, repo));
        }
    }
    x
}

/// What an archive says about its graph image (`cincinnati/graph-image.json`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GraphInfo {
    pub data_url: String,
    pub data_digest: String,
    /// The base image as planned (`registry/repo@digest`).
    pub base: String,
    /// Its repository and tag in the archive (the target adds its namespace).
    pub base_repo: String,
    pub base_tag: String,
    pub base_digest: String,
}

/// Mirror-to-disk: download the tarball and write `graph-image.json` into
/// `<workspace>/cincinnati/`; returns (archive path, file) pairs to pack. Nothing for a dry run.
pub async fn stage_for_archive(
    plan: &Plan,
    workspace: &Path,
    http: &HttpOptions,
    dry_run: bool,
) -> Result<Vec<(String, PathBuf)>> {
    let Some(g) = &plan.graph else { return Ok(Vec::new()) };
    if dry_run {
        return Ok(Vec::new());
    }
    let tarball = workspace.join(ARCHIVE_TARBALL);
    let data = download_graph_data(http, &g.data_url, &tarball).await?;
    let info = GraphInfo {
        data_url: data.url.clone(),
        data_digest: data.digest.to_string(),
        base: g.base.to_string(),
        base_repo: g.base_dest_repo.clone(),
        base_tag: g.base_dest_tag.clone(),
        base_digest: g.base.digest.clone().expect("pinned").to_string(),
    };
    let info_file = workspace.join(ARCHIVE_GRAPH_INFO);
    let body = serde_json::to_vec_pretty(&info).map_err(|e| Error::Internal(e.to_string()))?;
    std::fs::write(&info_file, body).map_err(|e| Error::io(info_file.display(), e))?;
    Ok(vec![
        (ARCHIVE_TARBALL.to_string(), tarball),
        (ARCHIVE_GRAPH_INFO.to_string(), info_file),
    ])
}

/// Disk-to-mirror: when the set carries graph data, build the graph image on the base image in
/// the target (this or an earlier sequence pushed it) and push it; `updateService.yaml` for the
/// results when the target holds release images (`any_release`). No network beyond the target.
pub async fn import(
    set: &ferry_archive::ArchiveSet,
    target: &crate::disk::d2m::ImportTarget<'_>,
    prefix: &str,
    workspace: &Path,
    any_release: bool,
) -> Result<ResultsExtras> {
    let mut x = ResultsExtras::new();
    if set.files(ARCHIVE_GRAPH_INFO).is_empty() {
        return Ok(x);
    }
    let dir = workspace.join("cincinnati");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), e))?;
    let info_file = dir.join("graph-image.json");
    set.extract_file(ARCHIVE_GRAPH_INFO, &info_file)?;
    let raw = std::fs::read(&info_file).map_err(|e| Error::io(info_file.display(), e))?;
    let info: GraphInfo = serde_json::from_slice(&raw).map_err(|e| {
        Error::Archive(format!(
            "{ARCHIVE_GRAPH_INFO} in the image set is not valid ({e}); the set was not written by this Ferry version"
        ))
    })?;
    let tarball = dir.join("cincinnati-graph-data.tar.gz");
    set.extract_file(ARCHIVE_TARBALL, &tarball)?;
    let got = digest_of_file(&tarball)?;
    if got.to_string() != info.data_digest {
        return Err(Error::DigestMismatch {
            what: format!("{ARCHIVE_TARBALL} in the image set"),
            expected: info.data_digest.clone(),
            actual: got.to_string(),
        });
    }
    let base_repo = format!("{prefix}{}", info.base_repo);
    if target
        .dest
        .manifest_digest(&base_repo, &info.base_digest)
        .await?
        .is_none()
    {
        return Err(Error::NotFound {
            what: format!(
                "the graph image's base image {} in {}/{base_repo}@{}",
                info.base, target.registry, info.base_digest
            ),
            hint: Some(
                "import the earlier sequences of this workspace first (the base image travelled in one of them), \
                 or rerun mirror-to-disk with --ignore-history"
                    .into(),
            ),
        });
    }
    let dest_repo = format!("{prefix}{GRAPH_IMAGE_REPO}");
    let pushed = build_and_push(
        target.source.as_ref(),
        &base_repo,
        &info.base_digest,
        target.dest.as_ref(),
        &dest_repo,
        &tarball,
        &format!("{ARCHIVE_TARBALL} (from {})", info.data_url),
        &dir,
    )
    .await?;
    if any_release {
        let img = format!("{}/{dest_repo}@{pushed}", target.registry);
        let repo = format!("{}/{prefix}{RELEASE_IMAGES_REPO}", target.registry);
        x.add_manifest("updateService.yaml", ferry_release::update_service_yaml(&img, &repo));
    }
    Ok(x)
}

fn digest_of_file(p: &Path) -> Result<Digest> {
    let f = std::fs::File::open(p).map_err(|e| Error::io(p.display(), e))?;
    Digest::of_reader(f).map_err(|e| Error::io(p.display(), e))
}
