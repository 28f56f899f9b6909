//! Commands of the trust fixes (issue 8): the Import screen's quick media check, which reads
//! only the tar headers so that the import's own streaming verification is the one full read.

use ferry_api::wire::{MediaReport, WireError};
use std::path::PathBuf;

#[tauri::command]
pub async fn check_media(folder: String) -> Result<MediaReport, WireError> {
    tokio::task::spawn_blocking(move || ferry_api::app_media::check_media(&PathBuf::from(folder)))
        .await
        .map_err(|e| WireError::from(ferry_api::Error::Internal(format!("background task failed: {e}"))))?
        .map_err(WireError::from)
}
