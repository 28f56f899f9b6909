//! Writing one tar entry into the current part, all-or-nothing.
//!
//! Every entry follows the same protocol: [`State::begin`] marks the part dirty and hands out a
//! copy of the running part hash; bytes go through [`State::put`]; [`State::commit`] flushes,
//! fsyncs when the entry is a commit point, journals the entry and only then adopts its length
//! and hash. Any error rolls the part back to the last committed offset. A writer future that
//! is dropped half-way (the copy engine aborts the sibling transfers of a failed image) cannot
//! run that rollback itself, so the part stays marked dirty and the next user of the state
//! truncates it before writing anything: no partial bytes ever sit before a later entry.

use super::writeback::Writeback;
use super::{journal_path, JournalLine, State};
use crate::hash_pipe::HashPipe;
use crate::{part_name, PartInfo};
use ferry_types::{BlobStream, Digest, Error, Result, Sha256Hasher};
use futures::StreamExt;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub(crate) const TRAILER: u64 = 1024;
pub(crate) const BUF: usize = 1 << 20;

pub(crate) fn io(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(p.display(), e)
}

pub(crate) fn padded(size: u64) -> u64 {
    size.div_ceil(512) * 512
}

/// What a tar header describes.
#[derive(Clone, Copy)]
pub(crate) enum Kind<'a> {
    File(u64),
    Link(&'a str),
    Dir,
}

/// Header bytes (GNU long-name extension included when needed) for an entry.
pub(crate) fn header_bytes(name: &str, kind: Kind<'_>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    let mut b = tar::Builder::new(&mut out);
    let mut h = tar::Header::new_gnu();
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    let r = match kind {
        Kind::Link(target) => {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            h.set_size(0);
            b.append_link(&mut h, name, target)
        }
        Kind::File(size) => {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(size);
            // `append_data` with no data writes just the header blocks (it pads what it copied,
            // i.e. nothing); the body is streamed by the caller.
            b.append_data(&mut h, name, std::io::empty())
        }
        Kind::Dir => {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            b.append_data(&mut h, name, std::io::empty())
        }
    };
    r.map_err(|e| Error::Internal(format!("tar header for {name}: {e}")))?;
    // Dropping the builder appends the end-of-archive marker; keep only the header blocks.
    let len = b.get_ref().len();
    drop(b);
    out.truncate(len);
    Ok(out)
}

/// The journal record of an entry about to be committed.
pub(crate) struct Committed {
    pub name: String,
    /// Offset of the data in the part and its size (0 for links and directories).
    pub off: u64,
    pub size: u64,
    pub sha: Option<Digest>,
    /// Bytes the entry takes in the part (header, data, padding).
    pub total: u64,
}

impl State {
    pub(crate) fn part_path(&self, idx: u32) -> PathBuf {
        self.dir.join(part_name(self.seq, idx))
    }

    /// Undo a half-written entry left by a failed or dropped writer.
    pub(crate) fn rollback(&mut self) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let p = self.part_path(self.part_idx);
        if let Some(bw) = self.file.take() {
            // Buffered bytes of the aborted entry are discarded, never flushed.
            let (mut f, _) = bw.into_parts();
            f.set_len(self.part_len).map_err(io(&p))?;
            f.seek(SeekFrom::Start(self.part_len)).map_err(io(&p))?;
            self.file = Some(BufWriter::with_capacity(BUF, f));
        }
        self.dirty = false;
        tracing::debug!(part = %p.display(), offset = self.part_len, "rolled back a half-written entry");
        Ok(())
    }

    /// Start an entry: returns its offset in the part and the hash to extend.
    pub(crate) fn begin(&mut self) -> Result<(u64, Sha256Hasher)> {
        self.rollback()?;
        if self.file.is_none() {
            return Err(Error::Internal("archive part not open".into()));
        }
        self.dirty = true;
        Ok((self.part_len, self.part_hash.clone()))
    }

    pub(crate) fn put(&mut self, ph: &mut Sha256Hasher, bytes: &[u8]) -> Result<()> {
        let p = self.part_path(self.part_idx);
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| Error::Internal("archive part not open".into()))?;
        f.write_all(bytes).map_err(io(&p))?;
        ph.update(bytes);
        Ok(())
    }

    /// Bytes of an entry whose part hash the caller keeps itself (a [`HashPipe`]).
    fn write_raw(&mut self, bytes: &[u8]) -> Result<()> {
        let p = self.part_path(self.part_idx);
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| Error::Internal("archive part not open".into()))?;
        f.write_all(bytes).map_err(io(&p))
    }

    /// `written` bytes of the part went into the buffered writer: start the device writes of
    /// what the kernel holds of them (see [`Writeback`]).
    fn kick(&self, wb: &mut Writeback, written: u64) {
        if let Some(bw) = &self.file {
            wb.kick(bw.get_ref(), written - bw.buffer().len() as u64);
        }
    }

    /// Append one line to the journal; a failed write is cut off again so the journal never
    /// holds a partial line in front of later ones.
    pub(crate) fn journal(&mut self, line: &JournalLine, durable: bool) -> Result<()> {
        let jp = journal_path(&self.dir, self.seq);
        let mut l = serde_json::to_vec(line).expect("json");
        l.push(b'\n');
        let r = self
            .journal
            .write_all(&l)
            .and_then(|_| if durable { self.journal.sync_data() } else { Ok(()) });
        if let Err(e) = r {
            let _ = self.journal.set_len(self.journal_len);
            let _ = self.journal.seek(SeekFrom::Start(self.journal_len));
            return Err(Error::io(jp.display(), e));
        }
        self.journal_len += l.len() as u64;
        Ok(())
    }

    /// Make the entry part of the set: flush (and fsync at commit points) the part, then journal.
    pub(crate) fn commit(&mut self, ph: Sha256Hasher, c: Committed, durable: bool) -> Result<()> {
        let p = self.part_path(self.part_idx);
        let f = self
            .file
            .as_mut()
            .ok_or_else(|| Error::Internal("archive part not open".into()))?;
        f.flush().map_err(io(&p))?;
        if durable {
            // The bytes must be on the device before the journal says they are.
            f.get_ref().sync_data().map_err(io(&p))?;
        }
        let end = self.part_len + c.total;
        let line = JournalLine::Entry {
            p: self.part_idx,
            end,
            name: c.name.clone(),
            off: c.off,
            size: c.size,
            sha: c.sha.map(|d| d.to_string()),
        };
        self.journal(&line, durable)?;
        self.part_len = end;
        self.part_hash = ph;
        self.part_entries += 1;
        self.dirty = false;
        Ok(())
    }

    /// Run `f` as one entry; roll the part back if it fails.
    fn guarded<T>(&mut self, f: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
        let r = f(self);
        if r.is_err() {
            // The original error matters more than a failed rollback (which leaves `dirty` set
            // so the next entry retries it).
            let _ = self.rollback();
        }
        r
    }

    pub(crate) fn open_part(&mut self, idx: u32) -> Result<()> {
        let p = self.part_path(idx);
        let f = File::create(&p).map_err(io(&p))?;
        self.file = Some(BufWriter::with_capacity(BUF, f));
        self.part_idx = idx;
        self.part_len = 0;
        self.part_hash = Sha256Hasher::new();
        self.part_entries = 0;
        self.dirty = false;
        Ok(())
    }

    /// End-of-archive marker, fsync, journal: the part is final.
    pub(crate) fn close_part(&mut self) -> Result<()> {
        let (_, mut ph) = self.begin()?;
        self.guarded(|st| {
            let p = st.part_path(st.part_idx);
            st.put(&mut ph, &[0u8; TRAILER as usize])?;
            let f = st.file.as_mut().expect("open");
            f.flush().map_err(io(&p))?;
            f.get_ref().sync_all().map_err(io(&p))?;
            let size = st.part_len + TRAILER;
            let sha = std::mem::take(&mut ph).finish().to_string();
            let entries = st.part_entries;
            st.journal(
                &JournalLine::Closed {
                    closed: st.part_idx,
                    size,
                    sha256: sha.clone(),
                    entries,
                },
                true,
            )?;
            st.closed.push(PartInfo {
                name: part_name(st.seq, st.part_idx),
                size: Some(size),
                sha256: Some(sha),
                entries,
            });
            st.part_len = size;
            st.file = None;
            st.dirty = false;
            Ok(())
        })
    }

    /// Split-before-write: rotate to a new part when `entry_bytes` would not fit in this one.
    /// `what` names the entry (or folder) in the oversize warning or the `strict` error.
    pub(crate) fn make_room(&mut self, what: &str, entry_bytes: u64, data_size: u64) -> Result<()> {
        self.rollback()?;
        let max = self.max_part_bytes;
        if entry_bytes + TRAILER > max {
            if self.strict {
                return Err(Error::Archive(format!(
                    "{what} is {data_size} bytes, larger than the archive size limit of {max} bytes; raise archiveSize or run without --strict-archive"
                )));
            }
            tracing::warn!(
                entry = what,
                size = data_size,
                limit = max,
                "larger than archiveSize: it gets a part of its own"
            );
            if let Some(d) = what.strip_prefix("blobs/").and_then(|d| Digest::parse(d).ok()) {
                if !self.stats.oversized.iter().any(|(o, _)| o == &d) {
                    self.stats.oversized.push((d, data_size));
                }
            }
        }
        if self.part_entries > 0 && self.part_len + entry_bytes + TRAILER > max {
            self.close_part()?;
            let next = self.part_idx + 1;
            self.open_part(next)?;
        }
        Ok(())
    }

    /// Write a small in-memory entry (manifest, metadata, list), a symlink or a directory.
    /// `split`: subject to the part size rule (the metadata and pre-placed entries are not).
    pub(crate) fn write_small(
        &mut self,
        name: &str,
        kind: Kind<'_>,
        data: &[u8],
        split: bool,
        durable: bool,
    ) -> Result<()> {
        let (link, is_file) = match kind {
            Kind::Link(t) => (Some(t.to_string()), false),
            Kind::Dir => (None, false),
            Kind::File(_) => (None, true),
        };
        let size = if is_file { data.len() as u64 } else { 0 };
        let hdr = header_bytes(name, if is_file { Kind::File(size) } else { kind })?;
        let total = hdr.len() as u64 + padded(size);
        if split {
            self.make_room(name, total, size)?;
        }
        let (start, mut ph) = self.begin()?;
        self.guarded(|st| {
            st.put(&mut ph, &hdr)?;
            if is_file {
                st.put(&mut ph, data)?;
                st.put(&mut ph, &vec![0u8; (padded(size) - size) as usize])?;
            }
            let jname = match &link {
                Some(t) => format!("{name} -> {t}"),
                None => name.to_string(),
            };
            let c = Committed {
                name: jname,
                off: start + hdr.len() as u64,
                size,
                sha: is_file.then(|| Digest::of(data)),
                total,
            };
            st.commit(ph, c, durable)
        })?;
        self.names.insert(name.to_string());
        if let Some(t) = link {
            self.links.insert(name.to_string(), t);
        }
        Ok(())
    }

    /// Stream a blob into the current part. Rolled back on any error; if this future is
    /// dropped mid-way, the next entry rolls it back (see the module docs). The blob's digest
    /// and the part's hash run on threads of their own for a big blob ([`HashPipe`]), so this
    /// task only moves bytes; both are checked (and the part hash adopted) before the commit.
    pub(crate) async fn write_blob(&mut self, digest: &Digest, size: u64, mut body: BlobStream) -> Result<()> {
        let name = format!("blobs/{digest}");
        let hdr = header_bytes(&name, Kind::File(size))?;
        let total = hdr.len() as u64 + padded(size);
        self.make_room(&name, total, size)?;
        let (start, mut ph) = self.begin()?;
        let result: Result<()> = async {
            self.put(&mut ph, &hdr)?;
            let mut part_pipe = HashPipe::new(ph, size);
            let mut blob_pipe = HashPipe::new(Sha256Hasher::new(), size);
            let mut got = 0u64;
            let body_at = start + hdr.len() as u64;
            let mut wb = Writeback::new(start);
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| Error::io(format!("{name} (source stream)"), e))?;
                if got + chunk.len() as u64 > size {
                    return Err(Error::Archive(format!(
                        "{name}: the source sent more than the {size} bytes announced"
                    )));
                }
                got += chunk.len() as u64;
                blob_pipe.update(&chunk);
                part_pipe.update(&chunk);
                self.write_raw(&chunk)?;
                self.kick(&mut wb, body_at + got);
            }
            if got != size {
                return Err(Error::Archive(format!(
                    "{name}: the source stream ended after {got} of {size} bytes"
                )));
            }
            let hashing = |e: std::io::Error| Error::Archive(format!("{name}: hashing: {e}"));
            let mut ph = part_pipe.finish().map_err(hashing)?;
            let actual = blob_pipe.finish().map_err(hashing)?.finish();
            if &actual != digest {
                return Err(Error::DigestMismatch {
                    what: name.clone(),
                    expected: digest.to_string(),
                    actual: actual.to_string(),
                });
            }
            self.put(&mut ph, &vec![0u8; (padded(size) - size) as usize])?;
            let c = Committed {
                name: name.clone(),
                off: start + hdr.len() as u64,
                size,
                sha: Some(digest.clone()),
                total,
            };
            self.commit(ph, c, true)
        }
        .await;
        if let Err(e) = result {
            let _ = self.rollback();
            return Err(e);
        }
        self.names.insert(name);
        self.stats.blobs_written += 1;
        self.stats.blob_bytes_written += size;
        Ok(())
    }

    /// Copy a spooled blob into the part (split rule applied, digest checked again).
    pub(crate) fn write_spooled(&mut self, digest: &Digest, src: &Path, size: u64) -> Result<()> {
        let name = format!("blobs/{digest}");
        let hdr = header_bytes(&name, Kind::File(size))?;
        self.make_room(&name, hdr.len() as u64 + padded(size), size)?;
        self.copy_file(&name, src, size, Some(digest))?;
        self.stats.blobs_written += 1;
        self.stats.blob_bytes_written += size;
        self.stats.blobs_spooled += 1;
        Ok(())
    }

    /// Copy a local file into the part as `name` (no split decision: the caller placed it).
    pub(crate) fn write_file(&mut self, name: &str, src: &Path, size: u64) -> Result<()> {
        self.copy_file(name, src, size, None)
    }

    fn copy_file(&mut self, name: &str, src: &Path, size: u64, expect: Option<&Digest>) -> Result<()> {
        let hdr = header_bytes(name, Kind::File(size))?;
        let total = hdr.len() as u64 + padded(size);
        let (start, mut ph) = self.begin()?;
        self.guarded(|st| {
            let mut f = File::open(src).map_err(io(src))?;
            st.put(&mut ph, &hdr)?;
            let mut h = Sha256Hasher::new();
            let mut buf = vec![0u8; BUF];
            let body_at = start + hdr.len() as u64;
            let mut wb = Writeback::new(start);
            loop {
                let n = f.read(&mut buf).map_err(io(src))?;
                if n == 0 {
                    break;
                }
                if h.len() + n as u64 > size {
                    h.update(&buf[..n]);
                    break;
                }
                h.update(&buf[..n]);
                st.put(&mut ph, &buf[..n])?;
                st.kick(&mut wb, body_at + h.len());
            }
            if h.len() != size {
                return Err(Error::Archive(format!(
                    "{}: changed while it was being packed as {name} ({size} bytes when added, now different); \
                     keep the file unchanged until the set is finished and run again",
                    src.display()
                )));
            }
            let actual = h.finish();
            if let Some(d) = expect.filter(|d| **d != actual) {
                return Err(Error::DigestMismatch {
                    what: format!("{name} (spooled in {})", src.display()),
                    expected: d.to_string(),
                    actual: actual.to_string(),
                });
            }
            st.put(&mut ph, &vec![0u8; (padded(size) - size) as usize])?;
            let c = Committed {
                name: name.to_string(),
                off: start + hdr.len() as u64,
                size,
                sha: Some(actual),
                total,
            };
            st.commit(ph, c, true)
        })?;
        self.names.insert(name.to_string());
        Ok(())
    }
}
