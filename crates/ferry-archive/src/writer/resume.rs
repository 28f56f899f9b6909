//! Picking up an interrupted set from its journal.
//!
//! The journal says what was written; the files say what survived (a kill, a power loss before
//! the page cache reached the device, someone copying a half-written part). A resume believes
//! the journal only as far as the files agree:
//!
//! * a closed part must have the size the journal recorded, and its last entry's data must
//!   still hash to the recorded sha256 (a part cut short or overwritten at its end shows there);
//! * the part in progress is re-read entry by entry (it has to be read anyway to rebuild its
//!   running hash): every entry must be present and hash to its journal sha256. The part is
//!   cut after the last entry that checks out, and the journal is rewritten to match.
//!
//! A closed part that fails becomes the part in progress (checked entry by entry, cut after
//! its last good entry); parts after it are deleted. Extra files and the parts list are always
//! written again (they are local and cheap, and each extra-files folder must be written in one
//! piece for oc-mirror, see `extras.rs`), so the journal is cut before the first of them.

use super::entry::{io, BUF};
use super::{journal_path, ArchiveWriter, JournalLine, State};
use crate::writer::extras::is_extra_or_list;
use crate::{parse_part_name, part_name, PartInfo};
use ferry_metadata::METADATA_PATH;
use ferry_types::{Digest, Error, Result, Sha256Hasher};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use tokio::sync::Mutex;

#[derive(Clone)]
struct Rec {
    end: u64,
    name: String,
    off: u64,
    size: u64,
    sha: Option<String>,
}

struct PartRec {
    idx: u32,
    entries: Vec<Rec>,
    closed: Option<PartInfo>,
}

/// The valid prefix of the journal, grouped by part, cut before the first extra file.
fn read_journal(jp: &Path, seq: u32) -> Result<Vec<PartRec>> {
    let text = std::fs::read_to_string(jp).map_err(io(jp))?;
    let mut parts: Vec<PartRec> = Vec::new();
    for line in text.split_inclusive('\n') {
        // A line cut by the kill has no newline or does not parse: the journal ends before it.
        if !line.ends_with('\n') {
            break;
        }
        let Ok(l) = serde_json::from_str::<JournalLine>(line.trim_end()) else {
            break;
        };
        match l {
            JournalLine::Entry {
                p,
                end,
                name,
                off,
                size,
                sha,
            } => {
                if is_extra_or_list(&name) {
                    break;
                }
                if parts.last().map(|r| r.idx) != Some(p) {
                    if parts.last().is_some_and(|r| r.closed.is_none()) {
                        break; // a new part without the previous one closed: not ours
                    }
                    parts.push(PartRec {
                        idx: p,
                        entries: Vec::new(),
                        closed: None,
                    });
                }
                let rec = parts.last_mut().expect("pushed");
                if rec.closed.is_some() {
                    break;
                }
                rec.entries.push(Rec {
                    end,
                    name,
                    off,
                    size,
                    sha,
                });
            }
            JournalLine::Closed {
                closed,
                size,
                sha256,
                entries,
            } => {
                let Some(rec) = parts.last_mut().filter(|r| r.idx == closed && r.closed.is_none()) else {
                    break;
                };
                rec.closed = Some(PartInfo {
                    name: part_name(seq, closed),
                    size: Some(size),
                    sha256: Some(sha256),
                    entries,
                });
            }
        }
    }
    Ok(parts)
}

/// sha256 of `size` bytes at `off` in `f`.
fn hash_region(f: &mut File, off: u64, size: u64) -> std::io::Result<Digest> {
    f.seek(SeekFrom::Start(off))?;
    let mut h = Sha256Hasher::new();
    let mut buf = vec![0u8; BUF];
    let mut left = size;
    while left > 0 {
        let n = f.read(&mut buf[..left.min(BUF as u64) as usize])?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    Ok(h.finish())
}

/// A closed part is kept when its size matches and its last entry with data still hashes right.
fn closed_part_ok(dir: &Path, rec: &PartRec) -> bool {
    let Some(info) = &rec.closed else { return false };
    let p = dir.join(&info.name);
    let Ok(mut f) = File::open(&p) else { return false };
    if f.metadata().map(|m| m.len()).ok() != info.size {
        tracing::warn!(part = %p.display(), "size changed since the part was closed; checking it entry by entry");
        return false;
    }
    match rec.entries.iter().rev().find(|e| e.sha.is_some()) {
        Some(e) => {
            let ok = hash_region(&mut f, e.off, e.size).ok().map(|d| d.to_string()) == e.sha;
            if !ok {
                tracing::warn!(part = %p.display(), entry = %e.name, "last entry of a closed part does not match its journal; checking it entry by entry");
            }
            ok
        }
        None => true,
    }
}

impl ArchiveWriter {
    pub(super) fn resume(opts: &super::WriterOptions, metadata_json: Vec<u8>) -> Result<ArchiveWriter> {
        let dir = &opts.dir;
        let seq = opts.sequence;
        let jp = journal_path(dir, seq);
        let mut recs = read_journal(&jp, seq)?;
        // Closed parts that still check out, then the part to continue.
        let keep_closed = recs.iter().take_while(|r| closed_part_ok(dir, r)).count();
        let mut current = if keep_closed < recs.len() {
            let mut r = recs.remove(keep_closed);
            r.closed = None;
            r
        } else {
            PartRec {
                idx: recs.last().map(|r| r.idx + 1).unwrap_or(0),
                entries: Vec::new(),
                closed: None,
            }
        };
        recs.truncate(keep_closed);

        // Re-read the part in progress: keep the entries that are intact, rebuild its hash.
        let pp = dir.join(part_name(seq, current.idx));
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&pp)
            .map_err(io(&pp))?;
        let file_len = f.metadata().map_err(io(&pp))?.len();
        let mut h = Sha256Hasher::new();
        let mut pos = 0u64;
        let mut kept = 0usize;
        let mut buf = vec![0u8; BUF];
        f.seek(SeekFrom::Start(0)).map_err(io(&pp))?;
        'entries: for e in &current.entries {
            if e.end > file_len || e.end < pos || (e.sha.is_some() && (e.off < pos || e.off + e.size > e.end)) {
                break;
            }
            let mut ph = h.clone();
            let mut eh = Sha256Hasher::new();
            let mut at = pos;
            while at < e.end {
                let n = f
                    .read(&mut buf[..(e.end - at).min(BUF as u64) as usize])
                    .map_err(io(&pp))?;
                if n == 0 {
                    break 'entries;
                }
                let chunk = &buf[..n];
                ph.update(chunk);
                // The part of this chunk inside the entry's data region.
                let s = e.off.max(at);
                let t = (e.off + e.size).min(at + n as u64);
                if t > s {
                    eh.update(&chunk[(s - at) as usize..(t - at) as usize]);
                }
                at += n as u64;
            }
            if let Some(sha) = &e.sha {
                if &eh.finish().to_string() != sha {
                    tracing::warn!(part = %pp.display(), entry = %e.name, "entry does not match its journal; the part is cut before it");
                    break;
                }
            }
            h = ph;
            pos = e.end;
            kept += 1;
        }
        current.entries.truncate(kept);
        if !recs
            .iter()
            .chain(std::iter::once(&current))
            .any(|r| r.entries.iter().any(|e| e.name == METADATA_PATH))
        {
            return Err(Error::Archive(format!(
                "{}: the metadata entry of part 000000 is missing or damaged",
                pp.display()
            )));
        }
        // Cut the part back to its last good entry (drops a half-written entry and any
        // end-of-archive marker).
        f.set_len(pos).map_err(io(&pp))?;
        f.seek(SeekFrom::Start(pos)).map_err(io(&pp))?;
        // Parts beyond the one in progress hold nothing the journal vouches for.
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if let Some((s, i)) = parse_part_name(&n) {
                    if s == seq && i > current.idx {
                        std::fs::remove_file(e.path()).map_err(io(&e.path()))?;
                    }
                }
            }
        }

        // Rewrite the journal to exactly what is kept, atomically.
        let mut lines = Vec::new();
        let mut push = |l: JournalLine| {
            lines.extend(serde_json::to_vec(&l).expect("json"));
            lines.push(b'\n');
        };
        for r in recs.iter().chain(std::iter::once(&current)) {
            for e in &r.entries {
                push(JournalLine::Entry {
                    p: r.idx,
                    end: e.end,
                    name: e.name.clone(),
                    off: e.off,
                    size: e.size,
                    sha: e.sha.clone(),
                });
            }
            if let Some(c) = &r.closed {
                push(JournalLine::Closed {
                    closed: r.idx,
                    size: c.size.unwrap_or_default(),
                    sha256: c.sha256.clone().unwrap_or_default(),
                    entries: c.entries,
                });
            }
        }
        let tmp = jp.with_extension("tmp");
        {
            let mut t = File::create(&tmp).map_err(io(&tmp))?;
            t.write_all(&lines).and_then(|_| t.sync_all()).map_err(io(&tmp))?;
        }
        std::fs::rename(&tmp, &jp).map_err(io(&jp))?;
        let mut journal = OpenOptions::new().append(true).open(&jp).map_err(io(&jp))?;
        journal.seek(SeekFrom::End(0)).map_err(io(&jp))?;

        let mut st = State::new(opts, journal);
        st.journal_len = lines.len() as u64;
        let mut blobs = 0u64;
        for r in recs.iter().chain(std::iter::once(&current)) {
            for e in &r.entries {
                if e.name.starts_with("blobs/") {
                    blobs += 1;
                }
                match e.name.split_once(" -> ") {
                    Some((n, target)) => {
                        st.links.insert(n.to_string(), target.to_string());
                        st.names.insert(n.to_string());
                    }
                    None => {
                        st.names.insert(e.name.clone());
                    }
                }
            }
        }
        st.closed = recs.iter().filter_map(|r| r.closed.clone()).collect();
        st.part_idx = current.idx;
        st.file = Some(BufWriter::with_capacity(BUF, f));
        st.part_len = pos;
        st.part_hash = h;
        st.part_entries = current.entries.len() as u32;
        st.stats.blobs_resumed = blobs;
        st.stats.resumed = true;
        tracing::info!(part = %pp.display(), bytes = pos, blobs, "resuming an interrupted set");
        super::spool::clean_spool(dir, seq);
        Ok(ArchiveWriter {
            metadata_json,
            opts: opts.clone(),
            names: st.names.clone(),
            links: st.links.clone(),
            state: Mutex::new(st),
            spool: super::spool::Spool::new(super::DEFAULT_SPOOL_BYTES),
        })
    }
}
