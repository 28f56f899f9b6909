//! Layers built from files: a deterministic tar, gzip-compressed, streamed to a temporary file
//! with the uncompressed (diffID) and compressed (blob) digests computed as the bytes pass.

use crate::{BuildError, Result};
use ferry_types::{Digest, Sha256Hasher};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::path::Path;

/// One file of a layer. `path` is relative to the image root (`configs/foo/catalog.json`);
/// parent directories are created in the tar automatically (root-owned, 0755).
#[derive(Debug, Clone)]
pub struct LayerEntry {
    pub path: String,
    pub contents: Vec<u8>,
    /// Unix mode bits; 0o644 when `None`.
    pub mode: Option<u32>,
}

impl LayerEntry {
    pub fn file(path: impl Into<String>, contents: impl Into<Vec<u8>>) -> Self {
        LayerEntry {
            path: path.into(),
            contents: contents.into(),
            mode: None,
        }
    }
}

/// A layer written to a temporary file. The file is deleted when this value is dropped.
#[derive(Debug)]
pub struct BuiltLayer {
    pub file: tempfile::NamedTempFile,
    /// sha256 of the gzip bytes (the blob digest in the manifest).
    pub digest: Digest,
    /// Size of the gzip bytes.
    pub size: u64,
    /// sha256 of the uncompressed tar (`rootfs.diff_ids`).
    pub diff_id: Digest,
    /// `created_by` text for the config history.
    pub created_by: String,
}

impl BuiltLayer {
    /// Open the compressed blob for streaming upload.
    pub fn open(&self) -> Result<std::fs::File> {
        self.file.reopen().map_err(|e| io_err(self.file.path(), e))
    }
}

/// A writer that hashes and counts what passes through.
struct HashWriter<W> {
    inner: W,
    hasher: Sha256Hasher,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

pub(crate) fn io_err(path: &Path, e: io::Error) -> BuildError {
    BuildError::Io {
        path: path.display().to_string(),
        source: e,
    }
}

pub(crate) fn validate_path(p: &str) -> Result<String> {
    let trimmed = p.trim_start_matches('/');
    if trimmed.is_empty() || trimmed.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return Err(BuildError::Invalid {
            what: format!("layer entry {p:?}"),
            detail: "paths must be relative, without empty, '.' or '..' components".into(),
        });
    }
    Ok(trimmed.to_string())
}

pub(crate) fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    // Set names are ASCII and short; failures are impossible here.
    let _ = h.set_username("root");
    let _ = h.set_groupname("root");
    h
}

/// Write entries as a gzip tar into a temporary file in `dir`.
pub(crate) fn write_layer(
    dir: &Path,
    created_by: String,
    fill: impl FnOnce(&mut tar::Builder<&mut dyn Write>) -> io::Result<()>,
) -> Result<BuiltLayer> {
    let file = tempfile::Builder::new()
        .prefix(".ferry-layer-")
        .tempfile_in(dir)
        .map_err(|e| io_err(dir, e))?;
    let out = file.reopen().map_err(|e| io_err(file.path(), e))?;
    let compressed = HashWriter {
        inner: io::BufWriter::new(out),
        hasher: Sha256Hasher::new(),
    };
    let gz = GzEncoder::new(compressed, Compression::default());
    let mut raw = HashWriter {
        inner: gz,
        hasher: Sha256Hasher::new(),
    };
    {
        let w: &mut dyn Write = &mut raw;
        let mut tb = tar::Builder::new(w);
        tb.mode(tar::HeaderMode::Deterministic);
        fill(&mut tb).map_err(|e| io_err(file.path(), e))?;
        tb.finish().map_err(|e| io_err(file.path(), e))?;
    }
    let diff_id = raw.hasher.finish();
    let mut compressed = raw.inner.finish().map_err(|e| io_err(file.path(), e))?;
    compressed.flush().map_err(|e| io_err(file.path(), e))?;
    let size = compressed.hasher.len();
    let digest = compressed.hasher.finish();
    compressed
        .inner
        .into_inner()
        .map_err(|e| io_err(file.path(), e.into_error()))?
        .sync_all()
        .map_err(|e| io_err(file.path(), e))?;
    Ok(BuiltLayer {
        file,
        digest,
        size,
        diff_id,
        created_by,
    })
}

/// Build a gzip tar layer from files. Parent directories get their own entries (0755, root)
/// before the first file below them, as `docker build` would produce.
pub fn build_layer(entries: &[LayerEntry], dir: &Path, created_by: &str) -> Result<BuiltLayer> {
    let mut checked = Vec::with_capacity(entries.len());
    for e in entries {
        checked.push((validate_path(&e.path)?, e));
    }
    write_layer(dir, created_by.to_string(), |tb| {
        let mut dirs = BTreeSet::new();
        for (path, e) in &checked {
            let comps: Vec<&str> = path.split('/').collect();
            for i in 1..comps.len() {
                let d = format!("{}/", comps[..i].join("/"));
                if dirs.insert(d.clone()) {
                    let mut h = header(tar::EntryType::Directory, 0o755, 0);
                    tb.append_data(&mut h, &d, io::empty())?;
                }
            }
            let mut h = header(
                tar::EntryType::Regular,
                e.mode.unwrap_or(0o644),
                e.contents.len() as u64,
            );
            tb.append_data(&mut h, path, &e.contents[..])?;
        }
        Ok(())
    })
}

/// Build a layer that deletes `paths` from the layers below it (`.wh.<name>` entries, the
/// OCI/AUFS whiteout convention). `configs` yields the single entry `.wh.configs`.
pub fn whiteout_layer(paths: &[&str], dir: &Path) -> Result<BuiltLayer> {
    let mut names = Vec::new();
    for p in paths {
        let p = validate_path(p)?;
        let (parent, name) = match p.rsplit_once('/') {
            Some((parent, name)) => (format!("{parent}/"), name.to_string()),
            None => (String::new(), p.clone()),
        };
        names.push(format!("{parent}.wh.{name}"));
    }
    let created_by = format!("ferry: remove {}", paths.join(", "));
    write_layer(dir, created_by, |tb| {
        for n in &names {
            let mut h = header(tar::EntryType::Regular, 0o644, 0);
            tb.append_data(&mut h, n, io::empty())?;
        }
        Ok(())
    })
}

/// Read back a gzip or plain tar (tests and verification): every regular file's path and bytes.
pub fn read_layer_files(mut r: impl Read) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut head = [0u8; 2];
    let n = r.read(&mut head)?;
    let chained = io::Cursor::new(head[..n].to_vec()).chain(r);
    let reader: Box<dyn Read> = if n == 2 && head == [0x1f, 0x8b] {
        Box::new(flate2::read::GzDecoder::new(chained))
    } else {
        Box::new(chained)
    };
    let mut ar = tar::Archive::new(reader);
    let mut out = Vec::new();
    for e in ar.entries()? {
        let mut e = e?;
        if e.header().entry_type().is_file() {
            let path = e.path()?.to_string_lossy().into_owned();
            let mut buf = Vec::new();
            e.read_to_end(&mut buf)?;
            out.push((path, buf));
        }
    }
    Ok(out)
}
