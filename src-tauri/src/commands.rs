//! Tauri commands: thin adapters over the engine facade. Each converts its arguments, calls
//! `ferry_api`, and returns the wire error `{code, message}` on failure. Blocking file-system work
//! runs on the blocking pool so the window never freezes.

use ferry_api::wire::{EngineInfo, FolderInfo, ResultsView, WireError};
use std::path::PathBuf;

type CmdResult<T> = Result<T, WireError>;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ferry_api::Result<T> + Send + 'static) -> CmdResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WireError::from(ferry_api::Error::Internal(format!("background task failed: {e}"))))?
        .map_err(WireError::from)
}

/// The engine version shown in the window's masthead.
#[tauri::command]
pub fn engine_version() -> EngineInfo {
    EngineInfo {
        version: ferry_api::version().to_string(),
    }
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
