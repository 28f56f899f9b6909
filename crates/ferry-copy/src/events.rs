//! Typed progress events. The engine emits them through a plain callback so the CLI can draw
//! progress bars and the desktop app can forward them over a Tauri channel; both throttle further.

use ferry_types::{Digest, ErrorCode};
use serde::Serialize;
use std::sync::Arc;

/// Receives every event. Called from engine tasks, so it must be cheap and must not block
/// (push into a channel or update counters; never do I/O inline).
pub type ProgressSink = Arc<dyn Fn(ProgressEvent) + Send + Sync>;

/// A sink that drops everything (library callers that do not care about progress).
pub fn no_progress() -> ProgressSink {
    Arc::new(|_| {})
}

/// Why a blob was not transferred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SkipReason {
    /// The destination repository already had it (HEAD answered 200).
    Exists,
    /// Mounted from another repository of the destination that got it earlier in this run.
    Mounted,
    /// Another image of this run already put it into the same destination repository.
    SharedInRun,
}

/// One step of a copy. `image` is the job's label (usually the source reference), so several
/// images can share one sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ProgressEvent {
    /// The image's work began (the source manifest is about to be read).
    ImageStarted {
        image: String,
        dest: String,
    },
    /// The top manifest was read; `blobs`/`bytes` is the total this image references (all platforms).
    ImagePlanned {
        image: String,
        digest: Digest,
        media_type: String,
        manifests: usize,
        blobs: usize,
        bytes: u64,
    },
    BlobStarted {
        image: String,
        digest: Digest,
        size: u64,
    },
    /// `bytes` is cumulative for the current attempt (it restarts at 0 after a retry).
    BlobProgress {
        image: String,
        digest: Digest,
        bytes: u64,
        size: u64,
    },
    BlobSkipped {
        image: String,
        digest: Digest,
        size: u64,
        reason: SkipReason,
    },
    /// A transient failure; the blob is re-read from the source after a backoff.
    BlobRetrying {
        image: String,
        digest: Digest,
        attempt: u32,
        message: String,
    },
    BlobDone {
        image: String,
        digest: Digest,
        size: u64,
    },
    BlobFailed {
        image: String,
        digest: Digest,
        code: ErrorCode,
        message: String,
    },
    /// A manifest (a platform child or the top one) is now in the destination by digest.
    ManifestDone {
        image: String,
        digest: Digest,
        media_type: String,
    },
    /// The image is complete in the destination (and tagged when a tag was asked for).
    /// `up_to_date` means nothing had to be copied: the destination already had it.
    ImageDone {
        image: String,
        digest: Digest,
        up_to_date: bool,
    },
    /// The image failed; nothing of it was tagged.
    ImageFailed {
        image: String,
        code: ErrorCode,
        message: String,
    },
    /// An archive part is being read by an import: `bytes` of its `size` so far (the part's
    /// file name in `part`), `done` once it was read to the end and its hash checked.
    PartProgress {
        part: String,
        bytes: u64,
        size: u64,
        done: bool,
    },
}

impl ProgressEvent {
    /// The image label every event carries.
    pub fn image(&self) -> &str {
        match self {
            ProgressEvent::ImageStarted { image, .. }
            | ProgressEvent::ImagePlanned { image, .. }
            | ProgressEvent::BlobStarted { image, .. }
            | ProgressEvent::BlobProgress { image, .. }
            | ProgressEvent::BlobSkipped { image, .. }
            | ProgressEvent::BlobRetrying { image, .. }
            | ProgressEvent::BlobDone { image, .. }
            | ProgressEvent::BlobFailed { image, .. }
            | ProgressEvent::ManifestDone { image, .. }
            | ProgressEvent::ImageDone { image, .. }
            | ProgressEvent::ImageFailed { image, .. } => image,
            // Part events belong to no image: the label is the part's file name.
            ProgressEvent::PartProgress { part, .. } => part,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_with_kind_tag_and_camel_case_fields() {
        let d = Digest::of(b"x");
        let ev = ProgressEvent::BlobSkipped {
            image: "quay.io/a/b:1".into(),
            digest: d.clone(),
            size: 7,
            reason: SkipReason::SharedInRun,
        };
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["kind"], "blobSkipped");
        assert_eq!(v["reason"], "sharedInRun");
        assert_eq!(v["digest"], d.to_string());
        assert_eq!(v["size"], 7);

        let ev = ProgressEvent::ImageFailed {
            image: "i".into(),
            code: ErrorCode::DigestMismatch,
            message: "m".into(),
        };
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["kind"], "imageFailed");
        assert_eq!(v["code"], "digest-mismatch");

        let ev = ProgressEvent::ManifestDone {
            image: "i".into(),
            digest: d,
            media_type: "t".into(),
        };
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["mediaType"], "t", "fields are camelCase for the UI: {v}");
        assert_eq!(ev.image(), "i");
    }
}
