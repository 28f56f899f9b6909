//! The copy itself: manifest tree resolution, per-digest blob coordination, transfers with
//! retries, and the final manifest/tag pushes.

use crate::events::{ProgressEvent, SkipReason};
use crate::verify::VerifyingStream;
use crate::{CopyJob, CopyOptions, CopyReport, ImageResult};
use ferry_types::media::{self, Descriptor, ManifestView};
use ferry_types::{Digest, Error, ImageDestination, Manifest, Result};
use futures::future::{try_join_all, BoxFuture};
use futures::{FutureExt, StreamExt};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::{Mutex as AsyncMutex, Semaphore};
use tokio_util::task::AbortOnDropHandle;

/// Index → index → image nesting deeper than this is refused (guards against loops).
const MAX_INDEX_DEPTH: usize = 4;
/// A mount is tried from at most this many repositories before falling back to a copy.
const MAX_MOUNT_SOURCES: usize = 2;
/// Repositories recorded by earlier runs tried for a mount (a stale record costs one `202`).
const MAX_RECORDED_MOUNT_SOURCES: usize = 3;

/// Copy every job into `dest`. Never fails as a whole: each job gets its own outcome in
/// [`CopyReport::results`] (same order as `jobs`). Must run inside a multi-threaded tokio
/// runtime: images and blob transfers are spawned as tasks so hashing uses every core.
///
/// Two phases: first every image's manifests are read (small, quick; images already complete in
/// the destination finish here), then the images are copied largest first. Started last, a big
/// image would alone set the length of the run; started first, the small ones fit around it.
pub async fn copy_images(dest: Arc<dyn ImageDestination>, jobs: Vec<CopyJob>, opts: &CopyOptions) -> CopyReport {
    let started = Instant::now();
    let engine = Arc::new(Engine {
        dest,
        blob_slots: Semaphore::new(opts.parallel_blobs.max(1)),
        opts: opts.clone(),
        blobs: Mutex::new(HashMap::new()),
        stats: Stats::default(),
    });
    let parallel = opts.parallel_images.max(1);
    let jobs: Vec<Arc<CopyJob>> = jobs.into_iter().map(Arc::new).collect();

    let prepared: Vec<(usize, Prepared)> = futures::stream::iter(jobs.iter().cloned().enumerate())
        .map(|(i, job)| {
            let engine = engine.clone();
            async move {
                let label = job.label.clone();
                // Tasks with abort-on-drop handles: a dropped copy_images future (the caller
                // gave up) stops everything it started.
                let task = AbortOnDropHandle::new(tokio::spawn(engine.prepare_job(job)));
                let p = task
                    .await
                    .unwrap_or_else(|e| Prepared::Finished(Err(task_error(&label, e)), false));
                (i, p)
            }
        })
        .buffer_unordered(parallel * 2)
        .collect()
        .await;

    let mut outcomes: Vec<Option<(Result<Digest>, bool)>> = (0..jobs.len()).map(|_| None).collect();
    let mut to_copy = Vec::new();
    for (i, p) in prepared {
        match p {
            Prepared::Finished(r, up_to_date) => outcomes[i] = Some((r, up_to_date)),
            Prepared::Copy(tree, bytes) => to_copy.push((i, tree, bytes)),
        }
    }
    to_copy.sort_by_key(|(_, _, bytes)| std::cmp::Reverse(*bytes));
    let copied: Vec<(usize, Result<Digest>)> = futures::stream::iter(to_copy)
        .map(|(i, tree, _)| {
            let (engine, job) = (engine.clone(), jobs[i].clone());
            async move {
                let label = job.label.clone();
                let task = AbortOnDropHandle::new(tokio::spawn(engine.copy_job(job, tree)));
                (i, task.await.unwrap_or_else(|e| Err(task_error(&label, e))))
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    for (i, r) in copied {
        outcomes[i] = Some((r, false));
    }

    let s = &engine.stats;
    CopyReport {
        results: jobs
            .iter()
            .zip(outcomes)
            .map(|(job, o)| {
                let (outcome, up_to_date) = o.expect("every job ends in one of the two phases");
                ImageResult {
                    label: job.label.clone(),
                    dest_repo: job.dest_repo.clone(),
                    dest_tag: job.dest_tag.clone(),
                    outcome,
                    up_to_date,
                }
            })
            .collect(),
        bytes_copied: s.bytes_copied.load(Ordering::Relaxed),
        blobs_copied: s.blobs_copied.load(Ordering::Relaxed),
        blobs_skipped: s.blobs_skipped.load(Ordering::Relaxed),
        blobs_mounted: s.blobs_mounted.load(Ordering::Relaxed),
        manifests_pushed: s.manifests_pushed.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}

fn task_error(label: &str, e: tokio::task::JoinError) -> Error {
    Error::Internal(format!("the copy task for {label} ended abnormally: {e}"))
}

/// What the first phase decided about one image.
enum Prepared {
    /// Done already: failed, or complete in the destination (`true` = up to date).
    Finished(Result<Digest>, bool),
    /// To copy: the resolved manifest tree and the blob bytes it references.
    Copy(Box<Node>, u64),
}

struct Engine {
    dest: Arc<dyn ImageDestination>,
    opts: CopyOptions,
    blob_slots: Semaphore,
    /// One async lock per digest: whoever holds it is the only one deciding about (and
    /// copying) that blob, so a layer shared by many images is copied once and the others
    /// wait for it, then see it in `present_in`.
    blobs: Mutex<HashMap<Digest, Arc<AsyncMutex<BlobState>>>>,
    stats: Stats,
}

#[derive(Default)]
struct BlobState {
    /// Destination repositories known to hold the blob during this run.
    present_in: Vec<String>,
}

#[derive(Default)]
struct Stats {
    bytes_copied: AtomicU64,
    blobs_copied: AtomicU64,
    blobs_skipped: AtomicU64,
    blobs_mounted: AtomicU64,
    manifests_pushed: AtomicU64,
}

/// A manifest with its parsed view and, for an index, its resolved children.
struct Node {
    manifest: Manifest,
    view: ManifestView,
    children: Vec<Node>,
}

impl Node {
    fn is_index(&self) -> bool {
        !self.children.is_empty() || self.view.config.is_none()
    }

    /// Unique blobs and manifests below (and including) this node: (manifests, blobs, blob bytes).
    fn totals(&self) -> (usize, usize, u64) {
        let mut seen = HashSet::new();
        let mut manifests = 0;
        let mut bytes = 0;
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            manifests += 1;
            for d in n.view.blobs() {
                if seen.insert(d.digest.as_str()) {
                    bytes += d.size;
                }
            }
            stack.extend(n.children.iter());
        }
        (manifests, seen.len(), bytes)
    }
}

impl Engine {
    fn emit(&self, ev: ProgressEvent) {
        (self.opts.progress)(ev)
    }

    fn check_cancelled(&self) -> Result<()> {
        if self.opts.cancel.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Emits the terminal event of an image.
    fn image_finished(&self, label: &str, outcome: &Result<Digest>, up_to_date: bool) {
        match outcome {
            Ok(digest) => self.emit(ProgressEvent::ImageDone {
                image: label.to_string(),
                digest: digest.clone(),
                up_to_date,
            }),
            Err(e) => {
                tracing::warn!(image = %label, error = %e, "image copy failed");
                self.emit(ProgressEvent::ImageFailed {
                    image: label.to_string(),
                    code: e.code(),
                    message: e.to_string(),
                })
            }
        }
    }

    /// Phase 1 for one job: read its manifests, or finish it when it fails or is up to date.
    async fn prepare_job(self: Arc<Self>, job: Arc<CopyJob>) -> Prepared {
        let r = if self.opts.cancel.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            self.emit(ProgressEvent::ImageStarted {
                image: job.label.clone(),
                dest: match &job.dest_tag {
                    Some(t) => format!("{}/{}:{}", self.dest.describe(), job.dest_repo, t),
                    None => format!("{}/{}", self.dest.describe(), job.dest_repo),
                },
            });
            tokio::select! {
                biased;
                _ = self.opts.cancel.cancelled() => Err(Error::Cancelled),
                r = self.prepare(&job) => r,
            }
        };
        match r {
            Ok(p @ Prepared::Copy(..)) => p,
            Ok(Prepared::Finished(outcome, up_to_date)) => {
                self.image_finished(&job.label, &outcome, up_to_date);
                Prepared::Finished(outcome, up_to_date)
            }
            Err(e) => {
                let outcome = Err(e);
                self.image_finished(&job.label, &outcome, false);
                Prepared::Finished(outcome, false)
            }
        }
    }

    async fn prepare(&self, job: &Arc<CopyJob>) -> Result<Prepared> {
        let top = job.source.get_manifest(&job.source_repo, &job.source_ref).await?;
        if let Ok(wanted) = Digest::parse(&job.source_ref) {
            if top.digest != wanted {
                return Err(Error::DigestMismatch {
                    what: format!("manifest of {} from {}", job.label, job.source.describe()),
                    expected: wanted.to_string(),
                    actual: top.digest.to_string(),
                });
            }
        }
        let top_ref = top.digest.to_string();

        // Up-to-date shortcuts. A registry only accepts a manifest whose blobs and children it
        // holds, so a manifest present by digest means the whole image is there.
        if let Some(tag) = &job.dest_tag {
            if self.dest.manifest_digest(&job.dest_repo, tag).await?.as_ref() == Some(&top.digest) {
                return Ok(Prepared::Finished(Ok(top.digest), true));
            }
        }
        if self.dest.manifest_digest(&job.dest_repo, &top_ref).await?.as_ref() == Some(&top.digest) {
            if let Some(tag) = &job.dest_tag {
                self.check_cancelled()?;
                self.dest.put_manifest(&job.dest_repo, tag, &top).await?;
                self.stats.manifests_pushed.fetch_add(1, Ordering::Relaxed);
            }
            return Ok(Prepared::Finished(Ok(top.digest), true));
        }

        let tree = self.resolve(job, top, 0).await?;
        let (manifests, blobs, bytes) = tree.totals();
        self.emit(ProgressEvent::ImagePlanned {
            image: job.label.clone(),
            digest: tree.manifest.digest.clone(),
            media_type: tree.manifest.media_type.clone(),
            manifests,
            blobs,
            bytes,
        });
        Ok(Prepared::Copy(Box::new(tree), bytes))
    }

    /// Phase 2 for one job: copy the tree, tag, and emit the terminal event.
    async fn copy_job(self: Arc<Self>, job: Arc<CopyJob>, tree: Box<Node>) -> Result<Digest> {
        let outcome = if self.opts.cancel.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            // Dropping the copy future aborts its spawned blob tasks (abort-on-drop handles),
            // so cancellation stops transfers mid-stream rather than at the next checkpoint.
            tokio::select! {
                biased;
                _ = self.opts.cancel.cancelled() => Err(Error::Cancelled),
                r = self.copy_tree(&job, &tree) => r,
            }
        };
        self.image_finished(&job.label, &outcome, false);
        outcome
    }

    async fn copy_tree(self: &Arc<Self>, job: &Arc<CopyJob>, tree: &Node) -> Result<Digest> {
        self.copy_node(job, tree, false).await?;
        if let Some(tag) = &job.dest_tag {
            // Last step, and only when everything below succeeded: the tag is what consumers see.
            self.check_cancelled()?;
            self.dest.put_manifest(&job.dest_repo, tag, &tree.manifest).await?;
            self.stats.manifests_pushed.fetch_add(1, Ordering::Relaxed);
        }
        Ok(tree.manifest.digest.clone())
    }

    /// Reads the children of an index (recursively), verifying each child's digest.
    fn resolve<'a>(&'a self, job: &'a Arc<CopyJob>, manifest: Manifest, depth: usize) -> BoxFuture<'a, Result<Node>> {
        async move {
            let bad = |why: String| {
                Error::InvalidReference(format!(
                    "{}: manifest {} from {} repository {} {why}",
                    job.label,
                    manifest.digest,
                    job.source.describe(),
                    job.source_repo
                ))
            };
            let view = ManifestView::parse(&manifest.bytes).map_err(|e| bad(format!("is not valid JSON: {e}")))?;
            let media_type = view.effective_media_type(&manifest.media_type).to_string();
            if media_type == media::DOCKER_V2S1_SIGNED || view.schema_version == 1 {
                return Err(bad(
                    "is a Docker schema 1 manifest, which Ferry cannot copy with its digest intact; \
                     re-push the image with a current client (Docker schema 2 or OCI)"
                        .into(),
                ));
            }
            if view.config.is_some() {
                return Ok(Node {
                    manifest,
                    view,
                    children: Vec::new(),
                });
            }
            if !media::is_index(&media_type) && view.manifests.is_empty() {
                return Err(bad(format!(
                    "(media type {media_type:?}) is neither an image manifest nor an index"
                )));
            }
            if depth >= MAX_INDEX_DEPTH {
                return Err(bad(format!("nests indexes deeper than {MAX_INDEX_DEPTH} levels")));
            }
            let children = try_join_all(view.manifests.iter().map(|desc| async move {
                let digest = parse_digest(job, &desc.digest)?;
                let child = job.source.get_manifest(&job.source_repo, &desc.digest).await?;
                if child.digest != digest {
                    return Err(Error::DigestMismatch {
                        what: format!("child manifest of {} from {}", job.label, job.source.describe()),
                        expected: digest.to_string(),
                        actual: child.digest.to_string(),
                    });
                }
                self.resolve(job, child, depth + 1).await
            }))
            .await?;
            Ok(Node {
                manifest,
                view,
                children,
            })
        }
        .boxed()
    }

    /// Copies everything below `node`, then pushes `node`'s manifest by digest.
    fn copy_node<'a>(
        self: &'a Arc<Self>,
        job: &'a Arc<CopyJob>,
        node: &'a Node,
        check_present: bool,
    ) -> BoxFuture<'a, Result<()>> {
        async move {
            let digest = &node.manifest.digest;
            if check_present
                && self
                    .dest
                    .manifest_digest(&job.dest_repo, &digest.to_string())
                    .await?
                    .as_ref()
                    == Some(digest)
            {
                // This platform is already complete in the destination; report its blobs as
                // present so progress totals still add up.
                for d in node.view.blobs() {
                    if let Ok(blob) = Digest::parse(&d.digest) {
                        self.skipped(job, blob, d.size, SkipReason::Exists);
                    }
                }
                return Ok(());
            }
            if node.is_index() {
                try_join_all(node.children.iter().map(|c| self.copy_node(job, c, true))).await?;
            } else {
                let mut seen = HashSet::new();
                let mut blobs: Vec<&Descriptor> = node.view.blobs().filter(|d| seen.insert(d.digest.clone())).collect();
                // Largest first: transfer slots are handed out in request order, and the biggest
                // layer is the one that sets how long the image takes.
                blobs.sort_by_key(|d| std::cmp::Reverse(d.size));
                let tasks = blobs
                    .into_iter()
                    .map(|d| AbortOnDropHandle::new(tokio::spawn(self.clone().copy_blob(job.clone(), d.clone()))));
                // try_join_all drops (and so aborts) the sibling transfers at the first failure.
                try_join_all(tasks.map(|t| async move {
                    t.await
                        .map_err(|e| Error::Internal(format!("blob copy task ended abnormally: {e}")))?
                }))
                .await?;
            }
            self.check_cancelled()?;
            self.dest
                .put_manifest(&job.dest_repo, &digest.to_string(), &node.manifest)
                .await?;
            self.stats.manifests_pushed.fetch_add(1, Ordering::Relaxed);
            self.emit(ProgressEvent::ManifestDone {
                image: job.label.clone(),
                digest: digest.clone(),
                media_type: node.manifest.media_type.clone(),
            });
            Ok(())
        }
        .boxed()
    }

    fn skipped(&self, job: &CopyJob, digest: Digest, size: u64, reason: SkipReason) {
        self.stats.blobs_skipped.fetch_add(1, Ordering::Relaxed);
        if reason == SkipReason::Mounted {
            self.stats.blobs_mounted.fetch_add(1, Ordering::Relaxed);
        }
        self.emit(ProgressEvent::BlobSkipped {
            image: job.label.clone(),
            digest,
            size,
            reason,
        });
    }

    fn blob_state(&self, digest: &Digest) -> Arc<AsyncMutex<BlobState>> {
        self.blobs.lock().unwrap().entry(digest.clone()).or_default().clone()
    }

    /// Makes one blob present in the job's destination repository: skip, mount or transfer.
    async fn copy_blob(self: Arc<Self>, job: Arc<CopyJob>, desc: Descriptor) -> Result<()> {
        let digest = parse_digest(&job, &desc.digest)?;
        let size = desc.size;
        let state = self.blob_state(&digest);
        // Waiting here holds no transfer slot, so waiters can never starve the copy they wait on.
        let mut st = state.lock().await;
        if st.present_in.iter().any(|r| *r == job.dest_repo) {
            self.skipped(&job, digest, size, SkipReason::SharedInRun);
            return Ok(());
        }
        if self.dest.has_blob(&job.dest_repo, &digest).await? {
            st.present_in.push(job.dest_repo.clone());
            self.skipped(&job, digest, size, SkipReason::Exists);
            return Ok(());
        }
        // Mount sources: repositories that got the blob earlier in this run, then the ones
        // earlier runs recorded (a later sequence's shared layers never leave the target).
        let d = digest.to_string();
        let mut tried: Vec<&str> = Vec::new();
        let recorded = self.opts.mount_from.repos(&d).iter().take(MAX_RECORDED_MOUNT_SOURCES);
        for from in st.present_in.iter().take(MAX_MOUNT_SOURCES).chain(recorded) {
            if *from == job.dest_repo || tried.contains(&from.as_str()) {
                continue;
            }
            tried.push(from);
            match self.dest.mount_blob(&job.dest_repo, from, &digest).await {
                Ok(true) => {
                    st.present_in.push(job.dest_repo.clone());
                    self.skipped(&job, digest, size, SkipReason::Mounted);
                    return Ok(());
                }
                Ok(false) => {}
                // A refused mount is not fatal: the blob can still be copied.
                Err(e) => tracing::debug!(%digest, from = %from, error = %e, "mount failed, copying instead"),
            }
        }
        let _slot = self
            .blob_slots
            .acquire()
            .await
            .map_err(|_| Error::Internal("blob transfer slots closed".into()))?;
        self.transfer(&job, &digest, size).await?;
        st.present_in.push(job.dest_repo.clone());
        Ok(())
    }

    /// Streams one blob from the source into the destination, retrying transient failures by
    /// re-opening the source.
    async fn transfer(&self, job: &CopyJob, digest: &Digest, size: u64) -> Result<()> {
        self.emit(ProgressEvent::BlobStarted {
            image: job.label.clone(),
            digest: digest.clone(),
            size,
        });
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.transfer_once(job, digest, size).await {
                Ok(()) => {
                    self.stats.blobs_copied.fetch_add(1, Ordering::Relaxed);
                    self.stats.bytes_copied.fetch_add(size, Ordering::Relaxed);
                    self.emit(ProgressEvent::BlobDone {
                        image: job.label.clone(),
                        digest: digest.clone(),
                        size,
                    });
                    return Ok(());
                }
                Err((e, retryable))
                    if retryable && attempt <= self.opts.retries && !self.opts.cancel.is_cancelled() =>
                {
                    tracing::info!(%digest, attempt, error = %e, "transient failure, retrying blob");
                    self.emit(ProgressEvent::BlobRetrying {
                        image: job.label.clone(),
                        digest: digest.clone(),
                        attempt,
                        message: e.to_string(),
                    });
                    // attempt counts from 1: the first retry waits the base delay.
                    tokio::time::sleep(ferry_types::backoff::delay(
                        self.opts.retry_base_delay,
                        attempt - 1,
                        None,
                    ))
                    .await;
                }
                Err((e, _)) => {
                    self.emit(ProgressEvent::BlobFailed {
                        image: job.label.clone(),
                        digest: digest.clone(),
                        code: e.code(),
                        message: e.to_string(),
                    });
                    return Err(e);
                }
            }
        }
    }

    /// One attempt. The error comes with whether a retry may help.
    async fn transfer_once(&self, job: &CopyJob, digest: &Digest, size: u64) -> Result<(), (Error, bool)> {
        let blob_name = || {
            format!(
                "blob {digest} of {} (from {} repository {})",
                job.label,
                job.source.describe(),
                job.source_repo
            )
        };
        let (announced, body) = job.source.get_blob(&job.source_repo, digest).await.map_err(|e| {
            let t = e.is_transient();
            (e, t)
        })?;
        if let Some(n) = announced {
            if n != size {
                return Err((
                    Error::DigestMismatch {
                        what: blob_name(),
                        expected: format!("{digest} ({size} bytes)"),
                        actual: format!("a body of {n} bytes"),
                    },
                    false,
                ));
            }
        }
        let sink = self.opts.progress.clone();
        let (image, d) = (job.label.clone(), digest.clone());
        let on_progress = Box::new(move |bytes| {
            sink(ProgressEvent::BlobProgress {
                image: image.clone(),
                digest: d.clone(),
                bytes,
                size,
            })
        });
        let dest_hashes = self.dest.checks_digests();
        let (verifying, verdict) = VerifyingStream::with_check(body, digest.clone(), size, on_progress, !dest_hashes);
        let put = self
            .dest
            .put_blob(&job.dest_repo, digest, Some(size), Box::pin(verifying))
            .await;
        let mut v = verdict.lock().unwrap().clone();
        if let (true, Err(Error::DigestMismatch { actual, .. })) = (dest_hashes, &put) {
            // The destination found the content wrong: the same verdict as our own hash.
            v.mismatch.get_or_insert((actual.clone(), v.bytes));
        }
        if let Some((actual, n)) = v.mismatch {
            // Corrupt at the source (or in transit): retrying rarely helps and the bytes must not
            // land, so the image fails here.
            return Err((
                Error::DigestMismatch {
                    what: blob_name(),
                    expected: format!("{digest} ({size} bytes)"),
                    actual: format!("{actual} ({n} bytes)"),
                },
                false,
            ));
        }
        if let (Some((kind, msg)), Err(_)) = (&v.source_error, &put) {
            // The source stream broke mid-way (dropped connection, truncated read): always worth
            // re-opening, whatever error kind the transport chose.
            return Err((
                Error::io(
                    format!("reading {} after {} of {size} bytes", blob_name(), v.bytes),
                    std::io::Error::new(*kind, msg.clone()),
                ),
                true,
            ));
        }
        put.map_err(|e| {
            let t = e.is_transient();
            (e, t)
        })?;
        if !v.verified {
            // The destination returned without draining the stream: it already had the blob
            // (archive writers dedupe). Nothing unverified was stored by us.
            tracing::debug!(%digest, "destination accepted the blob without reading it");
        }
        Ok(())
    }
}

fn parse_digest(job: &CopyJob, s: &str) -> Result<Digest> {
    Digest::parse(s).map_err(|e| {
        Error::InvalidReference(format!(
            "{}: a manifest from {} repository {} references {e}",
            job.label,
            job.source.describe(),
            job.source_repo
        ))
    })
}
