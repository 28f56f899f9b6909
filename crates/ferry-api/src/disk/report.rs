//! What a mirror-to-disk or an import run reports.

use ferry_archive::{PartInfo, VerifyReport};
use ferry_manifests::ApplyCommands;
use serde::Serialize;
use std::path::PathBuf;

/// An image a run could not finish (or skipped under `--skip-missing`), with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedImage {
    pub image: String,
    pub error: String,
}

impl std::fmt::Display for FailedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.image, self.error)
    }
}

/// Outcome of mirror-to-disk.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiskReport {
    pub dir: PathBuf,
    /// False when nothing was new ("No updates detected") and for a dry run: no tar written,
    /// sequence not bumped.
    pub written: bool,
    pub dry_run: bool,
    /// The sequence written (or, for a dry run, the one a real run would write).
    pub sequence: u32,
    pub uid: String,
    pub images: usize,
    /// Images whose manifests this set carries (the others were shipped before).
    pub images_packed: usize,
    pub parts: Vec<PartInfo>,
    pub blobs_written: u64,
    pub blob_bytes_written: u64,
    /// Blobs already written intact by an interrupted earlier run (not downloaded again).
    pub blobs_resumed: u64,
    /// Blobs skipped because an earlier sequence shipped them.
    pub blobs_from_history: usize,
    /// Blobs larger than the split limit (each got a part of its own).
    pub oversized: Vec<(String, u64)>,
    /// Bytes the set takes on disk (tar headers and padding included), computed before writing.
    pub planned_bytes: u64,
    /// Parts the set takes at the split limit, computed before writing (the exact split can
    /// differ by one part because blobs arrive in download order).
    pub planned_parts: u64,
    /// New blobs the set needs (what a real run downloads).
    pub planned_blobs: usize,
    /// `mapping.txt` of a dry run (`<dir>/oc-mirror-workspace/mapping.txt`).
    pub mapping_file: Option<PathBuf>,
    /// Images left out under `--continue-on-error`. Non-empty means a partial set: the metadata
    /// does not count them as shipped, so the next sequence carries them once they work.
    pub failed: Vec<FailedImage>,
    /// Images the source does not have, skipped under `--skip-missing` (as oc-mirror: a warning).
    pub skipped: Vec<FailedImage>,
    pub seconds: f64,
}

/// Outcome of disk-to-mirror.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub sequence: u32,
    pub uid: String,
    pub dry_run: bool,
    pub images: usize,
    pub images_pushed: usize,
    pub images_up_to_date: usize,
    pub bytes_copied: u64,
    pub blobs_copied: u64,
    pub blobs_skipped: u64,
    /// Results folder (for a dry run: the workspace holding `mapping.txt`).
    pub results_dir: PathBuf,
    /// The `oc apply` command per cluster version (empty for a dry run).
    pub apply: ApplyCommands,
    /// Destination references a dry run would push (sorted); empty for a real run.
    pub would_push: Vec<String>,
    /// Bytes of this set's blobs a dry run would send (at most; blobs the target holds are skipped).
    pub would_push_bytes: u64,
    /// Operator catalogs a dry run would rebuild from the set and push after every image:
    /// `<catalog as written> -> <registry>/<ns>/<repo>:<tag>` (sorted); empty for a real run.
    #[serde(default)]
    pub would_rebuild: Vec<String>,
    pub verify: Option<VerifyReport>,
    /// Digest of the pushed `<ns>/oc-mirror:<uid>` metadata image (None for single-use sets
    /// and dry runs).
    pub metadata_image: Option<String>,
    /// Images that could not be pushed (only with `--continue-on-error`; otherwise the run fails).
    pub failed: Vec<FailedImage>,
    /// The pruning plan against the target's recorded associations and what was deleted
    /// (`None` for a single-use set).
    pub prune: Option<crate::prune::PruneReport>,
    pub seconds: f64,
}

impl ImportReport {
    /// Some images failed under `--continue-on-error`.
    pub fn partial(&self) -> bool {
        !self.failed.is_empty()
    }
}

impl DiskReport {
    /// Some images failed under `--continue-on-error` (skipped missing ones do not count).
    pub fn partial(&self) -> bool {
        !self.failed.is_empty()
    }
}
