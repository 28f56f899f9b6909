//! What the guided flow checks before a run starts (issue 12, "Bad input"): the image set is
//! valid and plans, every registry the plan touches has a credential or answers without one,
//! the target registry accepts the login and a push, and the destination folder exists, is
//! writable, has room for the plan and can hold its parts (FAT32 sticks: no file of 4 GiB).
//!
//! Each check is a [`PreflightCheck`] with the fix the UI offers; nothing is changed here, so a
//! failure keeps what the user entered. oc-mirror has no such step: it finds these problems
//! part-way through a run (a 401 on the first image, ENOSPC or EFBIG on a part).

use crate::app_workflows as wf;
use crate::preflight_fs;
use crate::wire::{FolderInfo, JobKind, PlanSummary};
use ferry_auth::CredentialStore;
use ferry_types::{Error, ErrorCode, ImageRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;
use ts_rs::TS;

/// How a check came out; `Error` blocks the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum CheckState {
    Ok,
    Warning,
    Error,
}

/// The fix the UI offers next to a failed check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum FixAction {
    EditImageSet,
    OpenCredentials,
    PickDestination,
    /// Write `suggestedArchiveSize` into the image set.
    SetArchiveSize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PreflightCheck {
    /// `image-set`, `plan`, `credentials`, `target`, `destination`, `space`, `filesystem`, `media`.
    pub id: String,
    pub state: CheckState,
    pub title: String,
    /// What was found, naming the file, registry or folder.
    pub detail: String,
    pub fix: Option<FixAction>,
    /// With `SetArchiveSize`: the `archiveSize` (GiB) whose parts fit the destination.
    pub suggested_archive_size: Option<u64>,
}

/// A registry the run reads from or writes to, and the credential a run would use there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RegistryAccess {
    pub registry: String,
    /// `source` or `target`.
    pub role: String,
    /// Where the credential comes from (never the secret); None: anonymous.
    pub credential_source: Option<String>,
}

/// The destination folder with its file system (`vfat`, `exfat`, `ext4`, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DestinationInfo {
    pub folder: FolderInfo,
    pub fs_type: String,
    /// The largest file the file system holds, when it has a limit (FAT: 4 GiB - 1).
    pub max_file_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PreflightRequest {
    pub kind: JobKind,
    /// The image set (mirror-to-disk and mirror-to-mirror).
    pub yaml: Option<String>,
    /// Export folder (mirror-to-disk) or media folder (disk-to-mirror).
    pub folder: Option<String>,
    /// Target registry (mirror-to-mirror and disk-to-mirror).
    pub registry: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PreflightReport {
    /// No check is an error: the run may start.
    pub ready: bool,
    pub checks: Vec<PreflightCheck>,
    pub plan: Option<PlanSummary>,
    pub registries: Vec<RegistryAccess>,
    pub destination: Option<DestinationInfo>,
}

/// "1 image", "3 images" (the UI has the same rule in `plural()`).
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Bytes in binary units, as the UI shows them (`formatBytes`).
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let (mut v, mut i) = (n as f64, 0);
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if v >= 100.0 {
        format!("{v:.0} {}", UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

fn check(id: &str, state: CheckState, title: impl Into<String>, detail: impl Into<String>) -> PreflightCheck {
    PreflightCheck {
        id: id.into(),
        state,
        title: title.into(),
        detail: detail.into(),
        fix: None,
        suggested_archive_size: None,
    }
}

fn with_fix(mut c: PreflightCheck, fix: FixAction) -> PreflightCheck {
    c.fix = Some(fix);
    c
}

/// The folder with its file system type, for the destination step (free space shown live).
pub fn destination_info(path: &Path) -> ferry_types::Result<DestinationInfo> {
    let folder = crate::app_files::folder_info(path)?;
    let fs_type = preflight_fs::fs_type_of(path);
    let max_file_bytes = preflight_fs::max_file_bytes(&fs_type);
    Ok(DestinationInfo {
        folder,
        fs_type,
        max_file_bytes,
    })
}

/// The registries the plan's images come from (the hosts of their source references).
pub fn source_registries(plan: &PlanSummary) -> Vec<String> {
    let set: BTreeSet<String> = plan
        .groups
        .iter()
        .flat_map(|g| g.images.iter())
        .filter_map(|i| ImageRef::parse(&i.source).ok().map(|r| r.registry))
        .collect();
    set.into_iter().collect()
}

/// The credential a run would use for each registry (the same resolver as the run).
pub fn credential_coverage(
    store: &CredentialStore,
    registries: &[String],
    role: &str,
) -> ferry_types::Result<Vec<RegistryAccess>> {
    let resolver = crate::credentials::run_resolver(store, None)?;
    Ok(registries
        .iter()
        .map(|r| RegistryAccess {
            registry: r.clone(),
            role: role.into(),
            credential_source: resolver.resolve(r, "").map(|c| c.source),
        })
        .collect())
}

/// Runs every check for `req` with the default credential store.
pub async fn preflight(req: &PreflightRequest) -> ferry_types::Result<PreflightReport> {
    let store = crate::credentials::open_store()?;
    Ok(preflight_with(&store, req).await)
}

/// Runs every check; problems are checks in the report, never an `Err`.
pub async fn preflight_with(store: &CredentialStore, req: &PreflightRequest) -> PreflightReport {
    let mut checks = Vec::new();
    let mut registries = Vec::new();
    let mut plan = None;
    let mut destination = None;
    let needs_image_set = req.kind != JobKind::DiskToMirror;
    if needs_image_set {
        plan = image_set_checks(store, req.yaml.as_deref().unwrap_or(""), &mut checks, &mut registries).await;
    }
    if req.kind == JobKind::MirrorToDisk {
        destination = destination_checks(req.folder.as_deref(), req.yaml.as_deref(), plan.as_ref(), &mut checks);
    }
    if req.kind == JobKind::DiskToMirror {
        checks.push(media_check(req.folder.as_deref()));
    }
    if req.kind != JobKind::MirrorToDisk {
        target_check(store, req.registry.as_deref(), &mut checks, &mut registries).await;
    }
    PreflightReport {
        ready: checks.iter().all(|c| c.state != CheckState::Error),
        checks,
        plan,
        registries,
        destination,
    }
}

async fn image_set_checks(
    store: &CredentialStore,
    yaml: &str,
    checks: &mut Vec<PreflightCheck>,
    registries: &mut Vec<RegistryAccess>,
) -> Option<PlanSummary> {
    let errors: Vec<_> = wf::validate_image_set(yaml)
        .into_iter()
        .filter(|d| d.severity == crate::wire::Severity::Error)
        .collect();
    if !errors.is_empty() {
        let list: Vec<String> = errors
            .iter()
            .take(3)
            .map(|d| format!("line {}: {}", d.line, d.message))
            .collect();
        checks.push(with_fix(
            check(
                "image-set",
                CheckState::Error,
                format!("The image set has {}", plural(errors.len(), "problem")),
                list.join("; "),
            ),
            FixAction::EditImageSet,
        ));
        return None;
    }
    checks.push(check(
        "image-set",
        CheckState::Ok,
        "The image set is valid",
        "no problems found",
    ));
    let summary = match wf::plan_summary(yaml, None).await {
        Ok(s) => s,
        Err(e) => {
            checks.push(plan_failure(&e));
            return None;
        }
    };
    let n = summary.groups.iter().map(|g| g.images.len()).sum::<usize>();
    checks.push(check(
        "plan",
        CheckState::Ok,
        format!("The plan resolves {}", plural(n, "image")),
        format!("{} of image data", format_bytes(summary.total_bytes)),
    ));
    match credential_coverage(store, &source_registries(&summary), "source") {
        Ok(access) => {
            let detail: Vec<String> = access
                .iter()
                .map(|a| match &a.credential_source {
                    Some(s) => format!("{}: login from {s}", a.registry),
                    // The plan just read this registry's manifests without one.
                    None => format!("{}: no login stored; it answered without one", a.registry),
                })
                .collect();
            checks.push(check(
                "credentials",
                CheckState::Ok,
                format!("Every source registry answers ({})", access.len()),
                detail.join("; "),
            ));
            registries.extend(access);
        }
        Err(e) => checks.push(with_fix(
            check(
                "credentials",
                CheckState::Error,
                "The stored credentials cannot be read",
                e.to_string(),
            ),
            FixAction::OpenCredentials,
        )),
    }
    Some(summary)
}

/// A plan that fails names the image or registry; the fix depends on what failed.
fn plan_failure(e: &Error) -> PreflightCheck {
    match e.code() {
        ErrorCode::InvalidConfig | ErrorCode::InvalidReference => with_fix(
            check(
                "image-set",
                CheckState::Error,
                "The image set cannot be planned",
                e.to_string(),
            ),
            FixAction::EditImageSet,
        ),
        ErrorCode::Unauthorized | ErrorCode::Denied | ErrorCode::Tls => with_fix(
            check(
                "credentials",
                CheckState::Error,
                "A source registry refused the login or its certificate",
                e.to_string(),
            ),
            FixAction::OpenCredentials,
        ),
        _ => with_fix(
            check("plan", CheckState::Error, "The plan failed", e.to_string()),
            FixAction::EditImageSet,
        ),
    }
}

fn destination_checks(
    folder: Option<&str>,
    yaml: Option<&str>,
    plan: Option<&PlanSummary>,
    checks: &mut Vec<PreflightCheck>,
) -> Option<DestinationInfo> {
    let Some(folder) = folder.map(str::trim).filter(|f| !f.is_empty()) else {
        checks.push(with_fix(
            check(
                "destination",
                CheckState::Error,
                "No destination folder",
                "pick the folder or drive for the archive",
            ),
            FixAction::PickDestination,
        ));
        return None;
    };
    let info = match destination_info(Path::new(folder)) {
        Ok(i) => i,
        Err(e) => {
            checks.push(with_fix(
                check(
                    "destination",
                    CheckState::Error,
                    format!("{folder} cannot be used"),
                    e.to_string(),
                ),
                FixAction::PickDestination,
            ));
            return None;
        }
    };
    if !info.folder.writable {
        checks.push(with_fix(
            check(
                "destination",
                CheckState::Error,
                format!("{folder} is not writable"),
                "Ferry could not create a file there (read-only mount or no permission); pick another folder",
            ),
            FixAction::PickDestination,
        ));
        return Some(info);
    }
    checks.push(check(
        "destination",
        CheckState::Ok,
        format!("{folder} is writable"),
        format!("{} file system", info.fs_type),
    ));
    if let Some(plan) = plan {
        // The same margin as the plan's `fits`: tar headers and metadata.
        let needed = plan.total_bytes + plan.total_bytes / 100 + (1 << 20);
        let free = info.folder.free_bytes;
        checks.push(if free >= needed {
            check(
                "space",
                CheckState::Ok,
                "Enough free space",
                format!("needs {}, {} free", format_bytes(needed), format_bytes(free)),
            )
        } else {
            with_fix(
                check(
                    "space",
                    CheckState::Error,
                    format!("Not enough room on {folder}"),
                    format!(
                        "needs {}, {} free; pick a larger drive or free space there",
                        format_bytes(needed),
                        format_bytes(free)
                    ),
                ),
                FixAction::PickDestination,
            )
        });
        checks.push(filesystem_check(&info, yaml, plan));
    }
    Some(info)
}

/// Parts larger than the file system's file limit cannot be written (FAT32: 4 GiB - 1).
fn filesystem_check(info: &DestinationInfo, yaml: Option<&str>, plan: &PlanSummary) -> PreflightCheck {
    let Some(limit) = info.max_file_bytes else {
        return check(
            "filesystem",
            CheckState::Ok,
            format!("{} holds parts of any size", info.fs_type),
            "no per-file limit applies",
        );
    };
    let written = yaml
        .and_then(|y| ferry_config::parse_str(y, "the image set").ok())
        .and_then(|c| c.archive_size);
    let archive_gib = ferry_config::defaults::archive_size_gib(written);
    // The largest part: the whole export when it is smaller than archiveSize.
    let largest = plan.total_bytes.min(archive_gib.saturating_mul(1 << 30));
    if largest <= limit {
        return check(
            "filesystem",
            CheckState::Ok,
            format!("Every part fits on {}", info.fs_type),
            format!(
                "parts of up to {} (archiveSize {archive_gib}); {} holds files up to {}",
                format_bytes(largest),
                info.fs_type,
                format_bytes(limit)
            ),
        );
    }
    let fit = preflight_fs::archive_size_that_fits(limit);
    let mut c = with_fix(
        check(
            "filesystem",
            CheckState::Error,
            format!("Parts over 4 GiB cannot be written to this {} drive", info.fs_type),
            format!(
                "archiveSize {archive_gib} makes parts of up to {}, but {} holds files up to {}; set archiveSize to \
                 {fit} (GiB) to write {} parts that fit, or use an exFAT or ext4 drive",
                format_bytes(largest),
                info.fs_type,
                format_bytes(limit),
                plan.total_bytes.div_ceil(fit << 30).max(1)
            ),
        ),
        FixAction::SetArchiveSize,
    );
    c.suggested_archive_size = Some(fit);
    c
}

fn media_check(folder: Option<&str>) -> PreflightCheck {
    let Some(folder) = folder.map(str::trim).filter(|f| !f.is_empty()) else {
        return with_fix(
            check(
                "media",
                CheckState::Error,
                "No media folder",
                "pick the folder that holds the archive parts",
            ),
            FixAction::PickDestination,
        );
    };
    let parts = std::fs::read_dir(folder).map(|rd| {
        rd.flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tar"))
            .count()
    });
    match parts {
        Ok(0) => with_fix(
            check(
                "media",
                CheckState::Error,
                format!("{folder} holds no archive part"),
                "pick the folder with the mirror_seq*.tar files",
            ),
            FixAction::PickDestination,
        ),
        Ok(n) => check(
            "media",
            CheckState::Ok,
            format!("{folder} holds {}", plural(n, "archive part")),
            "each part is verified as the import reads it",
        ),
        Err(e) => with_fix(
            check(
                "media",
                CheckState::Error,
                format!("{folder} cannot be read"),
                e.to_string(),
            ),
            FixAction::PickDestination,
        ),
    }
}

async fn target_check(
    store: &CredentialStore,
    registry: Option<&str>,
    checks: &mut Vec<PreflightCheck>,
    registries: &mut Vec<RegistryAccess>,
) {
    let Some(target) = registry.map(str::trim).filter(|r| !r.is_empty()) else {
        checks.push(with_fix(
            check(
                "target",
                CheckState::Error,
                "No target registry",
                "type the mirror registry, e.g. mirror.example.com:5000/ocp",
            ),
            FixAction::OpenCredentials,
        ));
        return;
    };
    let key = target.trim_start_matches("docker://");
    match crate::credentials::test_login(store, key, None, None, true).await {
        Ok(r) if r.outcome == crate::credentials::LoginOutcome::Ok => {
            registries.push(RegistryAccess {
                registry: r.registry.clone(),
                role: "target".into(),
                credential_source: r.credential_source.clone(),
            });
            checks.push(check(
                "target",
                CheckState::Ok,
                format!("{key} accepts a push"),
                r.message,
            ));
        }
        Ok(r) => checks.push(with_fix(
            check(
                "target",
                CheckState::Error,
                format!("{key} refused the login test"),
                r.message,
            ),
            FixAction::OpenCredentials,
        )),
        Err(e) => checks.push(with_fix(
            check(
                "target",
                CheckState::Error,
                format!("{key} cannot be tested"),
                e.to_string(),
            ),
            FixAction::OpenCredentials,
        )),
    }
}

#[cfg(test)]
#[path = "preflight_tests.rs"]
mod tests;
