//! The tray icon and what closing the window means during a run.
//!
//! A run belongs to the app, not to its window: closing the window while an export, import or
//! mirror runs asks first (keep it running in the tray, or stop it and quit); minimising never
//! touches it. The tray menu brings the window back or quits (asking the same way when a run is
//! going). Cancelling on quit uses the engine's cancellation, so what is written stays and the
//! export is offered for resume at the next start.

use crate::jobs::Jobs;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Window, WindowEvent};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind, MessageDialogResult};

pub const TRAY_ID: &str = "ferry";
const KEEP: &str = "Keep running in the tray";
const STOP: &str = "Stop the run and quit";
const BACK: &str = "Go back";

/// Adds the tray icon (Show Ferry / Quit). Without a status-notifier host (a bare X server) the
/// icon is simply not drawn; the app works the same.
pub fn install(app: &tauri::App) -> tauri::Result<()> {
    let show = MenuItem::with_id(app, "show", "Show Ferry", true, None::<&str>)?;
    let quit_item = MenuItem::with_id(app, "quit", "Quit Ferry", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&show, &quit_item])?;
    let mut tray = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Ferry")
        .menu(&menu)
        .on_menu_event(|app, ev| match ev.id.as_ref() {
            "show" => show_main(app),
            "quit" => quit(app),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

pub fn show_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.show();
        let _ = w.unminimize();
        let _ = w.set_focus();
    }
}

fn jobs(app: &AppHandle) -> Arc<Jobs> {
    app.state::<Arc<Jobs>>().inner().clone()
}

/// Window events: a close request during a run asks what to do instead of ending the run.
pub fn on_window_event(window: &Window, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let app = window.app_handle().clone();
    let running = jobs(&app).running_kinds();
    if running.is_empty() {
        return;
    }
    api.prevent_close();
    let what = running.join(", ");
    app.dialog()
        .message(format!(
            "{what} is running. It can go on in the background (Ferry stays in the tray and tells you when \
             it ends), or stop now: what is already written is kept and the export can be resumed later."
        ))
        .title("A run is in progress")
        .kind(MessageDialogKind::Warning)
        .buttons(MessageDialogButtons::YesNoCancelCustom(
            KEEP.into(),
            STOP.into(),
            BACK.into(),
        ))
        .show_with_result(move |r| match r {
            MessageDialogResult::Custom(l) if l == KEEP => hide_main(&app),
            MessageDialogResult::Yes => hide_main(&app),
            MessageDialogResult::Custom(l) if l == STOP => stop_and_exit(app),
            MessageDialogResult::No => stop_and_exit(app),
            _ => {}
        });
}

fn hide_main(app: &AppHandle) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.hide();
    }
}

/// Tray "Quit": immediate when idle, asked first during a run.
fn quit(app: &AppHandle) {
    let running = jobs(app).running_kinds();
    if running.is_empty() {
        app.exit(0);
        return;
    }
    let app = app.clone();
    app.clone()
        .dialog()
        .message(format!(
            "{} is running. Quitting stops it; what is already written is kept and the export can be resumed later.",
            running.join(", ")
        ))
        .title("Quit Ferry during a run?")
        .kind(MessageDialogKind::Warning)
        .buttons(MessageDialogButtons::OkCancelCustom(STOP.into(), "Keep running".into()))
        .show_with_result(move |r| {
            if matches!(&r, MessageDialogResult::Custom(l) if l == STOP) || r == MessageDialogResult::Ok {
                stop_and_exit(app)
            }
        });
}

/// Cancels every run and exits once they stopped (at most 15 s: the engine stops between
/// writes, so the parts and journal on the media stay consistent for the resume).
fn stop_and_exit(app: AppHandle) {
    let jobs = jobs(&app);
    jobs.cancel_all();
    std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(15);
        while jobs.is_running_any() && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100));
        }
        app.exit(0);
    });
}
