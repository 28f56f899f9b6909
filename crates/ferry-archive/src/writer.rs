//! Streaming, splitting, resumable writer of one image set (see the crate docs).

use crate::{parse_part_name, part_name, parts_list_name, PartInfo, PartsList, PARTS_ENTRY, PARTS_FORMAT};
use async_trait::async_trait;
use ferry_metadata::METADATA_PATH;
use ferry_types::{BlobStream, Digest, Error, ImageDestination, Manifest, Result, Sha256Hasher};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use tokio::sync::Mutex;

const TRAILER: u64 = 1024;
const BUF: usize = 1 << 20;

#[derive(Debug, Clone)]
pub struct WriterOptions {
    pub dir: PathBuf,
    pub sequence: u32,
    pub uid: String,
    /// Split limit in bytes (`archiveSize` GiB × 1024³).
    pub max_part_bytes: u64,
    /// Fail instead of warning when one blob alone exceeds the limit.
    pub strict: bool,
    /// `publish/.metadata.json` for part 000000 (ignored when resuming: the set keeps the
    /// metadata it started with, see [`ArchiveWriter::metadata_json`]).
    pub metadata_json: Vec<u8>,
    /// Identifies the plan (images and digests). A leftover unfinished set is resumed only
    /// when its plan key matches; otherwise it is discarded and written again.
    pub plan_key: String,
    /// Digests shipped by earlier sequences: `has_blob` says yes, so they are not packed.
    pub skip_digests: HashSet<String>,
}

/// What a finished set holds.
#[derive(Debug, Clone, Default)]
pub struct WriterStats {
    pub parts: Vec<PartInfo>,
    pub blobs_written: u64,
    pub blob_bytes_written: u64,
    /// Blobs found intact from an interrupted earlier run (not downloaded again).
    pub blobs_resumed: u64,
    pub resumed: bool,
    /// Blobs larger than the split limit, each in a part of its own.
    pub oversized: Vec<(Digest, u64)>,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    uid: String,
    sequence: u32,
    plan_key: String,
    metadata: String,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum JournalLine {
    Entry {
        p: u32,
        end: u64,
        name: String,
    },
    Closed {
        closed: u32,
        size: u64,
        sha256: String,
        entries: u32,
    },
}

struct State {
    part_idx: u32,
    file: Option<BufWriter<File>>,
    part_len: u64,
    part_hash: Sha256Hasher,
    part_entries: u32,
    names: HashSet<String>,
    /// Tag symlink name → digest (for `manifest_digest`).
    links: HashMap<String, String>,
    journal: File,
    closed: Vec<PartInfo>,
    stats: WriterStats,
    finished: bool,
}

pub struct ArchiveWriter {
    opts: WriterOptions,
    metadata_json: Vec<u8>,
    state: Mutex<State>,
}

fn state_path(dir: &Path, seq: u32) -> PathBuf {
    dir.join(format!(".mirror_seq{seq}.ferry-state.json"))
}
pub(crate) fn journal_path(dir: &Path, seq: u32) -> PathBuf {
    dir.join(format!(".mirror_seq{seq}.ferry-journal"))
}

fn io(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(p.display(), e)
}

/// Header bytes (GNU long-name extension included when needed) for an entry.
fn header_bytes(name: &str, size: u64, link: Option<&str>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    let mut b = tar::Builder::new(&mut out);
    let mut h = tar::Header::new_gnu();
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    match link {
        Some(target) => {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            h.set_size(0);
            b.append_link(&mut h, name, target)?;
        }
        None => {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(size);
            // `append_data` with no data writes just the header blocks (it pads what it copied,
            // i.e. nothing); the body is streamed by the caller.
            b.append_data(&mut h, name, std::io::empty())?;
        }
    }
    // Dropping the builder appends the end-of-archive marker; keep only the header blocks.
    let len = b.get_ref().len();
    drop(b);
    out.truncate(len);
    Ok(out)
}

fn padded(size: u64) -> u64 {
    size.div_ceil(512) * 512
}

impl ArchiveWriter {
    /// Start a set in `opts.dir`, or resume the unfinished one left there by an interrupted
    /// run with the same sequence, uid and plan.
    pub fn create(opts: WriterOptions) -> Result<ArchiveWriter> {
        let dir = opts.dir.clone();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let sp = state_path(&dir, opts.sequence);
        let jp = journal_path(&dir, opts.sequence);
        let prior: Option<StateFile> = std::fs::read(&sp).ok().and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(p) = &prior {
            if p.uid == opts.uid && p.plan_key == opts.plan_key && p.sequence == opts.sequence {
                match Self::resume(&opts, p.metadata.clone().into_bytes()) {
                    Ok(w) => return Ok(w),
                    Err(e) => tracing::warn!(error = %e, "cannot resume the unfinished set; writing it again"),
                }
            } else {
                tracing::warn!(
                    dir = %dir.display(),
                    sequence = opts.sequence,
                    "an unfinished set of another plan is in the way; discarding it"
                );
            }
        }
        Self::remove_parts(&dir, opts.sequence)?;
        let _ = std::fs::remove_file(dir.join(parts_list_name(opts.sequence)));
        let st = StateFile {
            uid: opts.uid.clone(),
            sequence: opts.sequence,
            plan_key: opts.plan_key.clone(),
            metadata: String::from_utf8_lossy(&opts.metadata_json).to_string(),
        };
        let tmp = sp.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec(&st).expect("json")).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &sp).map_err(io(&sp))?;
        let journal = File::create(&jp).map_err(io(&jp))?;
        let metadata_json = opts.metadata_json.clone();
        let w = ArchiveWriter {
            metadata_json: metadata_json.clone(),
            state: Mutex::new(State {
                part_idx: 0,
                file: None,
                part_len: 0,
                part_hash: Sha256Hasher::new(),
                part_entries: 0,
                names: HashSet::new(),
                links: HashMap::new(),
                journal,
                closed: Vec::new(),
                stats: WriterStats::default(),
                finished: false,
            }),
            opts,
        };
        {
            let mut st = w.state.try_lock().expect("fresh writer");
            w.open_part(&mut st, 0)?;
            // The metadata is always the first entry of part 0 and is not subject to splitting.
            w.write_entry(&mut st, METADATA_PATH, &metadata_json, None)?;
        }
        Ok(w)
    }

    fn remove_parts(dir: &Path, seq: u32) -> Result<()> {
        let rd = match std::fs::read_dir(dir) {
            Ok(r) => r,
            Err(_) => return Ok(()),
        };
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if parse_part_name(&n).map(|(s, _)| s) == Some(seq) {
                std::fs::remove_file(e.path()).map_err(io(&e.path()))?;
            }
        }
        Ok(())
    }

    fn resume(opts: &WriterOptions, metadata_json: Vec<u8>) -> Result<ArchiveWriter> {
        let dir = &opts.dir;
        let jp = journal_path(dir, opts.sequence);
        let text = std::fs::read_to_string(&jp).map_err(io(&jp))?;
        let mut closed = Vec::new();
        let mut names = HashSet::new();
        let mut links = HashMap::new();
        let mut cur_part = 0u32;
        let mut cur_end = 0u64;
        let mut cur_entries = 0u32;
        let mut blobs = 0u64;
        let mut valid_len = 0usize;
        for line in text.split_inclusive('\n') {
            // A line cut by the kill has no newline or does not parse: the journal ends before it.
            let Ok(l) = serde_json::from_str::<JournalLine>(line.trim_end()) else {
                break;
            };
            if !line.ends_with('\n') {
                break;
            }
            valid_len += line.len();
            match l {
                JournalLine::Entry { p, end, name } => {
                    if p != cur_part {
                        cur_part = p;
                        cur_entries = 0;
                    }
                    cur_end = end;
                    cur_entries += 1;
                    if name.starts_with("blobs/") {
                        blobs += 1;
                    }
                    if let Some((n, target)) = name.split_once(" -> ") {
                        links.insert(n.to_string(), target.to_string());
                        names.insert(n.to_string());
                    } else {
                        names.insert(name);
                    }
                }
                JournalLine::Closed {
                    closed: idx,
                    size,
                    sha256,
                    entries,
                } => {
                    closed.push(PartInfo {
                        name: part_name(opts.sequence, idx),
                        size: Some(size),
                        sha256: Some(sha256),
                        entries,
                    });
                    cur_part = idx + 1;
                    cur_end = 0;
                    cur_entries = 0;
                }
            }
        }
        if !names.contains(METADATA_PATH) {
            return Err(Error::Archive("journal has no metadata entry".into()));
        }
        // Closed parts must still be intact on disk.
        for c in &closed {
            let p = dir.join(&c.name);
            let len = std::fs::metadata(&p).map_err(io(&p))?.len();
            if Some(len) != c.size {
                return Err(Error::Archive(format!(
                    "{}: size changed since it was closed",
                    p.display()
                )));
            }
        }
        // Parts beyond the one in progress were never journaled: drop them.
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if let Some((s, i)) = parse_part_name(&n) {
                    if s == opts.sequence && i > cur_part {
                        std::fs::remove_file(e.path()).map_err(io(&e.path()))?;
                    }
                }
            }
        }
        let journal = OpenOptions::new().write(true).open(&jp).map_err(io(&jp))?;
        journal.set_len(valid_len as u64).map_err(io(&jp))?;
        let mut journal = journal;
        journal.seek(SeekFrom::End(0)).map_err(io(&jp))?;

        let pp = dir.join(part_name(opts.sequence, cur_part));
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&pp)
            .map_err(io(&pp))?;
        // Cut the part back to its last journaled entry (drops a half-written entry and any
        // end-of-archive marker) and rebuild its running hash from what stays.
        f.set_len(cur_end).map_err(io(&pp))?;
        f.seek(SeekFrom::Start(0)).map_err(io(&pp))?;
        let mut h = Sha256Hasher::new();
        let mut buf = vec![0u8; BUF];
        let mut left = cur_end;
        while left > 0 {
            let n = f.read(&mut buf[..(left.min(BUF as u64) as usize)]).map_err(io(&pp))?;
            if n == 0 {
                return Err(Error::Archive(format!("{}: shorter than its journal", pp.display())));
            }
            h.update(&buf[..n]);
            left -= n as u64;
        }
        f.seek(SeekFrom::Start(cur_end)).map_err(io(&pp))?;
        tracing::info!(part = %pp.display(), bytes = cur_end, blobs, "resuming an interrupted set");
        let stats = WriterStats {
            blobs_resumed: blobs,
            resumed: true,
            ..Default::default()
        };
        Ok(ArchiveWriter {
            metadata_json,
            opts: opts.clone(),
            state: Mutex::new(State {
                part_idx: cur_part,
                file: Some(BufWriter::with_capacity(BUF, f)),
                part_len: cur_end,
                part_hash: h,
                part_entries: cur_entries,
                names,
                links,
                journal,
                closed,
                stats,
                finished: false,
            }),
        })
    }

    /// Uid and plan key of an unfinished set of sequence `seq` left in `dir` by an interrupted
    /// run (a new workspace reuses that uid so the run can resume).
    pub fn pending(dir: &Path, seq: u32) -> Option<(String, String)> {
        let st: StateFile = serde_json::from_slice(&std::fs::read(state_path(dir, seq)).ok()?).ok()?;
        Some((st.uid, st.plan_key))
    }

    /// Bytes already in the parts of an unfinished set (counted against the pre-flight need).
    pub fn pending_bytes(dir: &Path, seq: u32) -> u64 {
        let Ok(rd) = std::fs::read_dir(dir) else { return 0 };
        rd.flatten()
            .filter(|e| parse_part_name(&e.file_name().to_string_lossy()).map(|(s, _)| s) == Some(seq))
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .sum()
    }

    /// The metadata actually in part 000000 (the original one when the set was resumed).
    pub fn metadata_json(&self) -> &[u8] {
        &self.metadata_json
    }

    fn part_path(&self, idx: u32) -> PathBuf {
        self.opts.dir.join(part_name(self.opts.sequence, idx))
    }

    fn open_part(&self, st: &mut State, idx: u32) -> Result<()> {
        let p = self.part_path(idx);
        let f = File::create(&p).map_err(io(&p))?;
        st.file = Some(BufWriter::with_capacity(BUF, f));
        st.part_idx = idx;
        st.part_len = 0;
        st.part_hash = Sha256Hasher::new();
        st.part_entries = 0;
        Ok(())
    }

    fn close_part(&self, st: &mut State) -> Result<()> {
        let p = self.part_path(st.part_idx);
        let zeros = [0u8; TRAILER as usize];
        let mut bw = st.file.take().expect("part open");
        bw.write_all(&zeros).map_err(io(&p))?;
        st.part_hash.update(&zeros);
        let f = bw.into_inner().map_err(|e| Error::io(p.display(), e.into_error()))?;
        // Removable media: the part must really be on the device before we call it closed.
        f.sync_all().map_err(io(&p))?;
        let size = st.part_len + TRAILER;
        let sha = std::mem::take(&mut st.part_hash).finish();
        let info = PartInfo {
            name: part_name(self.opts.sequence, st.part_idx),
            size: Some(size),
            sha256: Some(sha.to_string()),
            entries: st.part_entries,
        };
        self.journal(
            st,
            &JournalLine::Closed {
                closed: st.part_idx,
                size,
                sha256: sha.to_string(),
                entries: st.part_entries,
            },
        )?;
        st.closed.push(info);
        Ok(())
    }

    fn journal(&self, st: &mut State, line: &JournalLine) -> Result<()> {
        let jp = journal_path(&self.opts.dir, self.opts.sequence);
        let mut l = serde_json::to_vec(line).expect("json");
        l.push(b'\n');
        st.journal.write_all(&l).map_err(io(&jp))
    }

    /// Split-before-write: rotate to a new part when the entry would not fit in this one.
    fn make_room(&self, st: &mut State, name: &str, entry_bytes: u64, data_size: u64) -> Result<()> {
        let max = self.opts.max_part_bytes;
        let oversized = entry_bytes + TRAILER > max;
        if oversized && name.starts_with("blobs/") {
            let d = Digest::parse(name.trim_start_matches("blobs/")).ok();
            if self.opts.strict {
                return Err(Error::Archive(format!(
                    "{name} is {data_size} bytes, larger than the archive size limit of {max} bytes; raise archiveSize or run without --strict-archive"
                )));
            }
            tracing::warn!(
                entry = name,
                size = data_size,
                limit = max,
                "blob larger than archiveSize: it gets a part of its own"
            );
            if let Some(d) = d {
                st.stats.oversized.push((d, data_size));
            }
        }
        if st.part_entries > 0 && st.part_len + entry_bytes + TRAILER > max {
            self.close_part(st)?;
            let next = st.part_idx + 1;
            self.open_part(st, next)?;
        }
        Ok(())
    }

    /// Write a small in-memory entry (manifest, metadata, list) or a symlink.
    fn write_entry(&self, st: &mut State, name: &str, data: &[u8], link: Option<&str>) -> Result<()> {
        let hdr =
            header_bytes(name, data.len() as u64, link).map_err(|e| Error::Internal(format!("tar header: {e}")))?;
        let total = hdr.len() as u64 + if link.is_some() { 0 } else { padded(data.len() as u64) };
        if name != METADATA_PATH {
            self.make_room(st, name, total, data.len() as u64)?;
        }
        let p = self.part_path(st.part_idx);
        let f = st.file.as_mut().expect("part open");
        let pad = vec![0u8; (padded(data.len() as u64) - data.len() as u64) as usize];
        let body: &[u8] = if link.is_some() { &[] } else { data };
        f.write_all(&hdr)
            .and_then(|_| f.write_all(body))
            .and_then(|_| if link.is_some() { Ok(()) } else { f.write_all(&pad) })
            .and_then(|_| f.flush())
            .map_err(io(&p))?;
        st.part_hash.update(&hdr);
        st.part_hash.update(body);
        if link.is_none() {
            st.part_hash.update(&pad);
        }
        st.part_len += total;
        st.part_entries += 1;
        st.names.insert(name.to_string());
        let jname = match link {
            Some(t) => {
                st.links.insert(name.to_string(), t.to_string());
                format!("{name} -> {t}")
            }
            None => name.to_string(),
        };
        let end = st.part_len;
        let p_idx = st.part_idx;
        self.journal(
            st,
            &JournalLine::Entry {
                p: p_idx,
                end,
                name: jname,
            },
        )
    }

    /// Stream a blob into the current part; rolled back on any error.
    async fn write_blob(&self, st: &mut State, digest: &Digest, size: Option<u64>, mut body: BlobStream) -> Result<()> {
        let name = format!("blobs/{digest}");
        let size = match size {
            Some(s) => s,
            None => {
                return Err(Error::Internal(format!(
                    "{name}: size unknown; the archive writer needs the blob size for the tar header"
                )))
            }
        };
        let hdr = header_bytes(&name, size, None).map_err(|e| Error::Internal(format!("tar header: {e}")))?;
        let total = hdr.len() as u64 + padded(size);
        self.make_room(st, &name, total, size)?;
        let p = self.part_path(st.part_idx);
        let start = st.part_len;
        let saved_hash = st.part_hash.clone();
        let result: Result<()> = async {
            let f = st.file.as_mut().expect("part open");
            f.write_all(&hdr).map_err(io(&p))?;
            st.part_hash.update(&hdr);
            let mut h = Sha256Hasher::new();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| Error::io(format!("{name} (source stream)"), e))?;
                if h.len() + chunk.len() as u64 > size {
                    return Err(Error::Archive(format!(
                        "{name}: the source sent more than the {size} bytes announced"
                    )));
                }
                h.update(&chunk);
                st.part_hash.update(&chunk);
                st.file.as_mut().expect("open").write_all(&chunk).map_err(io(&p))?;
            }
            if h.len() != size {
                return Err(Error::Archive(format!(
                    "{name}: the source stream ended after {} of {size} bytes",
                    h.len()
                )));
            }
            let actual = h.finish();
            if &actual != digest {
                return Err(Error::DigestMismatch {
                    what: name.clone(),
                    expected: digest.to_string(),
                    actual: actual.to_string(),
                });
            }
            let pad = vec![0u8; (padded(size) - size) as usize];
            let f = st.file.as_mut().expect("open");
            f.write_all(&pad).and_then(|_| f.flush()).map_err(io(&p))?;
            st.part_hash.update(&pad);
            Ok(())
        }
        .await;
        if let Err(e) = result {
            // Roll the part back to where this entry started: no half entry ever stays.
            if let Some(bw) = st.file.take() {
                let (f, _) = bw.into_parts();
                let mut f = f;
                let _ = f.set_len(start);
                let _ = f.seek(SeekFrom::Start(start));
                st.file = Some(BufWriter::with_capacity(BUF, f));
            }
            st.part_hash = saved_hash;
            return Err(e);
        }
        st.part_len += total;
        st.part_entries += 1;
        st.names.insert(name.clone());
        st.stats.blobs_written += 1;
        st.stats.blob_bytes_written += size;
        let end = st.part_len;
        let p_idx = st.part_idx;
        self.journal(st, &JournalLine::Entry { p: p_idx, end, name })
    }

    /// Close the last part, write the integrity lists and drop the resume state. Only after
    /// this returns is the set complete.
    pub async fn finish(&self) -> Result<WriterStats> {
        let mut st = self.state.lock().await;
        if st.finished {
            return Err(Error::Internal("archive set finished twice".into()));
        }
        // In-archive copy of the list: earlier parts with hashes, the last one by name only.
        let mut listed = st.closed.clone();
        // The list itself may rotate the part; compute after make_room by writing a
        // provisional list sized like the final one.
        let provisional = |last_idx: u32, closed: &[PartInfo]| {
            let mut parts = closed.to_vec();
            parts.push(PartInfo {
                name: part_name(self.opts.sequence, last_idx),
                size: None,
                sha256: None,
                entries: 0,
            });
            PartsList {
                format: PARTS_FORMAT.into(),
                uid: self.opts.uid.clone(),
                sequence: self.opts.sequence,
                parts,
            }
        };
        let body = serde_json::to_vec_pretty(&provisional(st.part_idx, &listed)).expect("json");
        let hdr_len = header_bytes(PARTS_ENTRY, body.len() as u64, None)
            .map(|h| h.len())
            .unwrap_or(512) as u64;
        // Reserve generous room so rotation by the list itself is decided once.
        self.make_room(&mut st, PARTS_ENTRY, hdr_len + padded(body.len() as u64 + 256), 0)?;
        listed = st.closed.clone();
        let body = serde_json::to_vec_pretty(&provisional(st.part_idx, &listed)).expect("json");
        // Written directly (room was made above).
        {
            let hdr = header_bytes(PARTS_ENTRY, body.len() as u64, None).map_err(|e| Error::Internal(e.to_string()))?;
            let p = self.part_path(st.part_idx);
            let pad = vec![0u8; (padded(body.len() as u64) - body.len() as u64) as usize];
            let f = st.file.as_mut().expect("open");
            f.write_all(&hdr)
                .and_then(|_| f.write_all(&body))
                .and_then(|_| f.write_all(&pad))
                .map_err(io(&p))?;
            st.part_hash.update(&hdr);
            st.part_hash.update(&body);
            st.part_hash.update(&pad);
            st.part_len += hdr.len() as u64 + padded(body.len() as u64);
            st.part_entries += 1;
        }
        self.close_part(&mut st)?;
        let list = PartsList {
            format: PARTS_FORMAT.into(),
            uid: self.opts.uid.clone(),
            sequence: self.opts.sequence,
            parts: st.closed.clone(),
        };
        let sidecar = self.opts.dir.join(parts_list_name(self.opts.sequence));
        let tmp = sidecar.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&list).expect("json")).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &sidecar).map_err(io(&sidecar))?;
        let _ = std::fs::remove_file(state_path(&self.opts.dir, self.opts.sequence));
        let _ = std::fs::remove_file(journal_path(&self.opts.dir, self.opts.sequence));
        st.finished = true;
        let mut stats = st.stats.clone();
        stats.parts = st.closed.clone();
        Ok(stats)
    }
}

#[async_trait]
impl ImageDestination for ArchiveWriter {
    fn describe(&self) -> String {
        format!("archive {}", self.opts.dir.display())
    }

    async fn has_blob(&self, _repo: &str, digest: &Digest) -> Result<bool> {
        let d = digest.to_string();
        if self.opts.skip_digests.contains(&d) {
            return Ok(true);
        }
        Ok(self.state.lock().await.names.contains(&format!("blobs/{d}")))
    }

    async fn put_blob(&self, _repo: &str, digest: &Digest, size: Option<u64>, body: BlobStream) -> Result<()> {
        let mut st = self.state.lock().await;
        if st.finished {
            return Err(Error::Internal("archive set already finished".into()));
        }
        if st.names.contains(&format!("blobs/{digest}")) {
            return Ok(());
        }
        self.write_blob(&mut st, digest, size, body).await
    }

    async fn manifest_digest(&self, repo: &str, reference: &str) -> Result<Option<Digest>> {
        let st = self.state.lock().await;
        let name = format!("v2/{repo}/manifests/{reference}");
        if let Some(t) = st.links.get(&name) {
            return Ok(Digest::parse(t).ok());
        }
        if reference.starts_with("sha256:") && st.names.contains(&name) {
            return Ok(Digest::parse(reference).ok());
        }
        Ok(None)
    }

    async fn put_manifest(&self, repo: &str, reference: &str, manifest: &Manifest) -> Result<()> {
        let mut st = self.state.lock().await;
        let by_digest = format!("v2/{repo}/manifests/{}", manifest.digest);
        if !st.names.contains(&by_digest) {
            self.write_entry(&mut st, &by_digest, &manifest.bytes, None)?;
        }
        if !reference.starts_with("sha256:") {
            let tag = format!("v2/{repo}/manifests/{reference}");
            let target = manifest.digest.to_string();
            if st.links.get(&tag) != Some(&target) {
                self.write_entry(&mut st, &tag, &[], Some(&target))?;
            }
        }
        Ok(())
    }
}
