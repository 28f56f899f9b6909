//! The app's export and import with their resume record (`pending-export.json`,
//! `pending-import.json`, kept by [`crate::app_history`]) alive for exactly the run.
//!
//! The record is written before the workflow reads or writes a single byte, and removed only
//! when the run completed (every image done, or the failures listed in the summary). A run
//! that fails, is cancelled, or dies with the process keeps it, so the next start offers it.
//! Before, the shell wrote the record after it had started the job: a crash in between left
//! no offer, and a run that finished first left a stale one.
//!
//! A record that cannot be written refuses the run (the error names the file): a run the app
//! could not offer again after a crash would break the promise the Export and Import screens
//! make. The CLI keeps no record: running the same command again is its resume (the engine
//! picks up the parts and journal in the folder, and an import skips the blobs the target holds).

use crate::app_history::{clear_pending, clear_pending_import, write_pending, write_pending_import};
pub use crate::app_history::{PendingExport, PendingImport};
use crate::app_workflows as wf;
use crate::wire::JobSummary;
use crate::{CancellationToken, ProgressSink, Result};
use std::path::Path;

/// [`wf::export`] of `record` (its image set into its folder), recorded in `data` for the run.
pub async fn export(
    data: &Path,
    job_id: &str,
    record: &PendingExport,
    workspace: &Path,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<JobSummary> {
    write_pending(data, record)?;
    let config = record.config_path.as_deref().map(Path::new);
    let folder = Path::new(&record.folder);
    let r = wf::export(job_id, &record.yaml, config, folder, workspace, progress, cancel).await;
    if r.is_ok() {
        clear_pending(data);
    }
    r
}

/// [`wf::import`] of `record` (its media folder into its registry), recorded in `data` for the run.
pub async fn import(
    data: &Path,
    job_id: &str,
    record: &PendingImport,
    workspace: &Path,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<JobSummary> {
    write_pending_import(data, record)?;
    let folder = Path::new(&record.folder);
    let r = wf::import(job_id, folder, &record.registry, workspace, progress, cancel).await;
    if r.is_ok() {
        clear_pending_import(data);
    }
    r
}
