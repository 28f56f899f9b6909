//! Ferry: the streaming, verifying, parallel copy engine and its progress events.
//!
//! The engine only sees the transport traits of `ferry_types::transport`, so the same code copies
//! registry→registry, registry→archive and archive→registry. For every image it:
//!
//! 1. reads the top manifest and, for a manifest list / OCI index, every child manifest (all
//!    platforms), keeping the exact bytes so digests are preserved;
//! 2. moves each config and layer blob once per destination repository: skipped when the
//!    destination has it (HEAD), mounted when another repository of the destination got it earlier
//!    in this run or is known to hold it from earlier runs ([`CopyOptions::mount_from`], filled
//!    from the metadata's past associations), otherwise streamed from the source with its sha256 and size checked as it flows
//!    (a blob several images share is copied once; the others wait for that copy);
//! 3. pushes child manifests by digest, then the top manifest by digest, then the tag. A failure
//!    anywhere below means the tag is never written.
//!
//! Images and blobs run concurrently (bounded by [`CopyOptions::parallel_images`] and
//! [`CopyOptions::parallel_blobs`]); transient failures (5xx, 429, dropped connections) re-open the
//! source blob and retry with exponential backoff; a [`CancellationToken`] stops everything promptly.

mod engine;
mod events;
mod locations;
mod verify;

pub use engine::copy_images;
pub use events::{no_progress, ProgressEvent, ProgressSink, SkipReason};
pub use locations::BlobLocations;
pub use tokio_util::sync::CancellationToken;

use ferry_types::{Digest, Error, ImageSource};
use std::sync::Arc;
use std::time::Duration;

/// One image to copy: a source repository + tag or digest, into a destination repository.
#[derive(Clone)]
pub struct CopyJob {
    /// Repository path on the source (`openshift/release`), without the host.
    pub source_repo: String,
    /// A tag or a `sha256:` digest.
    pub source_ref: String,
    pub source: Arc<dyn ImageSource>,
    /// Repository path on the destination, without the host.
    pub dest_repo: String,
    /// Tag to set once everything is in place; `None` pushes by digest only.
    pub dest_tag: Option<String>,
    /// Name used in events and errors, usually the full source reference.
    pub label: String,
}

impl std::fmt::Debug for CopyJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyJob")
            .field("source", &self.source.describe())
            .field("source_repo", &self.source_repo)
            .field("source_ref", &self.source_ref)
            .field("dest_repo", &self.dest_repo)
            .field("dest_tag", &self.dest_tag)
            .field("label", &self.label)
            .finish()
    }
}

/// How a run behaves. `Default` gives the oc-mirror defaults (6 concurrent transfers).
#[derive(Clone)]
pub struct CopyOptions {
    /// Images worked on at the same time.
    pub parallel_images: usize,
    /// Blob transfers at the same time across all images (`--max-per-registry`).
    pub parallel_blobs: usize,
    /// Extra attempts for a blob after a transient failure.
    pub retries: u32,
    /// First backoff delay; doubles per attempt (with jitter), capped at 10 s.
    pub retry_base_delay: Duration,
    pub cancel: CancellationToken,
    pub progress: ProgressSink,
    /// Destination repositories that hold a blob from earlier runs (past associations): a blob
    /// the job's repository lacks is mounted from one of them (`POST ?mount=&from=`) before it
    /// is downloaded and uploaded again. Empty by default.
    pub mount_from: Arc<BlobLocations>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            parallel_images: 4,
            parallel_blobs: 6,
            retries: 4,
            retry_base_delay: Duration::from_millis(250),
            cancel: CancellationToken::new(),
            progress: no_progress(),
            mount_from: Arc::default(),
        }
    }
}

/// Outcome of one [`CopyJob`], in the order the jobs were given.
#[derive(Debug)]
pub struct ImageResult {
    pub label: String,
    pub dest_repo: String,
    pub dest_tag: Option<String>,
    /// The top manifest digest now in the destination, or why the image failed (then it was
    /// not tagged).
    pub outcome: Result<Digest, Error>,
    /// True when the destination already had the image and nothing was transferred.
    pub up_to_date: bool,
}

/// Totals of a run. Per-image outcomes are in `results`; the run itself never fails as a whole.
#[derive(Debug, Default)]
pub struct CopyReport {
    pub results: Vec<ImageResult>,
    /// Blob bytes actually streamed from a source into the destination.
    pub bytes_copied: u64,
    pub blobs_copied: u64,
    /// Blobs not transferred: present already, mounted, or shared with another image of the run.
    pub blobs_skipped: u64,
    /// Of `blobs_skipped`, the ones that needed a cross-repository mount.
    pub blobs_mounted: u64,
    pub manifests_pushed: u64,
    pub elapsed: Duration,
}

impl CopyReport {
    pub fn failed(&self) -> impl Iterator<Item = &ImageResult> {
        self.results.iter().filter(|r| r.outcome.is_err())
    }

    pub fn all_ok(&self) -> bool {
        self.failed().next().is_none()
    }

    /// Whether the run was stopped by its cancellation token.
    pub fn cancelled(&self) -> bool {
        self.results.iter().any(|r| matches!(r.outcome, Err(Error::Cancelled)))
    }
}
