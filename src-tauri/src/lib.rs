//! The desktop shell. Every command is a small adapter over `ferry_api`: it converts arguments,
//! calls the facade and maps `ferry_api::Error` to the wire error `{code, message}` the UI
//! branches on. No workflow logic lives here.

mod cmd_catalog;
mod cmd_guided;
mod cmd_helm;
mod cmd_release;
mod cmd_trust;
mod commands;
mod jobs;
mod runs;
mod tray;

use std::sync::Arc;
use tauri::Manager;

pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .manage(Arc::new(jobs::Jobs::default()))
        // Catalogs the image-set editor's browser loaded, per digest, for this session.
        .manage(Arc::new(ferry_api::catalog_browse::CatalogCache::default()))
        // Runs outlive the window: tray icon, close-asks-first, resume offer at start (tray.rs, runs.rs).
        .setup(|app| {
            app.state::<Arc<jobs::Jobs>>().attach(app.handle().clone());
            if let Err(e) = tray::install(app) {
                eprintln!("ferry: no tray icon ({e}); closing the window during a run still asks first");
            }
            runs::offer_resume(app.handle());
            Ok(())
        })
        .on_window_event(tray::on_window_event)
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
            cmd_trust::check_media,
            commands::start_disk_to_mirror,
            commands::start_mirror_to_mirror,
            commands::history,
            commands::list_logins,
            commands::import_pull_secret,
            commands::add_login,
            commands::test_login,
            commands::set_trust,
            commands::export_auth_file,
            cmd_release::release_graph,
            cmd_release::release_channels,
            cmd_release::release_signatures,
            cmd_guided::destination_info,
            cmd_guided::preflight,
            cmd_catalog::redhat_catalogs,
            cmd_catalog::browse_catalog,
            cmd_catalog::catalog_package,
            cmd_catalog::preview_catalog,
            cmd_helm::helm_repository_index,
            cmd_helm::helm_local_chart,
            cmd_helm::helm_chart_plan,
            cmd_helm::prune_preview,
            cmd_helm::start_mirror_to_mirror_pruning,
        ])
        .run(tauri::generate_context!())
        .expect("the Ferry window could not start (is a display available? try xvfb-run)");
}
