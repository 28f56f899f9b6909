//! Non-image files (operator catalogs, helm charts, release signatures, graph data) and
//! finishing the set.
//!
//! oc-mirror v1 (4.11) reads these folders with `unpack(<folder>)` in `pkg/cli/mirror/publish.go`:
//! it looks the folder's own directory entry up in the index of every part (`ReadImageSet` in
//! `pkg/bundle/files.go`: tar entry name → part), then runs archiver's `Tar.Extract(part,
//! folder, dest)`, which walks that one part from its start, begins at the folder's directory
//! entry and stops at the first entry outside the folder. So each folder must be a directory
//! entry followed, in the same part, by everything under it and nothing else; and `charts` is
//! required even when empty (`publish` fails with "file charts not found in archive"
//! otherwise). `release-signatures` is always present in oc-mirror's own sets too (its
//! workspace creates it), so Ferry writes both, empty or not. `catalogs` and `cincinnati` are
//! written only with content: their presence makes oc-mirror rebuild catalog images and build
//! the graph-data image.
//!
//! Image entries are written while the copy engine streams them, interleaved in arrival order,
//! so the folders cannot be written as their files come in. [`ArchiveWriter::add_file`]
//! checks and records a file; [`ArchiveWriter::finish`] writes every folder in one piece (in
//! `filepath.Walk` order, directories before their contents, as oc-mirror does), each in a
//! single part: a folder that does not fit in the current part starts the next one, and a folder
//! larger than `archiveSize` on its own gets a part of its own (warning; an error with `strict`).

use super::entry::{header_bytes, padded, Kind};
use super::{journal_path, parts_list_name, state_path, ArchiveWriter, State, WriterStats};
use crate::writer::entry::io;
use crate::{part_name, PartInfo, PartsList, PARTS_ENTRY, PARTS_FORMAT};
use ferry_types::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Top-level folders [`ArchiveWriter::add_file`] accepts, in oc-mirror's walk order.
pub const EXTRA_FOLDERS: [&str; 4] = ["catalogs", "charts", "cincinnati", "release-signatures"];
/// Folders written even when empty (oc-mirror's reader requires `charts`).
const ALWAYS: [&str; 2] = ["charts", "release-signatures"];

pub(crate) fn is_extra_or_list(name: &str) -> bool {
    name == PARTS_ENTRY
        || EXTRA_FOLDERS
            .iter()
            .any(|f| name == *f || name.strip_prefix(f).is_some_and(|r| r.starts_with('/')))
}

/// `catalogs/a/b` checked: relative, no empty, `.` or `..` components, under an extra folder.
fn check_extra_path(p: &str) -> Result<String> {
    let bad = |why: &str| {
        Error::InvalidConfig(format!(
            "archive path {p:?} for an extra file {why}; use a relative path under one of {}",
            EXTRA_FOLDERS.map(|f| format!("{f}/")).join(", ")
        ))
    };
    if p.starts_with('/') || p.contains('\\') {
        return Err(bad("must be relative and use '/'"));
    }
    let comps: Vec<&str> = p.split('/').collect();
    if comps.iter().any(|c| c.is_empty() || *c == "." || *c == "..") {
        return Err(bad("has an empty, '.' or '..' component"));
    }
    if comps.len() < 2 || !EXTRA_FOLDERS.contains(&comps[0]) {
        return Err(bad("is not inside a folder oc-mirror reads"));
    }
    Ok(p.to_string())
}

/// Entries of one folder in `filepath.Walk` order: (name, Some(file index)) or (dir, None).
fn walk_order(files: &[&str]) -> Vec<(String, Option<usize>)> {
    let mut nodes: Vec<(Vec<&str>, Option<usize>)> = Vec::new();
    let mut dirs = std::collections::BTreeSet::new();
    for (i, f) in files.iter().enumerate() {
        let comps: Vec<&str> = f.split('/').collect();
        for d in 1..comps.len() {
            if dirs.insert(comps[..d].to_vec()) {
                nodes.push((comps[..d].to_vec(), None));
            }
        }
        nodes.push((comps, Some(i)));
    }
    // Component-wise order is Walk's order (each directory's names sorted, parents first).
    nodes.sort_by(|a, b| a.0.cmp(&b.0));
    nodes
        .into_iter()
        .map(|(c, i)| {
            let n = c.join("/");
            (if i.is_none() { format!("{n}/") } else { n }, i)
        })
        .collect()
}

impl ArchiveWriter {
    /// Pack the local file `src` as `archive_path` (for example `charts/foo-1.2.3.tgz` or
    /// `catalogs/<registry>/<ns>/<name>/<tag>/index/index.json`), exactly where oc-mirror v1
    /// puts it. The path must be relative, without `..`, under `catalogs/`, `charts/`,
    /// `cincinnati/` or `release-signatures/`.
    ///
    /// The file is checked now (it must be a regular file) and streamed into the set by
    /// [`ArchiveWriter::finish`], all-or-nothing, counted for part splitting and journaled, so
    /// **`src` must stay in place, unchanged, until `finish` returns** (a changed size is an
    /// error naming the file). Each folder is written in one piece because oc-mirror's reader
    /// needs that (see the `extras` module docs). Adding the same path again with the same
    /// source is a no-op; with another source it is an error.
    pub async fn add_file(&self, archive_path: &str, src: &Path) -> Result<()> {
        let name = check_extra_path(archive_path)?;
        let meta =
            std::fs::metadata(src).map_err(|e| Error::io(format!("{} (extra file for {name})", src.display()), e))?;
        if !meta.is_file() {
            return Err(Error::InvalidConfig(format!(
                "{}: not a regular file; cannot pack it as {name}",
                src.display()
            )));
        }
        let mut st = self.state().await?;
        if let Some((prev, _)) = st.extras.get(&name) {
            if prev == src {
                st.extras.insert(name, (src.to_path_buf(), meta.len()));
                return Ok(());
            }
            return Err(Error::InvalidConfig(format!(
                "{name} was already added from {}; cannot add it again from {}",
                prev.display(),
                src.display()
            )));
        }
        if let Some(other) = st
            .extras
            .keys()
            .find(|k| k.starts_with(&format!("{name}/")) || name.starts_with(&format!("{k}/")))
        {
            return Err(Error::InvalidConfig(format!(
                "{name} and {other} cannot both be packed: one would be a file and a folder at once"
            )));
        }
        st.extras.insert(name, (src.to_path_buf(), meta.len()));
        Ok(())
    }

    /// Write the extra-file folders and the integrity list, close the last part, write the
    /// sidecar and drop the resume state. Only after this returns is the set complete.
    pub async fn finish(&self) -> Result<WriterStats> {
        let mut st = self.state().await?;
        let closed = st
            .write_extras()
            .and_then(|_| st.write_parts_list(&self.opts.uid))
            .and_then(|_| st.close_part());
        if let Err(e) = closed {
            // Half of a folder may be in the part now; writing anything after it would break
            // the folder for oc-mirror. The journal still describes the set: a new run resumes.
            st.broken = Some(e.to_string());
            return Err(e);
        }
        let list = PartsList {
            format: PARTS_FORMAT.into(),
            uid: self.opts.uid.clone(),
            sequence: st.seq,
            parts: st.closed.clone(),
        };
        let sidecar = st.dir.join(parts_list_name(st.seq));
        let tmp = sidecar.with_extension("tmp");
        {
            let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(&serde_json::to_vec_pretty(&list).expect("json"))
                .and_then(|_| f.sync_all())
                .map_err(io(&tmp))?;
        }
        std::fs::rename(&tmp, &sidecar).map_err(io(&sidecar))?;
        let _ = std::fs::remove_file(state_path(&st.dir, st.seq));
        let _ = std::fs::remove_file(journal_path(&st.dir, st.seq));
        st.finished = true;
        let mut stats = st.stats.clone();
        stats.parts = st.closed.clone();
        stats.spool_peak_bytes = self.spool.peak();
        Ok(stats)
    }
}

impl State {
    fn write_extras(&mut self) -> Result<()> {
        let extras = std::mem::take(&mut self.extras);
        for folder in EXTRA_FOLDERS {
            let files: Vec<(&String, &(std::path::PathBuf, u64))> = extras
                .iter()
                .filter(|(n, _)| n.starts_with(&format!("{folder}/")))
                .collect();
            if files.is_empty() && !ALWAYS.contains(&folder) {
                continue;
            }
            let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
            let mut order = vec![(format!("{folder}/"), None)];
            order.extend(
                walk_order(&names)
                    .into_iter()
                    .filter(|(n, _)| n != &format!("{folder}/")),
            );
            let mut bytes = 0u64;
            let mut data = 0u64;
            for (n, i) in &order {
                match i {
                    Some(i) => {
                        let size = files[*i].1 .1;
                        bytes += header_bytes(n, Kind::File(size))?.len() as u64 + padded(size);
                        data += size;
                    }
                    None => bytes += header_bytes(n, Kind::Dir)?.len() as u64,
                }
            }
            // The whole folder goes into one part (oc-mirror extracts it from one part).
            self.make_room(&format!("the {folder}/ folder"), bytes, data)?;
            for (n, i) in &order {
                match i {
                    Some(i) => {
                        let (src, size) = files[*i].1;
                        self.write_file(n, src, *size)?;
                        self.stats.files_written += 1;
                    }
                    None => self.write_small(n, Kind::Dir, &[], false, false)?,
                }
            }
        }
        Ok(())
    }

    /// In-archive copy of the list: earlier parts with hashes, the last one by name only.
    fn write_parts_list(&mut self, uid: &str) -> Result<()> {
        let body = |st: &State| {
            let mut parts = st.closed.clone();
            parts.push(PartInfo {
                name: part_name(st.seq, st.part_idx),
                size: None,
                sha256: None,
                entries: 0,
            });
            serde_json::to_vec_pretty(&PartsList {
                format: PARTS_FORMAT.into(),
                uid: uid.to_string(),
                sequence: st.seq,
                parts,
            })
            .expect("json")
        };
        // The list may itself rotate the part (which changes it); reserve generous room so the
        // rotation is decided once, then write the list for the part it lands in.
        let provisional = body(self);
        let hdr = header_bytes(PARTS_ENTRY, Kind::File(provisional.len() as u64))?.len() as u64;
        self.make_room(PARTS_ENTRY, hdr + padded(provisional.len() as u64 + 256), 0)?;
        let list = body(self);
        self.write_small(PARTS_ENTRY, Kind::File(0), &list, false, true)
    }
}
