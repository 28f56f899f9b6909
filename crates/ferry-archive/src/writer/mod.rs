//! Streaming, splitting, resumable writer of one image set (see the crate docs).
//!
//! * `mod.rs`: options, the writer, creating a set (or refusing to overwrite a finished one) and
//!   the [`ImageDestination`] face the copy engine drives.
//! * `entry.rs`: one tar entry at a time, all-or-nothing.
//! * `resume.rs`: picking up an interrupted set from its journal, re-checking what it keeps.
//! * `extras.rs`: non-image files (`catalogs/`, `charts/`, ...) and finishing the set.

mod entry;
mod extras;
pub use extras::EXTRA_FOLDERS;
mod resume;
mod spool;
mod writeback;
pub use spool::DEFAULT_SPOOL_BYTES;

use crate::{parse_part_name, parts_list_name, PartInfo, PartsList};
use async_trait::async_trait;
use ferry_metadata::METADATA_PATH;
use ferry_types::{BlobStream, Digest, Error, ImageDestination, Manifest, Result, Sha256Hasher};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

use entry::{io, Kind};

#[derive(Debug, Clone)]
pub struct WriterOptions {
    pub dir: PathBuf,
    pub sequence: u32,
    pub uid: String,
    /// Split limit in bytes (`archiveSize` GiB × 1024³).
    pub max_part_bytes: u64,
    /// Fail instead of warning when one blob (or one extra-files folder) alone exceeds the limit.
    pub strict: bool,
    /// `publish/.metadata.json` for part 000000 (ignored when resuming: the set keeps the
    /// metadata it started with, see [`ArchiveWriter::metadata_json`]).
    pub metadata_json: Vec<u8>,
    /// Identifies the plan (images and digests). A leftover unfinished set is resumed only
    /// when its plan key matches; otherwise it is discarded (with a warning) and written again.
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
    /// Non-image files packed with [`ArchiveWriter::add_file`].
    pub files_written: u64,
    /// Blobs that arrived while the part was busy and went through a spool file.
    pub blobs_spooled: u64,
    /// Most bytes held in spool files at one time (never above the spool limit).
    pub spool_peak_bytes: u64,
}

#[derive(Serialize, Deserialize)]
pub(crate) struct StateFile {
    pub uid: String,
    pub sequence: u32,
    pub plan_key: String,
    pub metadata: String,
}

/// One line of `.mirror_seq<N>.ferry-journal`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum JournalLine {
    /// An entry fully written: part, end offset, name (`name -> target` for symlinks), and
    /// where its data is with its sha256, so a resume can re-check it.
    Entry {
        p: u32,
        end: u64,
        name: String,
        #[serde(default)]
        off: u64,
        #[serde(default)]
        size: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sha: Option<String>,
    },
    Closed {
        closed: u32,
        size: u64,
        sha256: String,
        entries: u32,
    },
}

pub(crate) struct State {
    pub dir: PathBuf,
    pub seq: u32,
    pub max_part_bytes: u64,
    pub strict: bool,
    pub part_idx: u32,
    pub file: Option<BufWriter<File>>,
    /// Committed length and hash of the part in progress.
    pub part_len: u64,
    pub part_hash: Sha256Hasher,
    pub part_entries: u32,
    /// An entry was started and neither committed nor rolled back (its writer was dropped).
    pub dirty: bool,
    pub names: Names,
    /// Tag symlink name → digest (for `manifest_digest`).
    pub links: Links,
    pub journal: File,
    pub journal_len: u64,
    pub closed: Vec<PartInfo>,
    pub stats: WriterStats,
    /// Archive path → (source file, size when added), packed by `finish`.
    pub extras: BTreeMap<String, (PathBuf, u64)>,
    pub finished: bool,
    /// `finish` failed half-way: nothing more may be written by this writer.
    pub broken: Option<String>,
}

/// Entry names written so far, readable without waiting for the part (the copy engine asks
/// `has_blob` for every blob before it starts a transfer; it must not wait behind a blob that
/// is streaming into the part).
#[derive(Clone, Default)]
pub(crate) struct Names(Arc<std::sync::Mutex<HashSet<String>>>);

impl Names {
    pub fn insert(&self, n: String) {
        self.0.lock().expect("names").insert(n);
    }
    pub fn contains(&self, n: &str) -> bool {
        self.0.lock().expect("names").contains(n)
    }
}

/// Tag symlink name → digest, readable without waiting for the part.
#[derive(Clone, Default)]
pub(crate) struct Links(Arc<std::sync::Mutex<HashMap<String, String>>>);

impl Links {
    pub fn insert(&self, n: String, target: String) {
        self.0.lock().expect("links").insert(n, target);
    }
    pub fn get(&self, n: &str) -> Option<String> {
        self.0.lock().expect("links").get(n).cloned()
    }
}

pub struct ArchiveWriter {
    opts: WriterOptions,
    names: Names,
    links: Links,
    metadata_json: Vec<u8>,
    state: Mutex<State>,
    spool: spool::Spool,
}

pub(crate) fn state_path(dir: &Path, seq: u32) -> PathBuf {
    dir.join(format!(".mirror_seq{seq}.ferry-state.json"))
}
pub(crate) fn journal_path(dir: &Path, seq: u32) -> PathBuf {
    dir.join(format!(".mirror_seq{seq}.ferry-journal"))
}

/// Part files of sequence `seq` in `dir`, sorted.
fn parts_of(dir: &Path, seq: u32) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().to_string())
                .filter(|n| parse_part_name(n).map(|(s, _)| s) == Some(seq))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

impl ArchiveWriter {
    /// Start a set in `opts.dir`, or resume the unfinished one left there by an interrupted
    /// run with the same sequence, uid and plan. A finished set of the same sequence already in
    /// the folder is never overwritten: this returns an error naming its parts.
    pub fn create(opts: WriterOptions) -> Result<ArchiveWriter> {
        let dir = opts.dir.clone();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let sp = state_path(&dir, opts.sequence);
        let jp = journal_path(&dir, opts.sequence);
        let prior: Option<StateFile> = std::fs::read(&sp).ok().and_then(|b| serde_json::from_slice(&b).ok());
        let existing = parts_of(&dir, opts.sequence);
        match &prior {
            Some(p) if p.uid == opts.uid && p.plan_key == opts.plan_key && p.sequence == opts.sequence => {
                match Self::resume(&opts, p.metadata.clone().into_bytes()) {
                    Ok(w) => return Ok(w),
                    Err(e) => tracing::warn!(
                        error = %e,
                        parts = %existing.join(", "),
                        "cannot resume the unfinished set; discarding its parts and writing it again"
                    ),
                }
            }
            Some(p) => tracing::warn!(
                dir = %dir.display(),
                sequence = opts.sequence,
                uid = %p.uid,
                parts = %existing.join(", "),
                "an unfinished set of another plan or uid is in the way (its run was interrupted); discarding its parts"
            ),
            None => {
                let sidecar = dir.join(parts_list_name(opts.sequence));
                if !existing.is_empty() || sidecar.exists() || jp.exists() {
                    return Err(Self::refuse_finished(&dir, opts.sequence, &existing, &sidecar));
                }
            }
        }
        for n in &existing {
            let p = dir.join(n);
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
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
        spool::clean_spool(&dir, opts.sequence);
        let metadata_json = opts.metadata_json.clone();
        let mut state = State::new(&opts, journal);
        state.open_part(0)?;
        // The metadata is always the first entry of part 0 and is not subject to splitting.
        state.write_small(METADATA_PATH, Kind::File(0), &metadata_json, false, true)?;
        Ok(ArchiveWriter {
            metadata_json,
            opts,
            names: state.names.clone(),
            links: state.links.clone(),
            state: Mutex::new(state),
            spool: spool::Spool::new(DEFAULT_SPOOL_BYTES),
        })
    }

    /// The error for a finished set of this sequence found in the folder.
    fn refuse_finished(dir: &Path, seq: u32, parts: &[String], sidecar: &Path) -> Error {
        let uid = std::fs::read(sidecar)
            .ok()
            .and_then(|b| serde_json::from_slice::<PartsList>(&b).ok())
            .map(|l| format!(", uid {}", l.uid))
            .unwrap_or_default();
        let mut files: Vec<String> = parts.to_vec();
        if sidecar.exists() {
            files.push(parts_list_name(seq));
        }
        Error::Sequence(format!(
            "{} already holds an image set for sequence {seq} ({}{uid}); ferry never overwrites it. \
             This run is sequence {seq} because the metadata it read records {} earlier sequence(s), so that set was \
             not recorded there (another storageConfig, a reset metadata store, or a run without storageConfig). \
             Move those files away (for example onto the transfer media) or delete them yourself, then run again; \
             or point storageConfig at the metadata that recorded that set, and the next run will be sequence {}",
            dir.display(),
            files.join(", "),
            seq.saturating_sub(1),
            seq + 1
        ))
    }

    /// Uid and plan key of an unfinished set of sequence `seq` left in `dir` by an interrupted
    /// run (a new workspace reuses that uid so the run can resume).
    pub fn pending(dir: &Path, seq: u32) -> Option<(String, String)> {
        let st: StateFile = serde_json::from_slice(&std::fs::read(state_path(dir, seq)).ok()?).ok()?;
        Some((st.uid, st.plan_key))
    }

    /// Bytes already in the parts of an unfinished set (counted against the pre-flight need).
    pub fn pending_bytes(dir: &Path, seq: u32) -> u64 {
        if !state_path(dir, seq).exists() {
            return 0;
        }
        parts_of(dir, seq)
            .iter()
            .filter_map(|n| std::fs::metadata(dir.join(n)).ok())
            .map(|m| m.len())
            .sum()
    }

    /// The metadata actually in part 000000 (the original one when the set was resumed).
    pub fn metadata_json(&self) -> &[u8] {
        &self.metadata_json
    }

    /// The state, with any entry a dropped writer left half-written rolled back first.
    async fn state(&self) -> Result<MutexGuard<'_, State>> {
        let mut st = self.state.lock().await;
        st.ready()?;
        Ok(st)
    }
}

impl State {
    /// Refuse when finished or broken; roll back an entry a dropped writer left half-written.
    fn ready(&mut self) -> Result<()> {
        if self.finished {
            return Err(Error::Internal("archive set already finished".into()));
        }
        if let Some(e) = &self.broken {
            return Err(Error::Archive(format!(
                "the archive set in {} could not be finished ({e}); run the same command again to resume it",
                self.dir.display()
            )));
        }
        self.rollback()
    }

    pub(crate) fn new(opts: &WriterOptions, journal: File) -> State {
        State {
            dir: opts.dir.clone(),
            seq: opts.sequence,
            max_part_bytes: opts.max_part_bytes,
            strict: opts.strict,
            part_idx: 0,
            file: None,
            part_len: 0,
            part_hash: Sha256Hasher::new(),
            part_entries: 0,
            dirty: false,
            names: Names::default(),
            links: Links::default(),
            journal,
            journal_len: 0,
            closed: Vec::new(),
            stats: WriterStats::default(),
            extras: BTreeMap::new(),
            finished: false,
            broken: None,
        }
    }
}

#[async_trait]
impl ImageDestination for ArchiveWriter {
    fn describe(&self) -> String {
        format!("archive {}", self.opts.dir.display())
    }

    /// Every path into a part (streamed, spooled) hashes the blob and commits only a match.
    fn checks_digests(&self) -> bool {
        true
    }

    async fn has_blob(&self, _repo: &str, digest: &Digest) -> Result<bool> {
        let d = digest.to_string();
        if self.opts.skip_digests.contains(&d) {
            return Ok(true);
        }
        Ok(self.names.contains(&format!("blobs/{d}")))
    }

    async fn put_blob(&self, _repo: &str, digest: &Digest, size: Option<u64>, body: BlobStream) -> Result<()> {
        let Some(size) = size else {
            return Err(Error::Internal(format!(
                "blobs/{digest}: size unknown; the archive writer needs the blob size for the tar header"
            )));
        };
        // The part is free: stream straight into it.
        if let Ok(mut st) = self.state.try_lock() {
            st.ready()?;
            if st.names.contains(&format!("blobs/{digest}")) {
                return Ok(());
            }
            return st.write_blob(digest, size, body).await;
        }
        // Busy: keep this download flowing into a spool file when the bound allows.
        let Some(body) = self.put_spooled(digest, size, body).await? else {
            return Ok(());
        };
        let mut st = self.state().await?;
        if st.names.contains(&format!("blobs/{digest}")) {
            return Ok(());
        }
        st.write_blob(digest, size, body).await
    }

    async fn manifest_digest(&self, repo: &str, reference: &str) -> Result<Option<Digest>> {
        let name = format!("v2/{repo}/manifests/{reference}");
        if let Some(t) = self.links.get(&name) {
            return Ok(Digest::parse(&t).ok());
        }
        if reference.starts_with("sha256:") && self.names.contains(&name) {
            return Ok(Digest::parse(reference).ok());
        }
        Ok(None)
    }

    async fn put_manifest(&self, repo: &str, reference: &str, manifest: &Manifest) -> Result<()> {
        let mut st = self.state().await?;
        let by_digest = format!("v2/{repo}/manifests/{}", manifest.digest);
        if !st.names.contains(&by_digest) {
            st.write_small(&by_digest, Kind::File(0), &manifest.bytes, true, false)?;
        }
        if !reference.starts_with("sha256:") {
            let tag = format!("v2/{repo}/manifests/{reference}");
            let target = manifest.digest.to_string();
            if st.links.get(&tag).as_ref() != Some(&target) {
                st.write_small(&tag, Kind::Link(&target), &[], true, false)?;
            }
        }
        Ok(())
    }
}
