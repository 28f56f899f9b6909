//! The desktop shell. Every command is a small adapter over `ferry_api`: it converts arguments,
//! calls the facade and maps `ferry_api::Error` to the wire error `{code, message}` the UI
//! branches on. No workflow logic lives here.

mod commands;
mod jobs;

use std::sync::Arc;

pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .manage(Arc::new(jobs::Jobs::default()))
        .invoke_handler(tauri::generate_handler![
            commands::engine_version,
            commands::image_set_template,
            commands::validate_image_set,
            commands::read_text_file,
            commands::write_text_file,
            commands::folder_info,
            commands::load_results,
            commands::plan_dry_run,
            commands::start_mirror_to_disk,
            commands::resumable_jobs,
            commands::resume_job,
            commands::cancel_job,
            commands::verify_media,
            commands::start_disk_to_mirror,
            commands::start_mirror_to_mirror,
            commands::history,
            commands::list_logins,
            commands::import_pull_secret,
            commands::add_login,
            commands::test_login,
            commands::set_trust,
            commands::export_auth_file,
        ])
        .run(tauri::generate_context!())
        .expect("the Ferry window could not start (is a display available? try xvfb-run)");
}
