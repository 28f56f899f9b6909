//! What a long run needs from the desktop around it: the machine kept from suspending while it
//! runs (logind's sleep/idle inhibitor through `systemd-inhibit`), the run shown in the window
//! title and the tray tooltip, and a desktop notification when it ends, success or failure.
//!
//! Nothing here is claimed that was not confirmed: the inhibitor counts as held only when logind
//! lists it; where logind is absent (no system bus, a container) the title and the log say that
//! the machine may suspend.

use ferry_api::wire::{ErrorCode, JobEvent, JobKind};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

/// The logind sleep/idle inhibitor for one run; released when dropped.
pub struct KeepAwake {
    child: Option<Child>,
    /// Whether logind confirmed the lock.
    pub held: bool,
    /// One sentence for the title, the tooltip and the log.
    pub status: String,
}

impl KeepAwake {
    pub fn acquire(why: &str) -> Self {
        // `systemd-inhibit` holds the lock while its command runs. The command is `cat` on a pipe
        // this process owns: when the app exits or is killed the pipe closes, `cat` ends and the
        // lock goes with it, so a crashed app never leaves the machine unable to sleep.
        let spawned = Command::new("systemd-inhibit")
            .args([
                "--what=sleep:idle",
                "--who=Ferry",
                &format!("--why={why}"),
                "--mode=block",
                "cat",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => return Self::refused(None, format!("systemd-inhibit could not start: {e}")),
        };
        // logind answers at once: a refusal ends the command; a granted lock is listed with
        // the command's PID. Anything else within 3 s is reported as unconfirmed, never as held.
        let end = Instant::now() + Duration::from_secs(3);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                let why = err.lines().next().unwrap_or("").trim().to_string();
                return Self::refused(None, format!("logind refused the inhibitor ({status}: {why})"));
            }
            if listed(child.id()) {
                return Self {
                    child: Some(child),
                    held: true,
                    status: "the machine is kept from suspending until the run ends (logind inhibitor)".into(),
                };
            }
            if Instant::now() > end {
                return Self::refused(Some(child), "logind did not confirm the inhibitor within 3 s".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn refused(child: Option<Child>, why: String) -> Self {
        Self {
            child,
            held: false,
            status: format!("the machine may suspend during this run: {why}"),
        }
    }
}

/// Whether logind lists an inhibitor held by `pid` (the `systemd-inhibit` child).
fn listed(pid: u32) -> bool {
    let Ok(out) = Command::new("systemd-inhibit")
        .args(["--list", "--no-pager", "--no-legend"])
        .output()
    else {
        return false;
    };
    let pid = pid.to_string();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.contains("Ferry") && l.split_whitespace().any(|w| w == pid))
}

impl Drop for KeepAwake {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            drop(c.stdin.take()); // `cat` sees end of input and exits: the lock is released
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn kind_name(kind: JobKind) -> &'static str {
    match kind {
        JobKind::MirrorToDisk => "Export",
        JobKind::DiskToMirror => "Import",
        JobKind::MirrorToMirror => "Mirror",
    }
}

/// One run's desktop side: created when the job starts, finished with its result.
pub struct RunGuard {
    app: Option<AppHandle>,
    kind: JobKind,
    backend: String,
    _awake: KeepAwake,
}

impl RunGuard {
    pub fn begin(app: Option<AppHandle>, kind: JobKind, backend: &str) -> Self {
        let name = kind_name(kind);
        let awake = KeepAwake::acquire(&format!("{name} to {backend} is running"));
        if awake.held {
            tracing::info!("{name}: {}", awake.status);
        } else {
            tracing::warn!("{name}: {}", awake.status);
            eprintln!("ferry: {name} to {backend}: {}", awake.status);
        }
        let line = format!("{name} running · {}", awake.status);
        if let Some(app) = &app {
            set_status(app, Some(&line));
        }
        Self {
            app,
            kind,
            backend: backend.to_string(),
            _awake: awake,
        }
    }

    /// Clears the status and shows the end-of-run notification (from the event the UI gets,
    /// so its error text is the redacted one).
    pub fn finish(self, result: &JobEvent) {
        let Some(app) = &self.app else { return };
        set_status(app, None);
        let (title, body) = end_message(self.kind, &self.backend, result);
        if let Err(e) = app.notification().builder().title(&title).body(&body).show() {
            eprintln!("ferry: the end-of-run notification was not shown ({e}): {title}: {body}");
        }
    }
}

/// The window title and the tray tooltip say what runs (and whether sleep is blocked).
fn set_status(app: &AppHandle, line: Option<&str>) {
    let title = match line {
        Some(l) => format!("Ferry — {l}"),
        None => "Ferry".to_string(),
    };
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.set_title(&title);
    }
    if let Some(t) = app.tray_by_id(crate::tray::TRAY_ID) {
        let _ = t.set_tooltip(Some(&title));
    }
}

/// The notification's title and body for a finished run.
pub fn end_message(kind: JobKind, backend: &str, result: &JobEvent) -> (String, String) {
    let name = kind_name(kind);
    match result {
        JobEvent::Finished(s) => {
            let images = s.images_copied + s.images_up_to_date;
            let what = format!("{} to {backend}", plural(images as u64, "image"));
            if s.failed.is_empty() {
                (
                    format!("{name} finished"),
                    format!("{what}, {} written", human_bytes(s.bytes)),
                )
            } else {
                (
                    format!("{name} finished with failures"),
                    format!(
                        "{what}; {} failed: open Ferry for the reasons",
                        plural(s.failed.len() as u64, "image")
                    ),
                )
            }
        }
        JobEvent::Failed(e) if e.code == ErrorCode::Cancelled => (
            format!("{name} stopped"),
            format!("{name} to {backend} was cancelled; what is written is kept and the run can be resumed"),
        ),
        JobEvent::Failed(e) => {
            let first = e
                .message
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(240)
                .collect::<String>();
            (format!("{name} failed"), first)
        }
        JobEvent::Progress(_) => (format!("{name} running"), backend.to_string()),
    }
}

/// After a crash or a restart: an export or import recorded as started and never finished is
/// offered for resume (the Export and Import screens list it; the notification says so even
/// when the window is hidden).
pub fn offer_resume(app: &AppHandle) {
    let Ok(data) = app.path().app_data_dir() else { return };
    let mut offers = Vec::new();
    if let Some(p) = ferry_api::app_history::read_pending(&data) {
        offers.push((
            "Resume the interrupted export?",
            format!(
                "The export to {} started {} did not finish. Open Export and choose Resume: what is already on the media is kept.",
                p.folder, p.started_at
            ),
        ));
    }
    if let Some(p) = ferry_api::app_history::read_pending_import(&data) {
        offers.push((
            "Resume the interrupted import?",
            format!(
                "The import of {} into {} started {} did not finish. Open Import and choose Resume: blobs {} already holds are not sent again.",
                p.folder, p.registry, p.started_at, p.registry
            ),
        ));
    }
    for (title, body) in offers {
        if let Err(e) = app.notification().builder().title(title).body(&body).show() {
            eprintln!("ferry: {body} (notification not shown: {e})");
        }
    }
}

/// The bytes of the archive parts in a folder (named and parsed as the engine does, through the
/// progress tracker's scan of the parts): what an interrupted export left, or the media an
/// interrupted import reads.
pub fn bytes_on_media(folder: &std::path::Path) -> u64 {
    let mut t = ferry_api::app_progress::ProgressTracker::new("pending", ferry_api::app_progress::DEFAULT_INTERVAL);
    t.scan_parts(folder, false);
    t.poll(Instant::now(), true)
        .map(|p| p.parts.iter().map(|x| x.bytes_done).sum())
        .unwrap_or(0)
}

pub fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(images: u32, bytes: u64) -> JobEvent {
        JobEvent::Finished(ferry_api::wire::JobSummary {
            job_id: "job-1".into(),
            kind: JobKind::MirrorToDisk,
            sequence: Some(1),
            images_copied: images,
            images_up_to_date: 0,
            failed: vec![],
            bytes,
            elapsed_secs: 1,
            parts: vec![],
            results_dir: None,
        })
    }

    #[test]
    fn end_messages_name_the_run_and_its_figures() {
        let (t, b) = end_message(JobKind::MirrorToDisk, "/media/usb", &summary(1, 3 * 1024 * 1024));
        assert_eq!(t, "Export finished");
        assert_eq!(b, "1 image to /media/usb, 3.0 MiB written");
        let (t, b) = end_message(JobKind::DiskToMirror, "reg:5000", &summary(2, 10));
        assert_eq!(
            (t.as_str(), b.as_str()),
            ("Import finished", "2 images to reg:5000, 10 B written")
        );
        let cancelled = JobEvent::Failed(ferry_api::Error::Cancelled.into());
        let (t, b) = end_message(JobKind::MirrorToMirror, "r", &cancelled);
        assert_eq!(t, "Mirror stopped");
        assert!(b.contains("can be resumed"), "{b}");
        let err = ferry_api::Error::Internal("GET https://s3/x?X-Amz-Signature=SECRET failed".into());
        let (t, b) = end_message(JobKind::MirrorToDisk, "/m", &JobEvent::Failed(err.into()));
        assert_eq!(t, "Export failed");
        assert!(!b.contains("SECRET") && b.contains("https://s3/x"), "{b}");
    }

    #[test]
    fn bytes_on_media_counts_the_parts_only() {
        let d = std::env::temp_dir().join(format!("ferry-desktop-runs-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        assert_eq!(bytes_on_media(&d), 0);
        std::fs::write(d.join("mirror_seq1_000000.tar"), vec![0u8; 3000]).unwrap();
        std::fs::write(d.join("mirror_seq1_000001.tar"), vec![0u8; 500]).unwrap();
        std::fs::write(d.join("notes.txt"), vec![0u8; 99]).unwrap();
        let got = bytes_on_media(&d);
        std::fs::remove_dir_all(&d).unwrap();
        assert_eq!(got, 3500);
    }

    #[test]
    fn keep_awake_is_never_claimed_without_logind() {
        // On a machine with logind the lock is listed and held; without it (containers, CI) the
        // refusal is reported. Either way `held` matches what logind itself lists.
        let k = KeepAwake::acquire("ferry unit test");
        let listed_now = k.child.as_ref().is_some_and(|c| listed(c.id()));
        assert_eq!(k.held, listed_now, "{}", k.status);
        if !k.held {
            assert!(
                k.status.starts_with("the machine may suspend during this run: "),
                "{}",
                k.status
            );
        }
    }
}
