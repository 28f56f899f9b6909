//! The desktop app's view of the workflows: each function takes what a screen has (YAML text, a
//! folder, a registry) and returns wire types, calling the same facade functions as the CLI.
//! Conversion lives here, not in the Tauri shell, so it is tested without a window.

use crate::disk::GIB;
use crate::mirror::{ImageSelection, MirrorOptions};
use crate::run_options::RunOptions;
use crate::wire::{
    self, BlockedImage, Diagnostic, JobKind, JobSummary, PartInfo, PlanGroup, PlanImage, PlanSummary, RegistryLogin,
    Severity, SourceKind, TrustSettings,
};
use ferry_copy::{CancellationToken, ProgressSink};
use ferry_types::{Destination, Error, ImageKind, ImageSource, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Live validation for the editor: every error and warning with a 1-based line and column
/// (findings without a position are pinned to line 1 so the editor can still show them).
pub fn validate_image_set(yaml: &str) -> Vec<Diagnostic> {
    ferry_config::diagnostics(yaml)
        .into_iter()
        .map(|d| Diagnostic {
            path: d.path,
            line: d.line.unwrap_or(1).max(1),
            column: d.column.unwrap_or(1).max(1),
            message: d.message,
            severity: match d.severity {
                ferry_config::Severity::Error => Severity::Error,
                ferry_config::Severity::Warning => Severity::Warning,
            },
        })
        .collect()
}

/// The "new from template" image set: metadata kept in a local folder next to the file.
pub fn image_set_template() -> String {
    ferry_config::template(ferry_config::TemplateStorage::Local("./metadata".into()))
}

fn parse(yaml: &str) -> Result<ferry_config::ImageSetConfiguration> {
    ferry_config::parse_str(yaml, "the image set").map_err(|e| Error::InvalidConfig(e.to_string()))
}

/// The image set as a run of the app uses it (see [`resolve_storage_path`]).
fn parse_at(yaml: &str, config_path: Option<&Path>) -> Result<ferry_config::ImageSetConfiguration> {
    let mut cfg = parse(yaml)?;
    resolve_storage_path(&mut cfg, config_path)?;
    crate::helm::resolve_paths(&mut cfg, config_path)?;
    Ok(cfg)
}

/// A relative `storageConfig.local.path` is taken relative to the folder of the image-set file
/// (`config_path`), never to the app's working directory (wherever the desktop started it, so
/// the metadata would land somewhere nobody looks and the next run would start over at
/// sequence 1). An unsaved image set with a relative path is refused with what to do.
pub fn resolve_storage_path(cfg: &mut ferry_config::ImageSetConfiguration, config_path: Option<&Path>) -> Result<()> {
    let Some(local) = cfg.storage_config.as_mut().and_then(|s| s.local.as_mut()) else {
        return Ok(());
    };
    let rel = PathBuf::from(if local.path.is_empty() {
        "."
    } else {
        local.path.as_str()
    });
    if rel.is_absolute() {
        return Ok(());
    }
    let base = config_path
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .ok_or_else(|| {
            Error::InvalidConfig(format!(
                "storageConfig.local.path {:?} is relative, and this image set is not saved to a file: save it first \
                 (the path is taken relative to the file's folder) or give an absolute path",
                local.path
            ))
        })?;
    let base = std::path::absolute(base).map_err(|e| Error::io(base.display(), e))?;
    local.path = base.join(rel).display().to_string();
    Ok(())
}

/// A registry the user typed (`host[:port][/namespace]`, with or without `docker://`).
pub fn registry_destination(input: &str) -> Result<Destination> {
    let t = input.trim();
    let full = if t.contains("://") {
        t.to_string()
    } else {
        format!("docker://{t}")
    };
    let d = Destination::parse(&full).map_err(|e| Error::InvalidReference(format!("{}: {}", e.input, e.reason)))?;
    match d {
        Destination::Registry { .. } => Ok(d),
        Destination::Disk(_) => Err(Error::InvalidReference(format!(
            "{t}: this needs a registry (host[:port][/namespace]), not a folder"
        ))),
    }
}

fn source_kind(k: ImageKind) -> SourceKind {
    match k {
        ImageKind::OcpRelease | ImageKind::OcpReleaseContent | ImageKind::CincinnatiGraph => SourceKind::Release,
        ImageKind::OperatorCatalog | ImageKind::OperatorBundle | ImageKind::OperatorRelatedImage => {
            SourceKind::Operator
        }
        ImageKind::Generic => SourceKind::Additional,
    }
}

/// Total bytes of one image: its manifests and every blob they reference (all platforms).
/// Returns the blob digests too, so blobs shared between images are counted once overall.
async fn image_size(src: Arc<dyn ImageSource>, repo: &str, digest: &str) -> Result<(u64, Vec<(String, u64)>)> {
    let tree = crate::image_tree::ImageTree::fetch(src.as_ref(), repo, digest, &format!("{repo}@{digest}")).await?;
    let blobs = tree.blobs();
    let total = tree.manifest_bytes() + blobs.iter().map(|(_, s)| s).sum::<u64>();
    Ok((total, blobs))
}

/// The dry run: resolves every image against its source registry and reads its manifests for
/// the sizes, then counts archive parts (a lower bound: oc-mirror never splits a file) and
/// compares with the destination's free space.
/// Planning downloads what it reads (helm chart archives) into a workspace; this one is a
/// private temporary folder, removed when the plan is done (the callers without the app's data
/// folder, such as the guided checks, keep nothing of a plan).
pub async fn plan_summary(yaml: &str, destination: Option<&Path>) -> Result<PlanSummary> {
    let scratch = scratch_workspace()?;
    let r = plan_summary_at(yaml, None, destination, &scratch).await;
    let _ = std::fs::remove_dir_all(&scratch);
    r
}

/// A fresh private folder under the system's temporary directory.
fn scratch_workspace() -> Result<PathBuf> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("ferry-plan-{}-{n}-{nanos}", std::process::id()));
    // create_dir (not _all): fails if the name exists, so nothing else's folder is reused.
    std::fs::create_dir(&dir).map_err(|e| Error::io(dir.display(), e))?;
    Ok(dir)
}

/// The app's workspace under its data folder (`<data>/workspace`): results of imports and
/// mirrors, charts a plan downloads, an export's scratch. Never the process's working
/// directory, which for a desktop app is wherever it was started from.
pub fn app_workspace(data_dir: &Path) -> PathBuf {
    data_dir.join("workspace")
}

/// [`plan_summary`] of the image set saved at `config_path`: its relative paths resolve
/// against the file's folder as in a run ([`parse_at`]). Without a file the set is planned as
/// written (planning reads no metadata, and the editor flags what a run would refuse).
/// `workspace` is the app's ([`app_workspace`]): what planning downloads goes there.
pub async fn plan_summary_at(
    yaml: &str,
    config_path: Option<&Path>,
    destination: Option<&Path>,
    workspace: &Path,
) -> Result<PlanSummary> {
    let cfg = match config_path {
        Some(_) => parse_at(yaml, config_path)?,
        None => parse(yaml)?,
    };
    let selection = ImageSelection::from_config(&cfg)?;
    let opts = MirrorOptions {
        workspace: workspace.to_path_buf(),
        ..MirrorOptions::default()
    };
    let client = crate::registry::build_client(&opts.registry, None)?;
    let plan = crate::mirror::plan(&selection, &client, &opts).await?;
    let mut groups: Vec<PlanGroup> = Vec::new();
    let mut unique: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut manifest_total = 0u64;
    let mut sizes = crate::release_browse::ImageSizes::new();
    for img in &plan.images {
        let kind = source_kind(img.kind);
        let src: Arc<dyn ImageSource> = Arc::new(client.registry(&img.source.registry));
        let (bytes, blobs) = image_size(src, &img.source.repository, &img.digest().to_string()).await?;
        let blob_sum: u64 = blobs.iter().map(|(_, s)| s).sum();
        manifest_total += bytes - blob_sum;
        if matches!(img.kind, ImageKind::OcpRelease | ImageKind::OcpReleaseContent) {
            let key = (img.dest_repo.clone(), img.dest_tag.clone());
            sizes.insert(key, (bytes - blob_sum, blobs.clone()));
        }
        unique.extend(blobs);
        let entry = PlanImage {
            source: img.requested.to_string(),
            destination: format!("{}:{}", img.dest_repo, img.dest_tag),
            digest: Some(img.digest().to_string()),
            bytes: Some(bytes),
        };
        match groups.iter_mut().find(|g| g.kind == kind) {
            Some(g) => g.images.push(entry),
            None => groups.push(PlanGroup {
                kind,
                images: vec![entry],
            }),
        }
    }
    if let Some(f) = plan.failures.first() {
        return Err(Error::NotFound {
            what: f.image.clone(),
            hint: Some(f.message.clone()),
        });
    }
    let archive = cfg.archive_size.filter(|s| *s > 0).map(|g| g * GIB);
    let dest = match destination {
        Some(p) => Some(crate::app_files::folder_info(p)?),
        None => None,
    };
    let total = manifest_total + unique.values().sum::<u64>();
    let parts = match archive {
        Some(a) if total > 0 => total.div_ceil(a) as u32,
        _ => 1,
    };
    // Tar headers and metadata add a little; 1% plus 1 MiB keeps the answer honest.
    let needed = total + total / 100 + (1 << 20);
    let fits = dest.as_ref().map(|d| d.writable && d.free_bytes >= needed);
    Ok(PlanSummary {
        groups,
        blocked: plan
            .blocked
            .iter()
            .map(|b| BlockedImage {
                image: b.image.clone(),
                pattern: b.pattern.clone(),
            })
            .collect(),
        total_bytes: total,
        archive_size_bytes: archive,
        parts,
        destination: dest,
        fits,
        releases: crate::release_browse::plan_rows(&plan, &sizes),
    })
}

/// Mirror-to-disk into `folder` (resumes an interrupted export of the same set there);
/// `workspace` is the app's ([`app_workspace`]), never a relative folder.
pub async fn export(
    job_id: &str,
    yaml: &str,
    config_path: Option<&Path>,
    folder: &Path,
    workspace: &Path,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<JobSummary> {
    let started = std::time::Instant::now();
    let cfg = parse_at(yaml, config_path)?;
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder.display(), e))?;
    // The app's runs: the same option mapping as the CLI's flags (keep going past a failed
    // image and list it in the summary; the set then does not count it as shipped).
    let ro = RunOptions::app(workspace.to_path_buf());
    let selection = ro.selection(&cfg)?;
    let opts = ro.disk_options(Some(&cfg));
    let r = crate::disk::mirror_selection_to_disk(&selection, &cfg, folder, &opts, progress, cancel).await?;
    Ok(JobSummary {
        job_id: job_id.to_string(),
        kind: JobKind::MirrorToDisk,
        sequence: Some(r.sequence),
        images_copied: r.images_packed as u32,
        images_up_to_date: (r.images - r.images_packed) as u32,
        failed: failed_images(&r.failed),
        bytes: r.blob_bytes_written,
        elapsed_secs: started.elapsed().as_secs(),
        parts: r
            .parts
            .iter()
            .map(|p| PartInfo {
                name: p.name.clone(),
                bytes: p.size.unwrap_or(0),
                sha256: p.sha256.clone().unwrap_or_default(),
            })
            .collect(),
        results_dir: None,
    })
}

/// Disk-to-mirror from `folder` into `registry`.
pub async fn import(
    job_id: &str,
    folder: &Path,
    registry: &str,
    workspace: &Path,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<JobSummary> {
    let started = std::time::Instant::now();
    let dest = registry_destination(registry)?;
    let opts = RunOptions::app(workspace.to_path_buf()).disk_options(None);
    let r = crate::disk::disk_to_mirror(folder, &dest, &opts, progress, cancel).await?;
    Ok(JobSummary {
        job_id: job_id.to_string(),
        kind: JobKind::DiskToMirror,
        sequence: Some(r.sequence),
        images_copied: r.images_pushed as u32,
        images_up_to_date: r.images_up_to_date as u32,
        failed: failed_images(&r.failed),
        bytes: r.bytes_copied,
        elapsed_secs: started.elapsed().as_secs(),
        parts: vec![],
        results_dir: Some(r.results_dir.display().to_string()),
    })
}

/// The summary's failure list: each image the run left out, with the engine's reason (query
/// strings stripped, as everywhere the UI shows text).
fn failed_images(f: &[crate::disk::FailedImage]) -> Vec<wire::FailedImage> {
    f.iter()
        .map(|f| wire::FailedImage {
            image: f.image.clone(),
            error: wire::WireError {
                code: wire::ErrorCode::Internal,
                message: ferry_types::redact_query_strings(&f.error),
            },
        })
        .collect()
}

/// Mirror-to-mirror of the image set into `registry` (pruning plan shown, nothing deleted).
pub async fn mirror(
    job_id: &str,
    yaml: &str,
    config_path: Option<&Path>,
    registry: &str,
    workspace: &Path,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<JobSummary> {
    mirror_pruning(job_id, yaml, config_path, registry, workspace, false, progress, cancel).await
}

/// [`mirror`], deleting what the pruning plan lists when `prune` (the app asks only after its
/// confirmation dialog listed them: `--prune` on the command line).
#[allow(clippy::too_many_arguments)]
pub async fn mirror_pruning(
    job_id: &str,
    yaml: &str,
    config_path: Option<&Path>,
    registry: &str,
    workspace: &Path,
    prune: bool,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<JobSummary> {
    let started = std::time::Instant::now();
    let cfg = parse_at(yaml, config_path)?;
    let ro = RunOptions {
        prune,
        ..RunOptions::app(workspace.to_path_buf())
    };
    let selection = ro.selection(&cfg)?;
    let dest = registry_destination(registry)?;
    let opts = ro.mirror_options(Some(&cfg));
    let r = crate::mirror::mirror_to_mirror(&selection, &dest, &opts, progress, cancel).await?;
    Ok(JobSummary {
        job_id: job_id.to_string(),
        kind: JobKind::MirrorToMirror,
        sequence: r.sequence,
        images_copied: r.images_copied as u32,
        images_up_to_date: (r.images_up_to_date + r.images_from_history) as u32,
        failed: failed_images(&r.failed),
        bytes: r.bytes_copied,
        elapsed_secs: started.elapsed().as_secs(),
        parts: vec![],
        results_dir: Some(r.results_dir.display().to_string()),
    })
}

fn login_view(s: &ferry_auth::CredentialSummary) -> RegistryLogin {
    RegistryLogin {
        registry: s.key.clone(),
        username: s.username.clone().unwrap_or_else(|| "(token)".into()),
        source: match s.origin {
            ferry_auth::EntryOrigin::PullSecret => "pull secret".into(),
            ferry_auth::EntryOrigin::Mirror => "mirror login".into(),
        },
    }
}

/// The stored logins (never the secrets).
pub fn list_logins() -> Result<Vec<RegistryLogin>> {
    let store = crate::credentials::open_store()?;
    Ok(crate::credentials::list(&store)
        .entries
        .iter()
        .map(login_view)
        .collect())
}

pub fn import_pull_secret(text: &str) -> Result<Vec<RegistryLogin>> {
    let mut store = crate::credentials::open_store()?;
    let r = crate::credentials::import_pull_secret(&mut store, text, "the pasted pull secret")?;
    Ok(r.imported.iter().map(login_view).collect())
}

pub fn add_login(registry: &str, username: &str, password: String) -> Result<RegistryLogin> {
    let mut store = crate::credentials::open_store()?;
    let s = crate::credentials::save_login(&mut store, registry, username, ferry_auth::Secret::new(password), None)?;
    Ok(login_view(&s))
}

/// Tests the stored login of `registry` (and push permission); a refusal is an `Unauthorized`
/// or `Denied` error whose message says what to fix.
pub async fn test_login(registry: &str) -> Result<String> {
    use crate::credentials::LoginOutcome as O;
    let store = crate::credentials::open_store()?;
    let r = crate::credentials::test_login(&store, registry, None, None, true).await?;
    let msg = r.message.clone();
    match r.outcome {
        O::Ok => Ok(match r.warning {
            Some(w) => format!("{msg} ({w})"),
            None => msg,
        }),
        O::WrongCredentials | O::NoCredentials => Err(Error::Unauthorized {
            registry: r.registry,
            tried: r.credential_source.unwrap_or_else(|| "none".into()),
        }),
        O::NoPushPermission => Err(Error::Denied {
            registry: r.registry,
            repository: r.push_repository.unwrap_or_default(),
            action: "push".into(),
        }),
        O::UntrustedCertificate => Err(Error::Tls {
            registry: r.registry,
            detail: msg,
        }),
        O::Unreachable => Err(Error::Unreachable {
            registry: r.registry,
            detail: msg,
        }),
        O::Failed => Err(Error::Internal(msg)),
    }
}

pub fn set_trust(t: &TrustSettings) -> Result<()> {
    let mut store = crate::credentials::open_store()?;
    store.set_trust(
        &t.registry,
        ferry_auth::RegistryTrust {
            ca_bundle: t.ca_bundle.as_ref().filter(|s| !s.is_empty()).map(PathBuf::from),
            skip_verify: t.skip_tls_verify,
            plain_http: t.plain_http,
        },
    )
}

pub fn export_auth_file(path: &Path) -> Result<()> {
    let store = crate::credentials::open_store()?;
    crate::credentials::export_auth_json(&store, Some(path)).map(|_| ())
}

/// The wire error of any engine error (for callers that only hold a `Result`).
pub fn wire_error(e: Error) -> wire::WireError {
    e.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_places_findings_for_the_editor() {
        let d = validate_image_set(
            "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\narchiveSize: [\n",
        );
        assert!(!d.is_empty());
        assert!(d.iter().all(|x| x.line >= 1 && x.column >= 1), "{d:?}");
        let ok = validate_image_set(&image_set_template());
        assert!(
            ok.iter().all(|x| x.severity != Severity::Error),
            "the template must validate: {ok:?}"
        );
    }

    #[test]
    fn relative_metadata_paths_follow_the_image_set_file() {
        let yaml = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: ./metadata\nmirror:\n  additionalImages:\n    - name: quay.io/x/y:1\n";
        let d = std::env::temp_dir().join(format!("ferry-isc-{}", std::process::id()));
        let cfg = parse_at(yaml, Some(&d.join("isc.yaml"))).unwrap();
        let got = PathBuf::from(&cfg.storage_config.unwrap().local.unwrap().path);
        assert_eq!(got, d.join("./metadata"));
        // Unsaved: refused with what to do, never the app's working directory.
        let e = parse_at(yaml, None).unwrap_err().to_string();
        assert!(e.contains("./metadata") && e.contains("save it first"), "{e}");
        // Absolute paths stay as they are.
        let abs = yaml.replace("./metadata", "/srv/meta");
        let cfg = parse_at(&abs, None).unwrap();
        assert_eq!(cfg.storage_config.unwrap().local.unwrap().path, "/srv/meta");
    }

    #[test]
    fn registry_destinations_accept_plain_host_and_namespace() {
        match registry_destination("127.0.0.1:5000/mirror").unwrap() {
            Destination::Registry { registry, namespace } => {
                assert_eq!(registry, "127.0.0.1:5000");
                assert_eq!(namespace.as_deref(), Some("mirror"));
            }
            d => panic!("{d:?}"),
        }
        assert!(registry_destination("file:///tmp/x").is_err());
    }
}
