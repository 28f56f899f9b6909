//! Folds the copy engine's fine-grained [`ProgressEvent`]s into the throttled job snapshots
//! ([`JobProgress`]) the desktop app shows. Lives in the facade, not in the Tauri shell, so it is
//! tested without a window; the shell only ticks it (about ten times a second) and forwards the
//! snapshot over its IPC channel.

use crate::wire::{ImageProgress, ImageState, JobProgress, PartProgress};
use ferry_copy::ProgressEvent;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The UI gets at most one snapshot per interval per job; 100 ms keeps bars smooth without
/// flooding IPC when thousands of small blobs finish at once.
pub const DEFAULT_INTERVAL: Duration = Duration::from_millis(100);

/// A sink that strips query strings from the failure and retry texts of events before passing
/// them on (the CLI's progress lines; the app's tracker redacts on its own).
pub fn redacting(inner: ferry_copy::ProgressSink) -> ferry_copy::ProgressSink {
    std::sync::Arc::new(move |mut ev: ProgressEvent| {
        match &mut ev {
            ProgressEvent::BlobRetrying { message, .. }
            | ProgressEvent::BlobFailed { message, .. }
            | ProgressEvent::ImageFailed { message, .. } => *message = ferry_types::redact_query_strings(message),
            _ => {}
        }
        inner(ev)
    })
}

pub struct ProgressTracker {
    job_id: String,
    interval: Duration,
    started: Instant,
    last_emit: Option<Instant>,
    last_emit_bytes: u64,
    /// Smoothed bytes per second (exponential moving average over emits).
    rate: f64,
    changed: bool,
    images: Vec<ImageProgress>,
    index: HashMap<String, usize>,
    /// Bytes already counted per (image, blob), so cumulative and retried progress add up right.
    blob_bytes: HashMap<(String, String), u64>,
    parts: Vec<PartProgress>,
}

impl ProgressTracker {
    pub fn new(job_id: impl Into<String>, interval: Duration) -> Self {
        Self::starting_at(job_id, interval, Instant::now())
    }

    pub fn starting_at(job_id: impl Into<String>, interval: Duration, now: Instant) -> Self {
        ProgressTracker {
            job_id: job_id.into(),
            interval,
            started: now,
            last_emit: None,
            last_emit_bytes: 0,
            rate: 0.0,
            changed: true,
            images: Vec::new(),
            index: HashMap::new(),
            blob_bytes: HashMap::new(),
            parts: Vec::new(),
        }
    }

    /// Announces the images of the job up front, so the UI lists them as queued.
    pub fn expect_images<I: IntoIterator<Item = String>>(&mut self, images: I) {
        for i in images {
            self.image_mut(&i);
        }
    }

    fn image_mut(&mut self, image: &str) -> &mut ImageProgress {
        let idx = match self.index.get(image) {
            Some(&i) => i,
            None => {
                self.images.push(ImageProgress {
                    image: image.to_string(),
                    state: ImageState::Queued,
                    bytes_done: 0,
                    bytes_total: 0,
                    message: None,
                });
                self.index.insert(image.to_string(), self.images.len() - 1);
                self.images.len() - 1
            }
        };
        &mut self.images[idx]
    }

    /// Sets a blob's counted bytes to `bytes` and moves the image's total by the difference.
    fn set_blob(&mut self, image: &str, digest: String, bytes: u64) {
        let key = (image.to_string(), digest);
        let old = self.blob_bytes.insert(key, bytes).unwrap_or(0);
        let img = self.image_mut(image);
        img.bytes_done = img.bytes_done.saturating_sub(old).saturating_add(bytes);
    }

    pub fn record(&mut self, ev: &ProgressEvent) {
        self.changed = true;
        // Failure texts may quote pre-signed storage URLs; their query strings never reach the UI.
        let redact = ferry_types::redact_query_strings;
        match ev {
            ProgressEvent::ImageStarted { image, .. } => {
                self.image_mut(image).state = ImageState::Copying;
            }
            ProgressEvent::ImagePlanned { image, bytes, .. } => {
                let img = self.image_mut(image);
                img.bytes_total = *bytes;
                img.state = ImageState::Copying;
            }
            ProgressEvent::BlobStarted { .. } | ProgressEvent::ManifestDone { .. } => {}
            ProgressEvent::BlobProgress {
                image, digest, bytes, ..
            } => self.set_blob(image, digest.to_string(), *bytes),
            // A retry restarts the blob from zero: its earlier bytes no longer count.
            ProgressEvent::BlobRetrying { image, digest, .. } => self.set_blob(image, digest.to_string(), 0),
            ProgressEvent::BlobDone { image, digest, size }
            | ProgressEvent::BlobSkipped {
                image, digest, size, ..
            } => self.set_blob(image, digest.to_string(), *size),
            ProgressEvent::BlobFailed { image, message, .. } => {
                self.image_mut(image).message = Some(redact(message));
            }
            ProgressEvent::ImageDone { image, up_to_date, .. } => {
                let img = self.image_mut(image);
                img.state = if *up_to_date {
                    ImageState::UpToDate
                } else {
                    ImageState::Done
                };
                img.bytes_done = img.bytes_total.max(img.bytes_done);
            }
            ProgressEvent::ImageFailed { image, message, .. } => {
                let img = self.image_mut(image);
                img.state = ImageState::Failed;
                img.message = Some(redact(message));
            }
            // An import's engine reports each part as it reads it (the export's parts are
            // watched on disk by `scan_parts` instead).
            ProgressEvent::PartProgress {
                part,
                bytes,
                size,
                done,
            } => self.part(part, *bytes, Some(*size), *done),
        }
    }

    /// Records archive-part progress (export writes, import reads; `bytes_total` when known).
    pub fn part(&mut self, name: &str, bytes_done: u64, bytes_total: Option<u64>, done: bool) {
        self.changed = true;
        match self.parts.iter_mut().find(|p| p.name == name) {
            Some(p) => {
                p.bytes_done = bytes_done;
                p.bytes_total = bytes_total.or(p.bytes_total);
                p.done = done;
            }
            None => self.parts.push(PartProgress {
                name: name.to_string(),
                bytes_done,
                bytes_total,
                done,
            }),
        }
    }

    /// Records the parts of an export as they are on disk in `folder` (`mirror_seq*_*.tar`):
    /// the bytes written so far, and done once a later part exists or `finished` is set.
    /// Returns how many parts it saw. The shell calls it on its ticker during an export, so the
    /// per-part bars show what really is on the media.
    pub fn scan_parts(&mut self, folder: &std::path::Path, finished: bool) -> usize {
        let Ok(rd) = std::fs::read_dir(folder) else { return 0 };
        let mut found: Vec<(u32, u32, String, u64)> = rd
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let (seq, idx) = ferry_archive::parse_part_name(&name)?;
                Some((seq, idx, name, e.metadata().ok()?.len()))
            })
            .collect();
        found.sort();
        let newest = found.last().map(|(s, i, _, _)| (*s, *i));
        for (seq, idx, name, len) in &found {
            let done = finished || Some((*seq, *idx)) != newest;
            let known = self
                .parts
                .iter()
                .find(|p| &p.name == name)
                .map(|p| (p.bytes_done, p.done));
            if known != Some((*len, done)) {
                self.part(name, *len, None, done);
            }
        }
        found.len()
    }

    fn totals(&self) -> (u64, u64, u32) {
        let done = self
            .images
            .iter()
            .map(|i| i.bytes_done.min(i.bytes_total.max(i.bytes_done)))
            .sum();
        let total = self.images.iter().map(|i| i.bytes_total.max(i.bytes_done)).sum();
        let finished = self
            .images
            .iter()
            .filter(|i| matches!(i.state, ImageState::Done | ImageState::UpToDate | ImageState::Failed))
            .count() as u32;
        (done, total, finished)
    }

    /// The current snapshot, whatever the throttle says.
    pub fn snapshot(&self) -> JobProgress {
        let (bytes_done, bytes_total, images_done) = self.totals();
        let rate = self.rate.max(0.0) as u64;
        let eta_secs = (rate > 0 && bytes_total >= bytes_done).then(|| (bytes_total - bytes_done).div_ceil(rate));
        JobProgress {
            job_id: self.job_id.clone(),
            bytes_done,
            bytes_total,
            bytes_per_sec: rate,
            eta_secs,
            images_done,
            images_total: self.images.len() as u32,
            images: self.images.clone(),
            parts: self.parts.clone(),
        }
    }

    /// Returns a snapshot when something changed and at least one interval passed since the
    /// last one; `None` otherwise. Call it from a timer and on completion (with `force`).
    pub fn poll(&mut self, now: Instant, force: bool) -> Option<JobProgress> {
        if !self.changed && !force {
            return None;
        }
        if let Some(last) = self.last_emit {
            let since = now.saturating_duration_since(last);
            if since < self.interval && !force {
                return None;
            }
            let (done, _, _) = self.totals();
            let secs = since.as_secs_f64();
            if secs > 0.0 {
                let instant = done.saturating_sub(self.last_emit_bytes) as f64 / secs;
                // Smooth over roughly a second of samples so the rate and ETA do not flicker.
                self.rate = if self.rate == 0.0 {
                    instant
                } else {
                    0.8 * self.rate + 0.2 * instant
                };
            }
        } else {
            let secs = now.saturating_duration_since(self.started).as_secs_f64();
            let (done, _, _) = self.totals();
            if secs > 0.0 {
                self.rate = done as f64 / secs;
            }
        }
        self.last_emit = Some(now);
        self.last_emit_bytes = self.totals().0;
        self.changed = false;
        Some(self.snapshot())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_copy::SkipReason;
    use ferry_types::{Digest, ErrorCode};

    fn planned(image: &str, bytes: u64) -> ProgressEvent {
        ProgressEvent::ImagePlanned {
            image: image.into(),
            digest: Digest::of(image.as_bytes()),
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            manifests: 1,
            blobs: 2,
            bytes,
        }
    }

    #[test]
    fn folds_blob_events_into_image_and_job_totals() {
        let t0 = Instant::now();
        let mut t = ProgressTracker::starting_at("j1", DEFAULT_INTERVAL, t0);
        t.expect_images(["a".to_string(), "b".to_string()]);
        t.record(&planned("a", 1000));
        t.record(&planned("b", 500));
        let d1 = Digest::of(b"blob1");
        t.record(&ProgressEvent::BlobProgress {
            image: "a".into(),
            digest: d1.clone(),
            bytes: 300,
            size: 800,
        });
        t.record(&ProgressEvent::BlobProgress {
            image: "a".into(),
            digest: d1.clone(),
            bytes: 600,
            size: 800,
        });
        let s = t.snapshot();
        assert_eq!((s.bytes_done, s.bytes_total), (600, 1500));
        // A retry drops the blob's bytes back to zero, then it completes.
        t.record(&ProgressEvent::BlobRetrying {
            image: "a".into(),
            digest: d1.clone(),
            attempt: 1,
            message: "reset".into(),
        });
        assert_eq!(t.snapshot().bytes_done, 0);
        t.record(&ProgressEvent::BlobDone {
            image: "a".into(),
            digest: d1,
            size: 800,
        });
        t.record(&ProgressEvent::BlobSkipped {
            image: "a".into(),
            digest: Digest::of(b"cfg"),
            size: 200,
            reason: SkipReason::Exists,
        });
        t.record(&ProgressEvent::ImageDone {
            image: "a".into(),
            digest: Digest::of(b"a"),
            up_to_date: false,
        });
        t.record(&ProgressEvent::ImageFailed {
            image: "b".into(),
            code: ErrorCode::Denied,
            message: "no push permission".into(),
        });
        let s = t.snapshot();
        assert_eq!(s.bytes_done, 1000);
        assert_eq!((s.images_done, s.images_total), (2, 2));
        assert_eq!(s.images[0].state, ImageState::Done);
        assert_eq!(s.images[1].state, ImageState::Failed);
        assert_eq!(s.images[1].message.as_deref(), Some("no push permission"));
    }

    #[test]
    fn throttles_to_one_snapshot_per_interval_and_computes_rate_and_eta() {
        let t0 = Instant::now();
        let mut t = ProgressTracker::starting_at("j", Duration::from_millis(100), t0);
        t.record(&planned("a", 10_000));
        assert!(
            t.poll(t0 + Duration::from_millis(1), false).is_some(),
            "first change is sent at once"
        );
        let mut sent = 0;
        // 1000 events over one second: only about ten snapshots go out.
        for ms in 0..1000u64 {
            t.record(&ProgressEvent::BlobProgress {
                image: "a".into(),
                digest: Digest::of(b"x"),
                bytes: ms * 5,
                size: 10_000,
            });
            if t.poll(t0 + Duration::from_millis(ms + 2), false).is_some() {
                sent += 1;
            }
        }
        assert!((9..=11).contains(&sent), "sent {sent} snapshots in one second");
        let s = t.poll(t0 + Duration::from_millis(1100), true).unwrap();
        assert!(
            s.bytes_per_sec > 3000 && s.bytes_per_sec < 7000,
            "rate {}",
            s.bytes_per_sec
        );
        let eta = s.eta_secs.unwrap();
        assert!((1..=3).contains(&eta), "eta {eta}");
        // Nothing changed: no snapshot, unless forced.
        assert!(t.poll(t0 + Duration::from_secs(5), false).is_none());
        assert!(t.poll(t0 + Duration::from_secs(5), true).is_some());
    }

    #[test]
    fn scans_the_parts_an_export_writes() {
        let d = tempfile::tempdir().unwrap();
        let mut t = ProgressTracker::new("j", DEFAULT_INTERVAL);
        assert_eq!(t.scan_parts(d.path(), false), 0);
        std::fs::write(d.path().join("mirror_seq2_000000.tar"), vec![0u8; 2048]).unwrap();
        std::fs::write(d.path().join("notes.txt"), "not a part").unwrap();
        assert_eq!(t.scan_parts(d.path(), false), 1);
        let s = t.snapshot();
        assert_eq!((s.parts[0].bytes_done, s.parts[0].done), (2048, false));
        std::fs::write(d.path().join("mirror_seq2_000001.tar"), vec![0u8; 512]).unwrap();
        t.scan_parts(d.path(), false);
        let s = t.snapshot();
        assert!(s.parts[0].done && !s.parts[1].done, "{:?}", s.parts);
        t.scan_parts(d.path(), true);
        assert!(t.snapshot().parts.iter().all(|p| p.done));
    }

    #[test]
    fn tracks_parts() {
        let mut t = ProgressTracker::new("j", DEFAULT_INTERVAL);
        t.part("mirror_seq1_000000.tar", 10, None, false);
        t.part("mirror_seq1_000000.tar", 20, None, true);
        t.part("mirror_seq1_000001.tar", 5, None, false);
        // The engine's event of an import's part carries the part's size.
        t.record(&ProgressEvent::PartProgress {
            part: "mirror_seq1_000001.tar".into(),
            bytes: 7,
            size: 40,
            done: false,
        });
        let s = t.snapshot();
        assert_eq!(s.parts.len(), 2);
        assert_eq!(s.parts[0].bytes_done, 20);
        assert!(s.parts[0].done);
        assert_eq!((s.parts[1].bytes_done, s.parts[1].bytes_total), (7, Some(40)));
    }
}
