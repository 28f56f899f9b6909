//! Indexing a set of parts in place and serving images from it.

use crate::{check_entry, parse_part_name, parts_list_name, PartsList, PARTS_ENTRY};
use async_trait::async_trait;
use bytes::Bytes;
use ferry_metadata::{Metadata, METADATA_PATH};
use ferry_types::media::{self, ManifestView};
use ferry_types::{BlobStream, Digest, Error, ImageSource, Manifest, Result};
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// One tar file of the set.
#[derive(Debug, Clone)]
pub struct PartFile {
    pub path: PathBuf,
    pub name: String,
    pub size: u64,
    /// Split index from the name (`_000003` → 3); file order for non-standard names.
    pub index: u32,
}

/// Where an entry's data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryLoc {
    /// Index into [`ArchiveSet::parts`].
    pub part: usize,
    /// Offset of the data (after the header) in the part file.
    pub offset: u64,
    pub size: u64,
    /// Target of a symlink (relative to the entry's directory) or a hard link (archive path).
    pub link: Option<String>,
    pub hard_link: bool,
}

/// The parts of one sequence, indexed.
#[derive(Debug)]
pub struct ArchiveSet {
    /// The path the user gave (a tar or a directory), for messages.
    pub origin: PathBuf,
    pub parts: Vec<PartFile>,
    /// Sequence from the part names (None for non-standard names like oc-mirror's test bundles).
    pub name_sequence: Option<u32>,
    pub entries: HashMap<String, EntryLoc>,
    /// Entries in archive order: (name, loc).
    pub order: Vec<String>,
    pub metadata: Option<Metadata>,
    /// The sidecar list if present, else the in-archive copy.
    pub parts_list: Option<PartsList>,
    pub parts_list_is_sidecar: bool,
}

fn is_tar(p: &Path) -> bool {
    p.extension().and_then(|e| e.to_str()) == Some("tar")
}

fn walk_tars(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir.display(), e))?;
    for e in rd {
        let e = e.map_err(|e| Error::io(dir.display(), e))?;
        let p = e.path();
        let ft = e.file_type().map_err(|e| Error::io(p.display(), e))?;
        if ft.is_dir() {
            walk_tars(&p, out)?;
        } else if is_tar(&p) {
            out.push(p);
        }
    }
    Ok(())
}

impl ArchiveSet {
    /// Open `path`: one tar (its sibling parts of the same sequence are included) or a directory
    /// searched recursively for `.tar` files, which must hold exactly one sequence.
    pub fn open(path: &Path) -> Result<ArchiveSet> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound {
                what: format!("archive {}", path.display()),
                hint: Some("pass the directory holding the mirror_seq*.tar parts, or one of them".into()),
            },
            _ => Error::io(path.display(), e),
        })?;
        let mut files = Vec::new();
        let search_dir;
        if meta.is_dir() {
            walk_tars(path, &mut files)?;
            search_dir = path.to_path_buf();
        } else {
            search_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if let Some((seq, _)) = parse_part_name(name) {
                walk_tars(&search_dir, &mut files)?;
                files.retain(|f| {
                    f.parent() == Some(search_dir.as_path())
                        && f.file_name()
                            .and_then(|n| n.to_str())
                            .and_then(parse_part_name)
                            .map(|(s, _)| s)
                            == Some(seq)
                });
            } else {
                files.push(path.to_path_buf());
            }
        }
        if files.is_empty() {
            return Err(Error::NotFound {
                what: format!("mirror_seq*.tar parts in {}", path.display()),
                hint: Some("copy the parts of the image set to this directory".into()),
            });
        }
        // Group by sequence; refuse a mix (oc-mirror silently confuses them).
        let mut seqs: Vec<u32> = files
            .iter()
            .filter_map(|f| f.file_name().and_then(|n| n.to_str()).and_then(parse_part_name))
            .map(|(s, _)| s)
            .collect();
        seqs.sort();
        seqs.dedup();
        if seqs.len() > 1 {
            return Err(Error::Archive(format!(
                "{} holds parts of sequences {}; a directory must hold one sequence: move the others away or pass one part of the sequence to import",
                path.display(),
                seqs.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        let name_sequence = seqs.first().copied();
        // The writer keeps a journal beside the parts until the set is complete. If it is still
        // there, the set is being written or its run was interrupted: its parts can look whole
        // (a part may have just been closed), so only the journal tells. Never read it as done.
        if let Some(seq) = name_sequence {
            let journal = crate::writer::journal_path(&search_dir, seq);
            if journal.exists() {
                return Err(Error::Archive(format!(
                    "{}: sequence {seq} was not finished (its run was interrupted or is still writing, see {}); \
                     run the same `ferry mirror ... file://` command again to complete it, then copy the parts",
                    search_dir.display(),
                    journal.display()
                )));
            }
        }
        let mut parts: Vec<PartFile> = Vec::new();
        for f in &files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            let size = std::fs::metadata(f).map_err(|e| Error::io(f.display(), e))?.len();
            let index = parse_part_name(&name).map(|(_, i)| i).unwrap_or(u32::MAX);
            parts.push(PartFile {
                path: f.clone(),
                name,
                size,
                index,
            });
        }
        parts.sort_by(|a, b| (a.index, &a.name).cmp(&(b.index, &b.name)));
        if name_sequence.is_some() {
            parts.retain(|p| p.index != u32::MAX);
        }
        for (i, p) in parts.iter_mut().enumerate() {
            if p.index == u32::MAX {
                p.index = i as u32;
            }
        }

        let mut set = ArchiveSet {
            origin: path.to_path_buf(),
            parts,
            name_sequence,
            entries: HashMap::new(),
            order: Vec::new(),
            metadata: None,
            parts_list: None,
            parts_list_is_sidecar: false,
        };
        if let Some(seq) = name_sequence {
            let sidecar = search_dir.join(parts_list_name(seq));
            if let Ok(b) = std::fs::read(&sidecar) {
                let list: PartsList = serde_json::from_slice(&b)
                    .map_err(|e| Error::Archive(format!("{}: not a valid parts list: {e}", sidecar.display())))?;
                set.parts_list = Some(list);
                set.parts_list_is_sidecar = true;
            }
        }
        // Missing parts by numbering, before indexing (a clear message beats a parse error).
        set.check_numbering(None)?;
        for i in 0..set.parts.len() {
            set.index_part(i)?;
        }
        if set.parts_list.is_none() && set.entries.contains_key(PARTS_ENTRY) {
            let b = set.read_small(PARTS_ENTRY, 16 << 20)?;
            let list: PartsList = serde_json::from_slice(&b).map_err(|e| {
                Error::Archive(format!(
                    "{}: {PARTS_ENTRY} is not a valid parts list: {e}",
                    set.where_(PARTS_ENTRY)
                ))
            })?;
            set.parts_list = Some(list);
        }
        if let Some(list) = set.parts_list.clone() {
            set.check_numbering(Some(&list))?;
        }
        if set.entries.contains_key(METADATA_PATH) {
            let b = set.read_small(METADATA_PATH, 256 << 20)?;
            set.metadata = Some(Metadata::parse(&b, &set.where_(METADATA_PATH))?);
        }
        Ok(set)
    }

    fn check_numbering(&self, list: Option<&PartsList>) -> Result<()> {
        let Some(seq) = self.name_sequence else { return Ok(()) };
        let have: std::collections::BTreeSet<u32> = self.parts.iter().map(|p| p.index).collect();
        let expected = match list {
            Some(l) => l.parts.len() as u32,
            None => have.iter().max().map(|m| m + 1).unwrap_or(0),
        };
        for i in 0..expected {
            if !have.contains(&i) {
                let src = match list {
                    Some(_) if self.parts_list_is_sidecar => {
                        format!(" (the set has {expected} parts per {})", parts_list_name(seq))
                    }
                    Some(_) => format!(" (the set has {expected} parts per {PARTS_ENTRY})"),
                    None => String::new(),
                };
                return Err(Error::Archive(format!(
                    "{} is missing from {}{src}; copy every part of sequence {seq} to the media and run again",
                    crate::part_name(seq, i),
                    self.origin.display()
                )));
            }
        }
        if let Some(l) = list {
            for p in &self.parts {
                match l.parts.iter().find(|i| i.name == p.name) {
                    None => {
                        return Err(Error::Archive(format!(
                            "{}: not listed in the set's parts list (uid {}); it belongs to another image set, move it away",
                            p.path.display(),
                            l.uid
                        )))
                    }
                    Some(info) => {
                        if let Some(size) = info.size {
                            if size != p.size {
                                let what = if p.size < size { "truncated" } else { "longer than written" };
                                return Err(Error::Archive(format!(
                                    "{}: {what}: {} bytes, the set's parts list says {size}; copy this part again from the source media",
                                    p.path.display(),
                                    p.size
                                )));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn index_part(&mut self, i: usize) -> Result<()> {
        let part = self.parts[i].clone();
        let bad = |e: std::io::Error, after: &str| {
            Error::Archive(format!(
                "{}: corrupted or not a tar file (after entry {after}): {e}; copy this part again from the source media",
                part.path.display()
            ))
        };
        let f = std::fs::File::open(&part.path).map_err(|e| Error::io(part.path.display(), e))?;
        let mut ar = tar::Archive::new(std::io::BufReader::with_capacity(64 << 10, f));
        let mut last = String::from("<start>");
        let mut end_of_last: u64 = 0;
        let entries = ar.entries_with_seek().map_err(|e| bad(e, &last))?;
        for entry in entries {
            let entry = entry.map_err(|e| bad(e, &last))?;
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).to_string();
            let kind = entry.header().entry_type();
            let link = entry.link_name_bytes().map(|b| String::from_utf8_lossy(&b).to_string());
            let name = check_entry(&part.path.display().to_string(), &raw_path, kind, link.as_deref())?;
            let offset = entry.raw_file_position();
            let size = entry.size();
            if offset + size > part.size {
                return Err(Error::Archive(format!(
                    "{}: truncated: entry {name} needs bytes up to {} but the file has {}; copy this part again from the source media",
                    part.path.display(),
                    offset + size,
                    part.size
                )));
            }
            end_of_last = offset + size.div_ceil(512) * 512;
            last = name.clone();
            if kind == tar::EntryType::Directory || name.is_empty() {
                continue;
            }
            let loc = EntryLoc {
                part: i,
                offset,
                size,
                link: link.filter(|_| matches!(kind, tar::EntryType::Symlink | tar::EntryType::Link)),
                hard_link: kind == tar::EntryType::Link,
            };
            // Later parts overwrite earlier ones for the same name, as in oc-mirror.
            if self.entries.insert(name.clone(), loc).is_none() {
                self.order.push(name);
            }
        }
        // A tar cut exactly at an entry boundary parses cleanly; the missing end-of-archive
        // marker (two zero blocks) gives it away.
        if part.size < end_of_last + 1024 {
            return Err(Error::Archive(format!(
                "{}: truncated: the file ends after entry {last} without the end-of-archive marker; copy this part again from the source media",
                part.path.display()
            )));
        }
        Ok(())
    }

    /// `part file: entry` for messages.
    pub fn where_(&self, name: &str) -> String {
        match self.entries.get(name) {
            Some(l) => format!("{}: entry {name}", self.parts[l.part].path.display()),
            None => format!("{}: entry {name}", self.origin.display()),
        }
    }

    /// Follow symlinks / hard links to the entry holding data.
    pub fn resolve(&self, name: &str) -> Option<(String, &EntryLoc)> {
        let mut cur = name.to_string();
        for _ in 0..8 {
            let loc = self.entries.get(&cur)?;
            match &loc.link {
                None => return Some((cur, loc)),
                Some(t) if loc.hard_link => cur = t.trim_start_matches("./").to_string(),
                Some(t) => {
                    let dir = cur.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                    let mut parts: Vec<&str> = if dir.is_empty() {
                        vec![]
                    } else {
                        dir.split('/').collect()
                    };
                    for c in t.split('/') {
                        match c {
                            "" | "." => {}
                            ".." => {
                                parts.pop();
                            }
                            c => parts.push(c),
                        }
                    }
                    cur = parts.join("/");
                }
            }
        }
        None
    }

    /// Read a small entry whole (manifests, metadata).
    pub fn read_small(&self, name: &str, limit: u64) -> Result<Vec<u8>> {
        let (real, loc) = self.resolve(name).ok_or_else(|| Error::NotFound {
            what: format!("{} in {}", name, self.origin.display()),
            hint: None,
        })?;
        if loc.size > limit {
            return Err(Error::Archive(format!(
                "{}: {} bytes, more than expected",
                self.where_(&real),
                loc.size
            )));
        }
        let p = &self.parts[loc.part].path;
        let mut f = std::fs::File::open(p).map_err(|e| Error::io(p.display(), e))?;
        f.seek(SeekFrom::Start(loc.offset))
            .map_err(|e| Error::io(p.display(), e))?;
        let mut buf = vec![0u8; loc.size as usize];
        f.read_exact(&mut buf).map_err(|e| Error::io(self.where_(&real), e))?;
        Ok(buf)
    }

    /// Stream an entry's data from its part.
    pub async fn open_stream(&self, name: &str) -> Result<(u64, BlobStream)> {
        let (real, loc) = self.resolve(name).ok_or_else(|| Error::NotFound {
            what: format!("{name} in {}", self.origin.display()),
            hint: None,
        })?;
        let p = self.parts[loc.part].path.clone();
        let mut f = tokio::fs::File::open(&p).await.map_err(|e| Error::io(p.display(), e))?;
        f.seek(SeekFrom::Start(loc.offset))
            .await
            .map_err(|e| Error::io(self.where_(&real), e))?;
        let stream = tokio_util::io::ReaderStream::with_capacity(f.take(loc.size), 256 << 10);
        Ok((loc.size, Box::pin(stream)))
    }

    /// Sequence of the set: from the metadata, else from the part names.
    pub fn sequence(&self) -> Option<u32> {
        self.metadata.as_ref().map(|m| m.sequence()).or(self.name_sequence)
    }

    /// `(repo, tag)` of every tag symlink under `v2/`, sorted.
    pub fn tags(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, loc) in &self.entries {
            if loc.link.is_none() || loc.hard_link {
                continue;
            }
            if let Some(rest) = name.strip_prefix("v2/") {
                if let Some((repo, tag)) = rest.rsplit_once("/manifests/") {
                    out.push((repo.to_string(), tag.to_string()));
                }
            }
        }
        out.sort();
        out
    }

    pub fn total_size(&self) -> u64 {
        self.parts.iter().map(|p| p.size).sum()
    }
}

/// Media type of stored manifest bytes (the tar keeps only the bytes, as oc's file store does).
pub fn sniff_media_type(bytes: &[u8]) -> String {
    let v = match ManifestView::parse(bytes) {
        Ok(v) => v,
        Err(_) => return media::OCI_MANIFEST.to_string(),
    };
    if let Some(m) = v.media_type.as_deref().filter(|m| !m.is_empty()) {
        return m.to_string();
    }
    if v.schema_version == 1 {
        return media::DOCKER_V2S1_SIGNED.to_string();
    }
    if !v.manifests.is_empty() {
        return media::OCI_INDEX.to_string();
    }
    match v.config.as_ref().map(|c| c.media_type.as_str()) {
        Some("application/vnd.docker.container.image.v1+json") => media::DOCKER_V2S2.to_string(),
        _ => media::OCI_MANIFEST.to_string(),
    }
}

/// An [`ImageSource`] over an indexed set. Blobs not in the set (shipped by earlier sequences)
/// come from `fallback` (the target registry), looked up in `fallback_prefix` + the archive
/// repository first, then in every repository the metadata says holds that digest.
pub struct ArchiveSource {
    pub set: Arc<ArchiveSet>,
    fallback: Option<(Arc<dyn ImageSource>, String, Option<Metadata>)>,
}

impl ArchiveSource {
    pub fn new(set: Arc<ArchiveSet>) -> Self {
        ArchiveSource { set, fallback: None }
    }

    /// `prefix` is the target namespace with a trailing `/` (or empty); `past` is the target's
    /// metadata, whose `pastAssociations` say where earlier blobs live.
    pub fn with_fallback(mut self, target: Arc<dyn ImageSource>, prefix: String, past: Option<Metadata>) -> Self {
        self.fallback = Some((target, prefix, past));
        self
    }
}

#[async_trait]
impl ImageSource for ArchiveSource {
    fn describe(&self) -> String {
        format!("archive {}", self.set.origin.display())
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<Manifest> {
        let name = format!("v2/{repo}/manifests/{reference}");
        if self.set.resolve(&name).is_none() {
            return Err(Error::NotFound {
                what: format!("manifest {repo}:{reference} in {}", self.describe()),
                hint: Some("the image is not in this image set; check the set with `ferry describe`".into()),
            });
        }
        let bytes = self.set.read_small(&name, 64 << 20)?;
        let m = Manifest::new(Bytes::from(bytes), "");
        let m = Manifest {
            media_type: sniff_media_type(&m.bytes),
            ..m
        };
        if reference.starts_with("sha256:") && m.digest.to_string() != reference {
            return Err(Error::DigestMismatch {
                what: self.set.where_(&name),
                expected: reference.to_string(),
                actual: m.digest.to_string(),
            });
        }
        Ok(m)
    }

    async fn get_blob(&self, repo: &str, digest: &Digest) -> Result<(Option<u64>, BlobStream)> {
        let name = format!("blobs/{digest}");
        if self.set.entries.contains_key(&name) {
            let (size, s) = self.set.open_stream(&name).await?;
            return Ok((Some(size), s));
        }
        let Some((target, prefix, past)) = &self.fallback else {
            return Err(Error::NotFound {
                what: format!("blob {digest} of {repo} in {}", self.describe()),
                hint: Some(
                    "it was shipped by an earlier sequence; import into the registry that holds the earlier sequences"
                        .into(),
                ),
            });
        };
        let mut repos = vec![format!("{prefix}{repo}")];
        if let Some(md) = past {
            for r in md.repos_with_digest(&digest.to_string()) {
                let r = format!("{prefix}{r}");
                if !repos.contains(&r) {
                    repos.push(r);
                }
            }
        }
        let mut last_err = None;
        for r in &repos {
            match target.get_blob(r, digest).await {
                Ok(x) => return Ok(x),
                Err(e) => last_err = Some(e),
            }
        }
        Err(Error::NotFound {
            what: format!("blob {digest} of {repo}: not in {} and not in {} ({})", self.describe(), target.describe(), repos.join(", ")),
            hint: Some(format!(
                "it belongs to an earlier sequence that the target does not hold ({}); import the earlier sequences first, or recreate this set with --ignore-history",
                last_err.map(|e| e.to_string()).unwrap_or_default()
            )),
        })
    }
}
