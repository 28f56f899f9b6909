//! Keeping downloads flowing while another blob holds the part.
//!
//! Tar entries of a part are written one at a time. Without help, every other transfer would
//! sit on an idle connection while one blob streams into the part. So a blob that finds the
//! part busy is streamed (hashed, size-checked, digest-checked as it flows) into a spool file
//! next to the parts (same file system, so no other disk is involved), then copied into the
//! part once it is free (a local, page-cached copy, re-hashed on the way). The spool is bounded:
//! at most [`DEFAULT_SPOOL_BYTES`] (or what [`ArchiveWriter::with_spool_limit`] sets) of spool
//! files exist at any moment, a blob larger than the bound is never spooled, nor is any blob
//! when the file system has less than twice its size plus 1 GiB free; those wait for the part
//! and stream straight into it, as before. Spool files are deleted as soon as they are copied
//! in, when their transfer fails or is dropped, and, after a kill, when the next writer for that
//! sequence starts.

use super::entry::io;
use super::ArchiveWriter;
use ferry_types::{BlobStream, Digest, Error, Result, Sha256Hasher};
use futures::StreamExt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Default bound on spool files at any one time.
pub const DEFAULT_SPOOL_BYTES: u64 = 512 << 20;
/// Free space kept beyond the spooled blob (the parts still need it).
const FREE_MARGIN: u64 = 1 << 30;

/// The spool budget, in KiB permits (a tokio semaphore takes at most u32 permits at once).
pub(crate) struct Spool {
    pub limit: u64,
    pub budget: Arc<Semaphore>,
    in_use: Arc<AtomicU64>,
    peak: AtomicU64,
}

impl Spool {
    pub fn new(limit: u64) -> Spool {
        Spool {
            limit,
            budget: Arc::new(Semaphore::new((limit / 1024) as usize)),
            in_use: Arc::new(AtomicU64::new(0)),
            peak: AtomicU64::new(0),
        }
    }

    /// Most bytes spooled at once so far.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

fn spool_prefix(seq: u32) -> String {
    format!(".mirror_seq{seq}.spool-")
}

/// Remove spool files a killed run left behind.
pub(crate) fn clean_spool(dir: &Path, seq: u32) {
    let prefix = spool_prefix(seq);
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// A spool file that deletes itself (and gives its bytes back to the count) when dropped:
/// copied in, failed, or its task aborted.
struct SpoolFile {
    path: PathBuf,
    bytes: u64,
    in_use: Arc<AtomicU64>,
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        self.in_use.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

impl ArchiveWriter {
    /// Bound the spool files (see the `spool` module docs); 0 turns spooling off.
    pub fn with_spool_limit(mut self, bytes: u64) -> Self {
        self.spool = Spool::new(bytes);
        self
    }

    /// Put a blob while the part is busy: spool it when the bound allows, else wait for the
    /// part. Returns `Ok(None)` when it was not spooled and the caller should write it directly.
    pub(super) async fn put_spooled(&self, digest: &Digest, size: u64, body: BlobStream) -> Result<Option<BlobStream>> {
        if size > self.spool.limit {
            return Ok(Some(body));
        }
        let free = fs2::available_space(&self.opts.dir).unwrap_or(0);
        if free < size.saturating_mul(2) + FREE_MARGIN {
            return Ok(Some(body));
        }
        let Ok(_permit) = self
            .spool
            .budget
            .clone()
            .try_acquire_many_owned(size.div_ceil(1024).max(1) as u32)
        else {
            return Ok(Some(body));
        };
        let path = self
            .opts
            .dir
            .join(format!("{}{}", spool_prefix(self.opts.sequence), digest.hex()));
        let now = self.spool.in_use.fetch_add(size, Ordering::Relaxed) + size;
        self.spool.peak.fetch_max(now, Ordering::Relaxed);
        let spool = SpoolFile {
            path,
            bytes: size,
            in_use: self.spool.in_use.clone(),
        };
        self.spool_in(&spool.path, digest, size, body).await?;
        let mut st = self.state().await?;
        if st.names.contains(&format!("blobs/{digest}")) {
            return Ok(None);
        }
        st.write_spooled(digest, &spool.path, size)?;
        Ok(None)
    }

    /// Stream `body` into the spool file, checking size and digest as it flows.
    async fn spool_in(&self, path: &Path, digest: &Digest, size: u64, mut body: BlobStream) -> Result<()> {
        let name = format!("blobs/{digest}");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
            .map_err(io(path))?;
        let mut h = Sha256Hasher::new();
        let mut buf: Vec<u8> = Vec::with_capacity(super::entry::BUF);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::io(format!("{name} (source stream)"), e))?;
            if h.len() + chunk.len() as u64 > size {
                return Err(Error::Archive(format!(
                    "{name}: the source sent more than the {size} bytes announced"
                )));
            }
            h.update(&chunk);
            buf.extend_from_slice(&chunk);
            if buf.len() >= super::entry::BUF {
                f.write_all(&buf).map_err(io(path))?;
                buf.clear();
            }
        }
        f.write_all(&buf).map_err(io(path))?;
        if h.len() != size {
            return Err(Error::Archive(format!(
                "{name}: the source stream ended after {} of {size} bytes",
                h.len()
            )));
        }
        let actual = h.finish();
        if &actual != digest {
            return Err(Error::DigestMismatch {
                what: name,
                expected: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(())
    }
}
