//! Tauri commands of the helm chart section (image-set editor, Plan) and the pruning
//! confirmation (Mirror): thin adapters over `ferry_api::helm_browse`.

use crate::jobs::{self, JobHandle, JobSpec, Jobs};
use ferry_api::helm_browse;
use ferry_api::wire::{JobEvent, JobKind, WireError};
use ferry_api::wire_helm::{ChartPlanView, HelmLocalChart, HelmRepoIndex, PrunePreview};
use std::path::PathBuf;
use std::sync::Arc;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};

type CmdResult<T> = Result<T, WireError>;

/// Engine work on the blocking pool with its own `block_on`: the planners' futures need not be
/// `Send`, and the UI thread never waits on a chart repository.
async fn engine<T: Send + 'static>(f: impl FnOnce() -> ferry_api::Result<T> + Send + 'static) -> CmdResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WireError::from(ferry_api::Error::Internal(format!("background task failed: {e}"))))?
        .map_err(WireError::from)
}

/// The app's workspace (the one `start_mirror_to_mirror` uses, so the preview and the run
/// write `pruning-plan.json` to the same place).
fn workspace(app: &AppHandle) -> CmdResult<PathBuf> {
    app.path()
        .app_data_dir()
        .map(|d| d.join("workspace"))
        .map_err(|e| WireError::from(ferry_api::Error::Internal(format!("no app data folder: {e}"))))
}

/// A repository's charts and versions (its `index.yaml`).
#[tauri::command]
pub async fn helm_repository_index(url: String) -> CmdResult<HelmRepoIndex> {
    engine(move || tokio::runtime::Handle::current().block_on(helm_browse::repository_index(&url))).await
}

/// Name and version of a chart `.tgz` or folder picked with the file dialog.
#[tauri::command]
pub async fn helm_local_chart(path: String) -> CmdResult<HelmLocalChart> {
    engine(move || helm_browse::local_chart(&PathBuf::from(path))).await
}

/// The images each chart of the image set yields (for the Plan screen).
#[tauri::command]
pub async fn helm_chart_plan(yaml: String, config_path: Option<String>) -> CmdResult<Vec<ChartPlanView>> {
    engine(move || {
        let config = config_path.map(PathBuf::from);
        tokio::runtime::Handle::current().block_on(helm_browse::chart_plan(&yaml, config.as_deref()))
    })
    .await
}

/// The pruning plan a mirror of the image set into `registry` would act on (dry run).
#[tauri::command]
pub async fn prune_preview(
    app: AppHandle,
    yaml: String,
    registry: String,
    config_path: Option<String>,
) -> CmdResult<PrunePreview> {
    let ws = workspace(&app)?;
    engine(move || {
        let config = config_path.map(PathBuf::from);
        tokio::runtime::Handle::current().block_on(helm_browse::prune_preview(&yaml, config.as_deref(), &registry, &ws))
    })
    .await
}

/// Mirror-to-mirror that deletes the pruning plan's images: started only from the confirmation
/// dialog that listed them (the plain `start_mirror_to_mirror` keeps them).
#[tauri::command]
pub fn start_mirror_to_mirror_pruning(
    app: AppHandle,
    jobs: State<'_, Arc<Jobs>>,
    yaml: String,
    registry: String,
    config_path: Option<String>,
    on_event: Channel<JobEvent>,
) -> CmdResult<JobHandle> {
    let ws = workspace(&app)?;
    let spec = JobSpec {
        kind: JobKind::MirrorToMirror,
        backend: registry.clone(),
        data_dir: ws.parent().map(PathBuf::from).unwrap_or_else(|| ws.clone()),
    };
    Ok(jobs::start(
        jobs.inner().clone(),
        spec,
        on_event,
        move |id, sink, cancel| async move {
            let config = config_path.as_deref().map(std::path::Path::new);
            ferry_api::app_workflows::mirror_pruning(&id, &yaml, config, &registry, &ws, true, sink, cancel).await
        },
    ))
}
