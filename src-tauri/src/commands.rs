//! Tauri commands: thin adapters over the engine facade (`ferry_api`, mostly its
//! `app_workflows`/`app_files` helpers). Each converts its arguments, calls the facade and
//! returns the wire error `{code, message}` on failure. Blocking work runs off the UI thread.

use crate::jobs::{self, JobHandle, JobSpec, Jobs};
use ferry_api::app_history::{self as history, PendingExport, PendingImport};
use ferry_api::app_workflows as wf;
use ferry_api::wire::{
    Diagnostic, EngineInfo, FolderInfo, HistoryEntry, JobEvent, JobKind, MediaReport, PlanSummary, RegistryLogin,
    ResultsView, TrustSettings, WireError,
};
use std::path::PathBuf;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

type CmdResult<T> = Result<T, WireError>;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ferry_api::Result<T> + Send + 'static) -> CmdResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WireError::from(ferry_api::Error::Internal(format!("background task failed: {e}"))))?
        .map_err(WireError::from)
}

/// Where the app keeps its history, pending export and results workspace.
fn data_dir(app: &AppHandle) -> CmdResult<PathBuf> {
    app.path()
        .app_data_dir()
        .map_err(|e| WireError::from(ferry_api::Error::Internal(format!("no app data folder: {e}"))))
}

/// The engine version shown in the window's masthead.
#[tauri::command]
pub fn engine_version() -> EngineInfo {
    EngineInfo {
        version: ferry_api::version().to_string(),
    }
}

#[tauri::command]
pub fn image_set_template() -> String {
    wf::image_set_template()
}

#[tauri::command]
pub async fn validate_image_set(yaml: String, config_path: Option<String>) -> CmdResult<Vec<Diagnostic>> {
    // With the file's path: what a run of this saved (or unsaved) set would refuse is flagged too.
    let at = config_path.filter(|p| !p.is_empty()).map(PathBuf::from);
    blocking(move || Ok(ferry_api::app_validate::validate_image_set_at(&yaml, at.as_deref()))).await
}

#[tauri::command]
pub async fn read_text_file(path: String) -> CmdResult<String> {
    blocking(move || ferry_api::app_files::read_text_file(&PathBuf::from(path))).await
}

#[tauri::command]
pub async fn write_text_file(path: String, content: String) -> CmdResult<()> {
    blocking(move || ferry_api::app_files::write_text_file(&PathBuf::from(path), &content)).await
}

#[tauri::command]
pub async fn folder_info(path: String) -> CmdResult<FolderInfo> {
    blocking(move || ferry_api::app_files::folder_info(&PathBuf::from(path))).await
}

#[tauri::command]
pub async fn load_results(dir: String) -> CmdResult<ResultsView> {
    blocking(move || ferry_api::app_files::load_results(&PathBuf::from(dir))).await
}

#[tauri::command]
pub async fn plan_dry_run(
    app: AppHandle,
    yaml: String,
    destination: Option<String>,
    config_path: Option<String>,
) -> CmdResult<PlanSummary> {
    let dest = destination.filter(|d| !d.trim().is_empty()).map(PathBuf::from);
    let at = config_path.filter(|p| !p.is_empty()).map(PathBuf::from);
    let ws = wf::app_workspace(&data_dir(&app)?);
    // On the blocking pool with its own block_on, like the jobs: the planners' futures need not
    // be Send (the release and helm planners hold non-Send borrows across awaits).
    blocking(move || {
        tokio::runtime::Handle::current().block_on(wf::plan_summary_at(&yaml, at.as_deref(), dest.as_deref(), &ws))
    })
    .await
}

fn start_export(
    app: &AppHandle,
    jobs: Arc<Jobs>,
    id_hint: Option<String>,
    yaml: String,
    config_path: Option<String>,
    folder: String,
    ch: Channel<JobEvent>,
) -> CmdResult<JobHandle> {
    let data = data_dir(app)?;
    let _ = std::fs::create_dir_all(&data);
    let spec = JobSpec {
        kind: JobKind::MirrorToDisk,
        backend: folder.clone(),
        data_dir: data.clone(),
    };
    let ws = wf::app_workspace(&data);
    // The record lives exactly as long as the run (see ferry_api::app_resume): written inside the
    // job before the first byte, removed only when the run completed.
    Ok(jobs::start(jobs, spec, ch, move |id, sink, cancel| async move {
        let record = PendingExport {
            id: id_hint.unwrap_or_else(|| id.clone()),
            yaml,
            folder,
            started_at: history::now_iso(),
            config_path,
        };
        ferry_api::app_resume::export(&data, &id, &record, &ws, sink, cancel).await
    }))
}

#[tauri::command]
pub fn start_mirror_to_disk(
    app: AppHandle,
    jobs: State<'_, Arc<Jobs>>,
    yaml: String,
    folder: String,
    // The image-set file (relative storageConfig.local.path resolves against its folder).
    config_path: Option<String>,
    on_event: Channel<JobEvent>,
) -> CmdResult<JobHandle> {
    start_export(&app, jobs.inner().clone(), None, yaml, config_path, folder, on_event)
}

/// Interrupted exports and imports (the app closed or crashed during one).
#[tauri::command]
pub fn resumable_jobs(app: AppHandle, jobs: State<'_, Arc<Jobs>>) -> CmdResult<Vec<HistoryEntry>> {
    let data = data_dir(&app)?;
    // One running in this process is not "interrupted".
    if jobs.is_running_any() {
        return Ok(vec![]);
    }
    let mut out = Vec::new();
    if let Some(p) = history::read_pending(&data) {
        // What the interrupted export left on the media (the offer shows it; the resume keeps it).
        let mut entry = history::pending_entry(&p);
        entry.bytes = crate::runs::bytes_on_media(std::path::Path::new(&p.folder));
        out.push(entry);
    }
    if let Some(p) = history::read_pending_import(&data) {
        // The size of the media being imported (its parts as they are in the folder now).
        let mut entry = history::pending_import_entry(&p);
        entry.bytes = crate::runs::bytes_on_media(std::path::Path::new(&p.folder));
        out.push(entry);
    }
    Ok(out)
}

#[tauri::command]
pub fn resume_job(
    app: AppHandle,
    jobs: State<'_, Arc<Jobs>>,
    job_id: String,
    on_event: Channel<JobEvent>,
) -> CmdResult<JobHandle> {
    let data = data_dir(&app)?;
    if let Some(p) = history::read_pending_import(&data).filter(|p| p.id == job_id) {
        return start_import(&app, jobs.inner().clone(), Some(p.id), p.folder, p.registry, on_event);
    }
    let p = history::read_pending(&data).filter(|p| p.id == job_id).ok_or_else(|| {
        WireError::from(ferry_api::Error::NotFound {
            what: format!("interrupted export or import {job_id}"),
            hint: Some("start it again from the Export or Import screen".into()),
        })
    })?;
    start_export(
        &app,
        jobs.inner().clone(),
        Some(p.id),
        p.yaml,
        p.config_path,
        p.folder,
        on_event,
    )
}

#[tauri::command]
pub fn cancel_job(jobs: State<'_, Arc<Jobs>>, job_id: String) -> bool {
    jobs.cancel(&job_id)
}

#[tauri::command]
pub async fn verify_media(folder: String) -> CmdResult<MediaReport> {
    blocking(move || ferry_api::app_media::verify_media(&PathBuf::from(folder))).await
}

#[tauri::command]
pub fn start_disk_to_mirror(
    app: AppHandle,
    jobs: State<'_, Arc<Jobs>>,
    folder: String,
    registry: String,
    on_event: Channel<JobEvent>,
) -> CmdResult<JobHandle> {
    start_import(&app, jobs.inner().clone(), None, folder, registry, on_event)
}

fn start_import(
    app: &AppHandle,
    jobs: Arc<Jobs>,
    id_hint: Option<String>,
    folder: String,
    registry: String,
    ch: Channel<JobEvent>,
) -> CmdResult<JobHandle> {
    let data = data_dir(app)?;
    let _ = std::fs::create_dir_all(&data);
    let spec = JobSpec {
        kind: JobKind::DiskToMirror,
        backend: registry.clone(),
        data_dir: data.clone(),
    };
    let workspace = data.join("workspace");
    // The record lives exactly as long as the run (see ferry_api::app_resume): after a crash the
    // import is offered again, and the re-run skips every blob the target already holds.
    let offer = id_hint.unwrap_or_else(|| offer_id("import"));
    Ok(jobs::start(jobs, spec, ch, move |id, sink, cancel| async move {
        let record = PendingImport {
            id: offer,
            folder,
            registry,
            started_at: history::now_iso(),
        };
        ferry_api::app_resume::import(&data, &id, &record, &workspace, sink, cancel).await
    }))
}

/// The id of a resume offer (stable across restarts, unlike job ids, which name the process).
fn offer_id(kind: &str) -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("{kind}-{ms}")
}

#[tauri::command]
pub fn start_mirror_to_mirror(
    app: AppHandle,
    jobs: State<'_, Arc<Jobs>>,
    yaml: String,
    registry: String,
    config_path: Option<String>,
    on_event: Channel<JobEvent>,
) -> CmdResult<JobHandle> {
    let data = data_dir(&app)?;
    let spec = JobSpec {
        kind: JobKind::MirrorToMirror,
        backend: registry.clone(),
        data_dir: data.clone(),
    };
    let workspace = data.join("workspace");
    Ok(jobs::start(
        jobs.inner().clone(),
        spec,
        on_event,
        move |id, sink, cancel| async move {
            let config = config_path.as_deref().map(std::path::Path::new);
            wf::mirror(&id, &yaml, config, &registry, &workspace, sink, cancel).await
        },
    ))
}

#[tauri::command]
pub fn history(app: AppHandle) -> CmdResult<Vec<HistoryEntry>> {
    Ok(history::read_history(&data_dir(&app)?))
}

#[tauri::command]
pub async fn list_logins() -> CmdResult<Vec<RegistryLogin>> {
    blocking(wf::list_logins).await
}

#[tauri::command]
pub async fn import_pull_secret(json: String) -> CmdResult<Vec<RegistryLogin>> {
    blocking(move || wf::import_pull_secret(&json)).await
}

#[tauri::command]
pub async fn add_login(registry: String, username: String, password: String) -> CmdResult<RegistryLogin> {
    blocking(move || wf::add_login(&registry, &username, password)).await
}

#[tauri::command]
pub async fn test_login(registry: String) -> CmdResult<String> {
    wf::test_login(&registry).await.map_err(WireError::from)
}

#[tauri::command]
pub async fn set_trust(settings: TrustSettings) -> CmdResult<()> {
    blocking(move || wf::set_trust(&settings)).await
}

#[tauri::command]
pub async fn export_auth_file(path: String) -> CmdResult<()> {
    blocking(move || wf::export_auth_file(&PathBuf::from(path))).await
}
