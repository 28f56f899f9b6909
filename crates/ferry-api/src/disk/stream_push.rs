//! Import with one read of the media: every part is read front to back once; its bytes feed
//! the part's sha256 (checked against the parts list when the read ends), each digest-named
//! entry's own hash, and the upload of each blob the target lacks. Manifests (and so tags) are
//! pushed afterwards by the copy engine, only when every part passed: a damaged part stops the
//! import before anything is tagged. Blobs uploaded before the damage was found are untagged
//! content the registry's garbage collection removes; a rerun after the part is copied again
//! skips them.

use super::part_reader::{self, PartReader};
use bytes::Bytes;
use ferry_archive::ArchiveSet;
use ferry_copy::{CancellationToken, ProgressEvent, ProgressSink};
use ferry_types::{BlobStream, Digest, Error, ImageDestination, Result, Sha256Hasher};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Where each blob of the set has to go: destination repositories and an image label for
/// progress events.
#[derive(Default)]
pub(super) struct BlobNeeds {
    pub by_digest: BTreeMap<String, (String, BTreeSet<String>)>,
}

impl BlobNeeds {
    pub fn add(&mut self, digest: &str, label: &str, repo: &str) {
        let e = self
            .by_digest
            .entry(digest.to_string())
            .or_insert_with(|| (label.to_string(), BTreeSet::new()));
        e.1.insert(repo.to_string());
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct StreamStats {
    pub parts_checked: usize,
    /// Parts with no listed hash (oc-mirror's archives): their entries were still checked.
    pub parts_unlisted: usize,
    pub entries_checked: usize,
    pub blobs_pushed: u64,
    pub bytes_pushed: u64,
    pub blobs_present: u64,
}

impl StreamStats {
    fn add(&mut self, o: StreamStats) {
        self.parts_checked += o.parts_checked;
        self.parts_unlisted += o.parts_unlisted;
        self.entries_checked += o.entries_checked;
        self.blobs_pushed += o.blobs_pushed;
        self.bytes_pushed += o.bytes_pushed;
        self.blobs_present += o.blobs_present;
    }
}

/// Read every part once, verifying as it streams, and upload the blobs `needs` lists.
pub(super) async fn push_blobs_verified(
    set: Arc<ArchiveSet>,
    needs: Arc<BlobNeeds>,
    dest: Arc<dyn ImageDestination>,
    parallel_parts: usize,
    progress: ProgressSink,
    cancel: CancellationToken,
) -> Result<StreamStats> {
    let limit = Arc::new(tokio::sync::Semaphore::new(parallel_parts.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for pi in 0..set.parts.len() {
        let (set, needs, dest, limit, progress, cancel) = (
            set.clone(),
            needs.clone(),
            dest.clone(),
            limit.clone(),
            progress.clone(),
            cancel.clone(),
        );
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            one_part(&set, pi, &needs, dest, &progress, &cancel).await
        });
    }
    let mut total = StreamStats::default();
    while let Some(r) = tasks.join_next().await {
        match r.map_err(|e| Error::Internal(format!("part reader task: {e}")))? {
            Ok(s) => total.add(s),
            Err(e) => {
                tasks.abort_all();
                return Err(e);
            }
        }
    }
    Ok(total)
}

/// Data regions of one part by offset: (offset, size, entry name).
fn regions(set: &ArchiveSet, pi: usize) -> Vec<(u64, u64, String)> {
    let mut v: Vec<(u64, u64, String)> = set
        .entries
        .iter()
        .filter(|(_, l)| l.part == pi && l.link.is_none())
        .map(|(n, l)| (l.offset, l.size, n.clone()))
        .collect();
    v.sort();
    v
}

async fn one_part(
    set: &ArchiveSet,
    pi: usize,
    needs: &BlobNeeds,
    dest: Arc<dyn ImageDestination>,
    progress: &ProgressSink,
    cancel: &CancellationToken,
) -> Result<StreamStats> {
    let part = &set.parts[pi];
    let path = part.path.clone();
    let io = |e: std::io::Error| Error::io(path.display(), e);
    let mut f = PartReader::open(&path).map_err(io)?;
    let mut stats = StreamStats::default();
    // Per-part progress for the app and the CLI: bytes of this part read so far, sent after
    // each entry (so at most one event per entry, plus the start and the end).
    let report = |bytes: u64, done: bool| {
        progress(ProgressEvent::PartProgress {
            part: part.name.clone(),
            bytes,
            size: part.size,
            done,
        })
    };
    report(0, false);
    for (off, size, name) in regions(set, pi) {
        if cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        f.over(off - f.pos(), |_| {}).await.map_err(io)?;
        let file = name.rsplit('/').next().unwrap_or_default();
        let digest = Digest::parse(file).ok();
        let wanted = name
            .strip_prefix("blobs/")
            .and_then(|d| needs.by_digest.get(d))
            .zip(digest.clone());
        let mut h = Sha256Hasher::new();
        let mut verified_inside = false;
        match wanted {
            Some(((label, repos), d)) => {
                let missing = missing_repos(&dest, repos, &d).await?;
                if missing.is_empty() {
                    stats.blobs_present += 1;
                    f.over(size, |c| h.update(c)).await.map_err(io)?;
                } else {
                    upload(&mut f, size, &dest, &missing, &d, label, &set.where_(&name), progress).await?;
                    verified_inside = true;
                    stats.blobs_pushed += 1;
                    stats.bytes_pushed += size;
                }
            }
            None => f.over(size, |c| h.update(c)).await.map_err(io)?,
        }
        report(f.pos(), false);
        if verified_inside {
            stats.entries_checked += 1;
        } else if let Some(d) = digest {
            let actual = h.finish();
            if actual != d {
                return Err(Error::DigestMismatch {
                    what: format!(
                        "{} (the part is corrupted; copy it again from the source media)",
                        set.where_(&name)
                    ),
                    expected: d.to_string(),
                    actual: actual.to_string(),
                });
            }
            stats.entries_checked += 1;
        }
    }
    // The rest (padding, the end-of-archive marker) is read and hashed by the reader.
    let part_sha = f.finish().await.map_err(io)?;
    let listed = set
        .parts_list
        .as_ref()
        .and_then(|l| l.parts.iter().find(|i| i.name == part.name))
        .and_then(|i| i.sha256.clone());
    match listed {
        Some(expected) => {
            let actual = part_sha;
            if actual.to_string() != expected {
                return Err(Error::DigestMismatch {
                    what: format!(
                        "{} (tar headers or padding corrupted; copy this part again from the source media; nothing was tagged)",
                        path.display()
                    ),
                    expected,
                    actual: actual.to_string(),
                });
            }
            stats.parts_checked += 1;
        }
        None => stats.parts_unlisted += 1,
    }
    report(part.size, true);
    Ok(stats)
}

/// The repositories that do not hold `d` yet.
async fn missing_repos(dest: &Arc<dyn ImageDestination>, repos: &BTreeSet<String>, d: &Digest) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for r in repos {
        if !dest.has_blob(r, d).await? {
            out.push(r.clone());
        }
    }
    Ok(out)
}

/// Stream one blob entry to the first missing repository while hashing it, then mount it into
/// the others (a registry that refuses the mount leaves them to the copy engine). The last
/// piece is held back until the blob's hash matched, so damaged bytes never complete an upload:
/// the body ends with an error instead.
#[allow(clippy::too_many_arguments)]
async fn upload(
    f: &mut PartReader,
    size: u64,
    dest: &Arc<dyn ImageDestination>,
    missing: &[String],
    d: &Digest,
    label: &str,
    where_: &str,
    progress: &ProgressSink,
) -> Result<()> {
    // The pieces are the reader's own (no copy); a few in flight keep the socket busy.
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(part_reader::QUEUE);
    let first = missing[0].clone();
    let push = {
        let (dest, first, d) = (dest.clone(), first.clone(), d.clone());
        let body: BlobStream = Box::pin(futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }));
        tokio::spawn(async move { dest.put_blob(&first, &d, Some(size), body).await })
    };
    progress(ProgressEvent::BlobStarted {
        image: label.to_string(),
        digest: d.clone(),
        size,
    });
    let mut blob_hash = Sha256Hasher::new();
    let mut held: Option<Bytes> = None;
    let (mut left, mut sent) = (size, 0u64);
    let mut outcome: std::result::Result<(), Error> = Ok(());
    while left > 0 {
        let piece = match f.next(left).await {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                outcome = Err(Error::Archive(format!(
                    "{where_}: the part ends inside this entry; copy it again"
                )));
                break;
            }
            Err(e) => {
                outcome = Err(Error::io(where_, e));
                break;
            }
        };
        blob_hash.update(&piece);
        left -= piece.len() as u64;
        if let Some(h) = held.replace(piece) {
            let n = h.len() as u64;
            if tx.send(Ok(h)).await.is_err() {
                break; // the upload ended early; its error is reported below
            }
            sent += n;
        }
        progress(ProgressEvent::BlobProgress {
            image: label.to_string(),
            digest: d.clone(),
            bytes: sent,
            size,
        });
    }
    if outcome.is_ok() && left == 0 {
        let actual = blob_hash.finish();
        if &actual == d {
            if let Some(h) = held.take() {
                let _ = tx.send(Ok(h)).await;
            }
        } else {
            outcome = Err(Error::DigestMismatch {
                what: format!("{where_} (the part is corrupted; copy it again from the source media)"),
                expected: d.to_string(),
                actual: actual.to_string(),
            });
        }
    }
    if outcome.is_err() {
        // The body ends with an error: the upload is abandoned, never completed short.
        let _ = tx
            .send(Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{where_}: not uploaded (the entry failed its check)"),
            )))
            .await;
    }
    drop(tx);
    let pushed = push.await.map_err(|e| Error::Internal(format!("upload task: {e}")))?;
    outcome?;
    pushed?;
    for r in &missing[1..] {
        if !dest.mount_blob(r, &first, d).await? {
            tracing::debug!(repo = %r, digest = %d, "mount refused; the copy engine pushes it");
        }
    }
    progress(ProgressEvent::BlobDone {
        image: label.to_string(),
        digest: d.clone(),
        size,
    });
    Ok(())
}
