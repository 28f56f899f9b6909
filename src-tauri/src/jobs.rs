//! Long-running jobs (export, import, mirror): each runs on the blocking pool with its own
//! cancellation token; its copy events are folded by `ferry_api::app_progress` and sent over the
//! job's IPC channel at most about ten times a second. Finished jobs go to the history file;
//! an export or import that did not finish is remembered so it can be resumed after a restart
//! (the record is the facade's, `ferry_api::app_resume`, kept for exactly the run).

use ferry_api::app_history::{append_history, now_iso};
use ferry_api::app_progress::{ProgressTracker, DEFAULT_INTERVAL};
use ferry_api::wire::{HistoryEntry, JobEvent, JobKind, JobSummary, WireError};
use ferry_api::{CancellationToken, ProgressSink};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tauri::ipc::Channel;
use tauri::AppHandle;

#[derive(Default)]
pub struct Jobs {
    next: AtomicU64,
    running: Mutex<HashMap<String, (CancellationToken, JobKind)>>,
    /// Set once at startup: runs keep the machine awake, update the title/tray and notify.
    app: OnceLock<AppHandle>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobHandle {
    pub job_id: String,
}

impl Jobs {
    pub fn is_running_any(&self) -> bool {
        !self.running.lock().unwrap().is_empty()
    }

    pub fn attach(&self, app: AppHandle) {
        let _ = self.app.set(app);
    }

    /// "Export", "Import", "Mirror" for each run going now (the close/quit questions name them).
    pub fn running_kinds(&self) -> Vec<&'static str> {
        let mut v: Vec<_> = self
            .running
            .lock()
            .unwrap()
            .values()
            .map(|(_, k)| crate::runs::kind_name(*k))
            .collect();
        v.sort();
        v
    }

    pub fn cancel_all(&self) {
        for (t, _) in self.running.lock().unwrap().values() {
            t.cancel();
        }
    }

    pub fn cancel(&self, id: &str) -> bool {
        match self.running.lock().unwrap().get(id) {
            Some((t, _)) => {
                t.cancel();
                true
            }
            None => false,
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
    jobs.running
        .lock()
        .unwrap()
        .insert(id.clone(), (token.clone(), spec.kind));
    let app = jobs.app.get().cloned();
    let tracker = Arc::new(Mutex::new(ProgressTracker::new(id.clone(), DEFAULT_INTERVAL)));
    let sink: ProgressSink = {
        let t = tracker.clone();
        Arc::new(move |ev| t.lock().unwrap().record(&ev))
    };
    let started_at = now_iso();
    let job_id = id.clone();
    tauri::async_runtime::spawn_blocking(move || {
        let run = crate::runs::RunGuard::begin(app, spec.kind, &spec.backend);
        let rt = tokio::runtime::Handle::current();
        // The ticker sends the throttled snapshot; the engine never waits on IPC.
        // An export's parts are watched on disk: the bars show the bytes really on the media.
        let parts_folder = (spec.kind == JobKind::MirrorToDisk).then(|| PathBuf::from(&spec.backend));
        let ticker = {
            let tracker = tracker.clone();
            let channel = channel.clone();
            let parts_folder = parts_folder.clone();
            rt.spawn(async move {
                let mut tick = tokio::time::interval(DEFAULT_INTERVAL);
                loop {
                    tick.tick().await;
                    if let Some(f) = &parts_folder {
                        tracker.lock().unwrap().scan_parts(f, false);
                    }
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
        if let Some(f) = &parts_folder {
            tracker.lock().unwrap().scan_parts(f, result.is_ok());
        }
        if let Some(p) = tracker.lock().unwrap().poll(Instant::now(), true) {
            let _ = channel.send(JobEvent::Progress(p));
        }
        let (outcome, images, bytes, sequence) = match &result {
            // Images left out under keep-going are a partial run, and the history says so.
            Ok(s) if !s.failed.is_empty() => (
                format!("partial: {} images failed", s.failed.len()),
                s.images_copied + s.images_up_to_date,
                s.bytes,
                s.sequence,
            ),
            Ok(s) => (
                "succeeded".to_string(),
                s.images_copied + s.images_up_to_date,
                s.bytes,
                s.sequence,
            ),
            Err(e) => (format!("{}: {e}", WireError::from_ref(e).code_str()), 0, 0, None),
        };
        // A history that cannot be written must not fail the job; the log says why.
        if let Err(e) = append_history(
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
        ) {
            eprintln!("ferry: job history not written: {e}");
        }
        let event = match result {
            Ok(s) => JobEvent::Finished(s),
            Err(e) => JobEvent::Failed(e.into()),
        };
        run.finish(&event);
        let _ = channel.send(event);
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
