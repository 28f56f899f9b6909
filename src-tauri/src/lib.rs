//! The desktop shell. Every command is a small adapter over `ferry_api`: it converts arguments,
//! calls the facade and maps `ferry_api::Error` to the wire error `{code, message}` the UI
//! branches on. No workflow logic lives here.

mod commands;

pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(tauri::generate_handler![
            commands::engine_version,
            commands::read_text_file,
            commands::write_text_file,
            commands::folder_info,
            commands::load_results,
        ])
        .run(tauri::generate_context!())
        .expect("the Ferry window could not start (is a display available? try xvfb-run)");
}
