//! Helm charts in the workflows: `mirror.helm` planned by [`ferry_plan::helm`] (repository
//! access with the run's registry trust and credentials), the chart images planned like
//! additional images (`ImageKind::Generic`, so ICSP/IDMS group them as generic), and the chart
//! archives handed over:
//! - mirror-to-mirror: downloaded into `<workspace>/charts/` and copied into the results folder
//!   as `charts/<chart>-<version>.tgz`, with `charts/charts.json` listing each chart's images;
//! - mirror-to-disk: packed in the archive as `charts/<chart>-<version>.tgz` (oc-mirror's place);
//! - disk-to-mirror: taken out of the archive into the results folder (`charts/`), listed there.

use crate::mirror::MirrorOptions;
use ferry_auth::Credential;
use ferry_plan::helm::{HelmAccess, PlannedChart, RepoTrust};
use ferry_plan::Plan;
use ferry_registry::RegistryClient;
use ferry_types::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where the charts of a run are downloaded (oc-mirror: `src/charts/`).
pub fn charts_dir(opts: &MirrorOptions) -> PathBuf {
    opts.workspace.join("charts")
}

/// Relative chart paths in the image set (`mirror.helm.local[].path` and every chart's
/// `valuesFiles`) are made absolute against the folder of the image-set file (`config_path`),
/// never the process's working directory: `ferry mirror --config /srv/isc.yaml` run from `~`
/// and the desktop app (started from wherever) must read the same chart. oc-mirror v1 used
/// the working directory. An unsaved image set (`None`) with a relative path is refused with
/// what to do.
pub fn resolve_paths(cfg: &mut ferry_config::ImageSetConfiguration, config_path: Option<&Path>) -> Result<()> {
    let Some(helm) = cfg.mirror.helm.as_mut() else {
        return Ok(());
    };
    let base = config_path.map(|p| {
        let dir = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
    });
    let fix = |what: String, p: &mut String| -> Result<()> {
        if p.is_empty() || Path::new(p.as_str()).is_absolute() {
            return Ok(());
        }
        let base = base.as_ref().ok_or_else(|| {
            Error::InvalidConfig(format!(
                "{what} {p:?} is relative, and this image set is not saved to a file: save it first (the path is \
                 taken relative to the file's folder) or give an absolute path"
            ))
        })?;
        *p = base.join(p.as_str()).display().to_string();
        Ok(())
    };
    for (ri, r) in helm.repositories.iter_mut().enumerate() {
        for (ci, c) in r.charts.iter_mut().enumerate() {
            for (fi, f) in c.values_files.iter_mut().enumerate() {
                fix(
                    format!("mirror.helm.repositories[{ri}].charts[{ci}].valuesFiles[{fi}]"),
                    f,
                )?;
            }
        }
    }
    for (ci, c) in helm.local.iter_mut().enumerate() {
        if let Some(p) = c.path.as_mut() {
            fix(format!("mirror.helm.local[{ci}].path"), p)?;
        }
        for (fi, f) in c.values_files.iter_mut().enumerate() {
            fix(format!("mirror.helm.local[{ci}].valuesFiles[{fi}]"), f)?;
        }
    }
    Ok(())
}

/// How the planner reaches chart repositories: the run's registry trust settings per host and
/// the stored logins and auth files (basic auth), as for registries.
pub fn access(client: &RegistryClient, settings: &crate::registry::RegistrySettings) -> Result<HelmAccess> {
    let o = client.options();
    let trust = |p: &ferry_registry::TlsPolicy| RepoTrust {
        skip_verify: p.skip_verify,
        ca_bundle: p.ca_bundle.clone(),
    };
    let creds = crate::registry::credential_resolver(settings)?;
    Ok(HelmAccess {
        default_trust: trust(&o.default_tls),
        per_host: o.per_registry.iter().map(|(h, p)| (h.clone(), trust(p))).collect(),
        credentials: Some(Arc::new(move |host: &str| match creds.resolve(host, "") {
            Some(r) => match r.credential {
                Credential::Basic { username, password } => Some((username, password.expose().to_string())),
                Credential::IdentityToken(_) => None,
            },
            None => None,
        })),
        ..HelmAccess::default()
    })
}

/// Plan the charts; returns them with the image names to plan (tests left out).
pub async fn plan_charts(
    helm: &ferry_config::Helm,
    client: &RegistryClient,
    opts: &MirrorOptions,
) -> Result<(Vec<PlannedChart>, Vec<String>)> {
    let access = access(client, &opts.registry)?;
    let charts = ferry_plan::helm::plan_charts(helm, &access, &charts_dir(opts)).await?;
    let mut names = Vec::new();
    for c in &charts {
        for i in c.mirrored_images() {
            let n = i.image.to_string();
            if !names.contains(&n) {
                names.push(n);
            }
        }
        if let Some(h) = c.unresolved_help() {
            tracing::warn!("{h}");
        }
    }
    Ok((charts, names))
}

/// The archive name of a chart: `<chart>-<version>.tgz`.
fn archive_name(c: &PlannedChart) -> Option<String> {
    c.file.is_file().then(|| format!("{}-{}.tgz", c.name, c.version))
}

/// `charts/charts.json`: each chart with its images, provenance and flags.
fn listing(charts: &[PlannedChart]) -> Vec<u8> {
    serde_json::to_vec_pretty(charts).unwrap_or_default()
}

/// Mirror-to-mirror results: the chart archives (`charts/<chart>-<version>.tgz`) and
/// `charts/charts.json`. Local chart folders are listed but not copied (they are the user's).
pub fn results_extras(plan: &Plan) -> ferry_manifests::ResultsExtras {
    let mut extras = ferry_manifests::ResultsExtras::new();
    if plan.charts.is_empty() {
        return extras;
    }
    for c in &plan.charts {
        if let Some(name) = archive_name(c) {
            extras.add_copy(format!("charts/{name}"), c.file.clone());
        }
    }
    extras.add_file("charts/charts.json", listing(&plan.charts));
    extras
}

/// Mirror-to-disk: (archive path, file) of each chart archive, for `ArchiveWriter::add_file`.
pub fn archive_files(plan: &Plan) -> Vec<(String, PathBuf)> {
    plan.charts
        .iter()
        .filter_map(|c| archive_name(c).map(|n| (format!("charts/{n}"), c.file.clone())))
        .collect()
}

/// Disk-to-mirror: the charts the set carries, taken out into `scratch` and copied into the
/// results folder's `charts/` (the caller removes `scratch` after the results are written).
pub fn import_results(
    set: &ferry_archive::ArchiveSet,
    scratch: &std::path::Path,
) -> Result<ferry_manifests::ResultsExtras> {
    let mut extras = ferry_manifests::ResultsExtras::new();
    for name in set.files("charts/") {
        let Some(file) = name
            .strip_prefix("charts/")
            .filter(|f| f.ends_with(".tgz") && !f.contains('/'))
        else {
            continue;
        };
        let dest = scratch.join(file);
        set.extract_file(&name, &dest)
            .map_err(|e| Error::Archive(format!("chart {name} in the image set: {e}")))?;
        extras.add_copy(format!("charts/{file}"), dest);
    }
    Ok(extras)
}
