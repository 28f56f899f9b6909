//! The desktop app's state files: the job history (`history.jsonl`) and the export and import
//! that started and have not finished (`pending-export.json`, `pending-import.json`). They live in the facade, not in the
//! Tauri shell, so both front ends can share them and they are tested without a window.
//!
//! Both are private files (mode 0600, written through `O_EXCL|O_NOFOLLOW`, see
//! [`ferry_types::private_file`]); the pending export holds the image set, which may name
//! internal registries. Every text that goes into them passes [`ferry_types::redact_query_strings`]:
//! an error can quote a pre-signed storage URL whose query grants access to a blob.

use crate::wire::{HistoryEntry, JobKind};
use ferry_types::{redact_query_strings, Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// An export that started and has not finished: enough to run it again (the engine resumes
/// from the parts and journal already in the folder).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingExport {
    pub id: String,
    pub yaml: String,
    pub folder: String,
    pub started_at: String,
    /// The image-set file the YAML came from (relative storageConfig paths resolve against its
    /// folder); `None` for an unsaved image set.
    #[serde(default)]
    pub config_path: Option<String>,
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

/// Past runs, newest first. A torn last line (crash while writing) is skipped, not fatal.
pub fn read_history(data: &Path) -> Vec<HistoryEntry> {
    let Ok(text) = std::fs::read_to_string(history_path(data)) else {
        return vec![];
    };
    let mut v: Vec<HistoryEntry> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    v.reverse();
    v
}

/// Append one run to the history (query strings stripped from every text field).
pub fn append_history(data: &Path, e: &HistoryEntry) -> Result<()> {
    let mut e = e.clone();
    e.outcome = redact_query_strings(&e.outcome);
    e.backend = redact_query_strings(&e.backend);
    let line = serde_json::to_string(&e).map_err(|err| Error::Internal(format!("history entry: {err}")))?;
    let path = history_path(data);
    ferry_types::private_file::append_line(&path, &line).map_err(|err| Error::io(path.display(), err))
}

/// Remember an export until it succeeds, so it can be resumed after a restart.
pub fn write_pending(data: &Path, p: &PendingExport) -> Result<()> {
    let text = serde_json::to_vec(p).map_err(|e| Error::Internal(format!("pending export: {e}")))?;
    let path = pending_path(data);
    ferry_types::private_file::write_atomic(&path, &text).map_err(|e| Error::io(path.display(), e))
}

/// The interrupted export, if one is recorded (an unreadable record counts as none).
pub fn read_pending(data: &Path) -> Option<PendingExport> {
    let text = std::fs::read_to_string(pending_path(data)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn clear_pending(data: &Path) {
    let _ = std::fs::remove_file(pending_path(data));
}

/// An import that started and has not finished (the app was closed, killed or crashed during
/// it). Resuming runs the same import again: nothing is tagged and no sequence is recorded in
/// the target before every blob is there, and the re-run skips each blob the target already
/// holds (a HEAD per blob), so only what is missing is read and sent again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingImport {
    pub id: String,
    pub folder: String,
    pub registry: String,
    pub started_at: String,
}

pub fn pending_import_path(data: &Path) -> PathBuf {
    data.join("pending-import.json")
}

/// Remember an import until it succeeds (private file, like the pending export).
pub fn write_pending_import(data: &Path, p: &PendingImport) -> Result<()> {
    let mut p = p.clone();
    p.registry = redact_query_strings(&p.registry);
    let text = serde_json::to_vec(&p).map_err(|e| Error::Internal(format!("pending import: {e}")))?;
    let path = pending_import_path(data);
    ferry_types::private_file::write_atomic(&path, &text).map_err(|e| Error::io(path.display(), e))
}

/// The interrupted import, if one is recorded (an unreadable record counts as none).
pub fn read_pending_import(data: &Path) -> Option<PendingImport> {
    let text = std::fs::read_to_string(pending_import_path(data)).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn clear_pending_import(data: &Path) {
    let _ = std::fs::remove_file(pending_import_path(data));
}

/// The resume offer's row for an interrupted import: `backend` is the target registry, the
/// outcome names the media folder, `bytes` is left to the caller (what the media holds).
pub fn pending_import_entry(p: &PendingImport) -> HistoryEntry {
    HistoryEntry {
        id: p.id.clone(),
        kind: JobKind::DiskToMirror,
        backend: p.registry.clone(),
        sequence: None,
        started_at: p.started_at.clone(),
        images: 0,
        bytes: 0,
        outcome: format!("interrupted import from {}", p.folder),
    }
}

/// The History screen's row for an interrupted export.
pub fn pending_entry(p: &PendingExport) -> HistoryEntry {
    HistoryEntry {
        id: p.id.clone(),
        kind: JobKind::MirrorToDisk,
        backend: p.folder.clone(),
        sequence: None,
        started_at: p.started_at.clone(),
        images: 0,
        bytes: 0,
        outcome: "interrupted".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn entry(id: &str, outcome: &str) -> HistoryEntry {
        HistoryEntry {
            id: id.into(),
            kind: JobKind::MirrorToDisk,
            backend: "/media/usb".into(),
            sequence: None,
            started_at: now_iso(),
            images: 1,
            bytes: 10,
            outcome: outcome.into(),
        }
    }

    #[test]
    fn iso_dates_are_well_formed() {
        let s = now_iso();
        assert_eq!(s.len(), 20, "{s}");
        assert!(s.starts_with("20") && s.ends_with('Z'), "{s}");
    }

    #[test]
    fn history_reads_newest_first_and_skips_torn_lines() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..2 {
            append_history(d.path(), &entry(&format!("j{i}"), "succeeded")).unwrap();
        }
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(history_path(d.path()))
            .unwrap();
        write!(f, "{{\"id\":\"torn").unwrap();
        let h = read_history(d.path());
        assert_eq!(h.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec!["j1", "j0"]);
    }

    #[test]
    fn state_files_are_private_and_never_hold_query_strings() {
        let d = tempfile::tempdir().unwrap();
        let failed = "registry: GET https://s3.example/blobs/x?X-Amz-Signature=S3CRETSIG&X-Amz-Credential=AKIA failed";
        append_history(d.path(), &entry("j", failed)).unwrap();
        let text = std::fs::read_to_string(history_path(d.path())).unwrap();
        assert!(!text.contains("S3CRETSIG") && !text.contains("AKIA"), "{text}");
        assert!(text.contains("https://s3.example/blobs/x?<redacted>"), "{text}");
        let p = PendingExport {
            id: "j".into(),
            yaml: "kind: ImageSetConfiguration\n".into(),
            folder: "/media/usb".into(),
            started_at: now_iso(),
            config_path: Some("/home/u/isc.yaml".into()),
        };
        write_pending(d.path(), &p).unwrap();
        assert_eq!(read_pending(d.path()), Some(p));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [history_path(d.path()), pending_path(d.path())] {
                assert_eq!(
                    std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
                    0o600,
                    "{}",
                    f.display()
                );
            }
        }
        clear_pending(d.path());
        assert_eq!(read_pending(d.path()), None);
    }

    #[test]
    fn an_interrupted_import_is_recorded_privately_until_cleared() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(read_pending_import(d.path()), None);
        let p = PendingImport {
            id: "job-1".into(),
            folder: "/media/usb".into(),
            registry: "mirror.example:5000/ocp".into(),
            started_at: now_iso(),
        };
        write_pending_import(d.path(), &p).unwrap();
        // An export's record and an import's are separate: resuming one never touches the other.
        assert_eq!(read_pending(d.path()), None);
        assert_eq!(read_pending_import(d.path()), Some(p.clone()));
        let e = pending_import_entry(&p);
        assert_eq!(e.kind, JobKind::DiskToMirror);
        assert_eq!(e.backend, "mirror.example:5000/ocp");
        assert_eq!(e.outcome, "interrupted import from /media/usb");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(pending_import_path(d.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        clear_pending_import(d.path());
        assert_eq!(read_pending_import(d.path()), None);
    }
}
