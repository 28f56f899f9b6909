//! Long-running jobs (export, import, mirror): each runs on the blocking pool with its own
//! cancellation token; its copy events are folded by `ferry_api::app_progress` and sent over the
//! job's IPC channel at most about ten times a second. Finished jobs go to the history file;
//! an export that did not finish is remembered so it can be resumed after a restart.

use ferry_api::app_progress::{ProgressTracker, DEFAULT_INTERVAL};
use ferry_api::wire::{HistoryEntry, JobEvent, JobKind, JobSummary, WireError};
use ferry_api::{CancellationToken, ProgressSink};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tauri::ipc::Channel;

#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    running: Mutex<HashMap<String, CancellationToken>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobHandle {
    pub job_id: String,
}

/// An export that started and has not finished: enough to run it again (the engine resumes
/// from the parts and journal already in the folder).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingExport {
    pub id: String,
    pub yaml: String,
    pub folder: String,
    pub started_at: String,
}

impl Jobs {
    pub fn is_running_any(&self) -> bool {
        !self.running.lock().unwrap().is_empty()
    }

    pub fn cancel(&self, id: &str) -> bool {
        match self.running.lock().unwrap().get(id) {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for the history (UTC, no time-zone crate needed).
pub fn now_iso() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

pub fn history_path(data: &Path) -> PathBuf {
    data.join("history.jsonl")
}

pub fn pending_path(data: &Path) -> PathBuf {
    data.join("pending-export.json")
}

pub fn read_history(data: &Path) -> Vec<HistoryEntry> {
    let Ok(text) = std::fs::read_to_string(history_path(data)) else {
        return vec![];
    };
    // A torn last line (crash while writing) is skipped, not fatal.
    let mut v: Vec<HistoryEntry> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    v.reverse();
    v
}

fn append_history(data: &Path, e: &HistoryEntry) {
    let _ = std::fs::create_dir_all(data);
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(history_path(data))
    {
        if let Ok(line) = serde_json::to_string(e) {
            let _ = writeln!(f, "{line}");
        }
    }
}

pub struct JobSpec {
    pub kind: JobKind,
    /// The folder or registry the job writes to (the History screen groups by it).
    pub backend: String,
    pub data_dir: PathBuf,
}

/// Starts a job. `work` builds the engine future; it runs on a blocking thread inside the
/// runtime, so engine futures need not be `Send`.
pub fn start<W, F>(jobs: Arc<Jobs>, spec: JobSpec, channel: Channel<JobEvent>, work: W) -> JobHandle
where
    W: FnOnce(String, ProgressSink, CancellationToken) -> F + Send + 'static,
    F: Future<Output = ferry_api::Result<JobSummary>>,
{
    let id = format!(
        "job-{}-{}",
        std::process::id(),
        jobs.next.fetch_add(1, Ordering::Relaxed) + 1
    );
    let token = CancellationToken::new();
    jobs.running.lock().unwrap().insert(id.clone(), token.clone());
    let tracker = Arc::new(Mutex::new(ProgressTracker::new(id.clone(), DEFAULT_INTERVAL)));
    let sink: ProgressSink = {
        let t = tracker.clone();
        Arc::new(move |ev| t.lock().unwrap().record(&ev))
    };
    let started_at = now_iso();
    let job_id = id.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let rt = tokio::runtime::Handle::current();
        // The ticker sends the throttled snapshot; the engine never waits on IPC.
        let ticker = {
            let tracker = tracker.clone();
            let channel = channel.clone();
            rt.spawn(async move {
                let mut tick = tokio::time::interval(DEFAULT_INTERVAL);
                loop {
                    tick.tick().await;
                    let snap = tracker.lock().unwrap().poll(Instant::now(), false);
                    if let Some(p) = snap {
                        if channel.send(JobEvent::Progress(p)).is_err() {
                            break;
                        }
                    }
                }
            })
        };
        let result = rt.block_on(work(job_id.clone(), sink, token));
        ticker.abort();
        if let Some(p) = tracker.lock().unwrap().poll(Instant::now(), true) {
            let _ = channel.send(JobEvent::Progress(p));
        }
        let (outcome, images, bytes, sequence) = match &result {
            Ok(s) => (
                "succeeded".to_string(),
                s.images_copied + s.images_up_to_date,
                s.bytes,
                s.sequence,
            ),
            Err(e) => (format!("{}: {e}", WireError::from_ref(e).code_str()), 0, 0, None),
        };
        append_history(
            &spec.data_dir,
            &HistoryEntry {
                id: job_id.clone(),
                kind: spec.kind,
                backend: spec.backend.clone(),
                sequence,
                started_at,
                images,
                bytes,
                outcome,
            },
        );
        if spec.kind == JobKind::MirrorToDisk && result.is_ok() {
            let _ = std::fs::remove_file(pending_path(&spec.data_dir));
        }
        let _ = channel.send(match result {
            Ok(s) => JobEvent::Finished(s),
            Err(e) => JobEvent::Failed(e.into()),
        });
        jobs.running.lock().unwrap().remove(&job_id);
    });
    JobHandle { job_id: id }
}

/// Small helper so the history line names the error code like the UI does.
trait CodeStr {
    fn from_ref(e: &ferry_api::Error) -> Self;
    fn code_str(&self) -> String;
}

impl CodeStr for WireError {
    fn from_ref(e: &ferry_api::Error) -> Self {
        WireError {
            code: e.code().into(),
            message: e.to_string(),
        }
    }
    fn code_str(&self) -> String {
        serde_json::to_value(self.code)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_are_well_formed() {
        let s = now_iso();
        assert_eq!(s.len(), 20, "{s}");
        assert!(s.starts_with("20") && s.ends_with('Z'), "{s}");
    }

    #[test]
    fn history_reads_newest_first_and_skips_torn_lines() {
        let d = std::env::temp_dir().join(format!("ferry-desktop-history-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        for i in 0..2 {
            append_history(
                &d,
                &HistoryEntry {
                    id: format!("j{i}"),
                    kind: JobKind::MirrorToDisk,
                    backend: "/media/usb".into(),
                    sequence: None,
                    started_at: now_iso(),
                    images: 1,
                    bytes: 10,
                    outcome: "succeeded".into(),
                },
            );
        }
        let mut f = std::fs::OpenOptions::new().append(true).open(history_path(&d)).unwrap();
        write!(f, "{{\"id\":\"torn").unwrap();
        let h = read_history(&d);
        assert_eq!(h.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec!["j1", "j0"]);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
