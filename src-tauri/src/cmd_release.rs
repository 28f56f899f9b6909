//! Tauri commands of the release views (image-set editor pickers, upgrade-path graph, Results
//! signature status): thin adapters over `ferry_api::release_browse`.

use ferry_api::registry::RegistrySettings;
use ferry_api::release_browse;
use ferry_api::wire::{ReleaseGraphRequest, ReleaseGraphView, ReleaseSignatureRow, WireError};
use std::path::PathBuf;

type CmdResult<T> = Result<T, WireError>;

/// Runs engine work on the blocking pool with its own `block_on` (as the dry run does), so the
/// UI thread never waits on the update service.
async fn engine<T: Send + 'static>(f: impl FnOnce() -> ferry_api::Result<T> + Send + 'static) -> CmdResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WireError::from(ferry_api::Error::Internal(format!("background task failed: {e}"))))?
        .map_err(WireError::from)
}

/// A channel's update graph for one architecture with the engine's selection on it.
/// `index` is the entry's position in `mirror.platform.channels` (named in errors).
#[tauri::command]
pub async fn release_graph(index: u32, request: ReleaseGraphRequest) -> CmdResult<ReleaseGraphView> {
    engine(move || {
        tokio::runtime::Handle::current().block_on(release_browse::channel_graph(
            &RegistrySettings::default(),
            index as usize,
            &request,
        ))
    })
    .await
}

/// The channels carrying minor `version` (`X.Y`), as `ferry list releases --channels`.
#[tauri::command]
pub async fn release_channels(okd: bool, version: String, arch: String) -> CmdResult<Vec<String>> {
    engine(move || {
        tokio::runtime::Handle::current().block_on(release_browse::channels(
            &RegistrySettings::default(),
            okd,
            &version,
            &arch,
        ))
    })
    .await
}

/// The releases of a results folder and their signature status, verified again.
#[tauri::command]
pub async fn release_signatures(dir: String) -> CmdResult<Vec<ReleaseSignatureRow>> {
    engine(move || release_browse::results_signatures(&PathBuf::from(dir))).await
}
