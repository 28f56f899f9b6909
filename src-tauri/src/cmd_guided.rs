//! Commands of the guided flow: the destination with its file system (free space and the FAT32
//! file limit shown as the user picks a drive) and the checks run before a run starts. Thin
//! adapters over `ferry_api::preflight`.

use ferry_api::preflight::{self, DestinationInfo, PreflightReport, PreflightRequest};
use ferry_api::wire::WireError;
use std::path::PathBuf;

#[tauri::command]
pub async fn destination_info(path: String) -> Result<DestinationInfo, WireError> {
    tokio::task::spawn_blocking(move || preflight::destination_info(&PathBuf::from(path)))
        .await
        .map_err(|e| WireError::from(ferry_api::Error::Internal(format!("background task failed: {e}"))))?
        .map_err(WireError::from)
}

/// Every check of issue 12's "Bad input" for the run the user is about to start.
#[tauri::command]
pub async fn preflight(request: PreflightRequest) -> Result<PreflightReport, WireError> {
    // On the blocking pool with its own block_on, like plan_dry_run: the planners' futures are
    // not Send.
    tokio::task::spawn_blocking(move || tokio::runtime::Handle::current().block_on(preflight::preflight(&request)))
        .await
        .map_err(|e| WireError::from(ferry_api::Error::Internal(format!("background task failed: {e}"))))?
        .map_err(WireError::from)
}
