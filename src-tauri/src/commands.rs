//! Tauri commands: thin adapters over the engine facade.

use ferry_api::wire::EngineInfo;

/// The engine version shown in the window's masthead.
#[tauri::command]
pub fn engine_version() -> EngineInfo {
    EngineInfo {
        version: ferry_api::version().to_string(),
    }
}
