//! A layer whose files come from another tar stream, moved under a folder: the release
//! graph-data image puts the cincinnati-graph-data tarball at `/var/lib/cincinnati-graph-data`
//! (as oc-mirror's graph Dockerfile does with `tar xzf … -C /var/lib/cincinnati-graph-data/`).
//!
//! The input is read entry by entry and each entry is written straight into the new layer, so
//! only one tar block is in memory at a time, whatever the size of the tarball. Ownership and
//! times are normalised as in every Ferry layer (root, mtime 0); a file keeps its executable
//! bit (0755) or gets 0644, as `--no-same-owner` extraction as root would leave it.

use crate::layer::{header, io_err, validate_path, write_layer};
use crate::{BuildError, BuiltLayer, Result};
use std::collections::BTreeSet;
use std::io::{self, Read};
use std::path::Path;

/// What [`layer_from_tarball`] built.
#[derive(Debug)]
pub struct RetarredLayer {
    pub layer: BuiltLayer,
    /// Regular files written (directories and symlinks not counted).
    pub files: usize,
}

fn invalid(what: &str, detail: impl Into<String>) -> BuildError {
    BuildError::Invalid {
        what: what.to_string(),
        detail: detail.into(),
    }
}

/// The entry's path inside the tarball, without a leading `./`; `None` for the root itself.
fn entry_path(raw: &str, what: &str) -> Result<Option<String>> {
    let p = raw.trim_start_matches("./").trim_end_matches('/');
    if p.is_empty() || p == "." {
        return Ok(None);
    }
    if raw.starts_with('/') {
        return Err(invalid(what, format!("entry {raw:?} has an absolute path")));
    }
    validate_path(p).map(Some).map_err(|_| {
        invalid(
            what,
            format!("entry {raw:?} has an unsafe path (empty, '.' or '..' components)"),
        )
    })
}

/// Build a layer from the (gzip or plain) tar `input`, every entry moved under `prefix`
/// (`var/lib/cincinnati-graph-data`). `what` names the input in errors (the URL or file it came
/// from). Hard links and device files are refused; a tarball without any file is refused.
pub fn layer_from_tarball(
    input: impl Read,
    prefix: &str,
    what: &str,
    dir: &Path,
    created_by: &str,
) -> Result<RetarredLayer> {
    let prefix = validate_path(prefix)?;
    let mut input = io::BufReader::new(input);
    let mut head = [0u8; 2];
    let n = read_full(&mut input, &mut head).map_err(|e| io_err(Path::new(what), e))?;
    let chained = io::Cursor::new(head[..n].to_vec()).chain(input);
    let reader: Box<dyn Read> = if n == 2 && head == [0x1f, 0x8b] {
        Box::new(flate2::read::GzDecoder::new(chained))
    } else {
        Box::new(chained)
    };
    let mut files = 0usize;
    let mut failure: Option<BuildError> = None;
    let layer = write_layer(dir, created_by.to_string(), |tb| {
        let mut dirs = BTreeSet::new();
        let mut ensure_dirs = |tb: &mut tar::Builder<&mut dyn io::Write>, path: &str| -> io::Result<()> {
            let comps: Vec<&str> = path.split('/').collect();
            for i in 1..comps.len() {
                let d = format!("{}/", comps[..i].join("/"));
                if dirs.insert(d.clone()) {
                    let mut h = header(tar::EntryType::Directory, 0o755, 0);
                    tb.append_data(&mut h, &d, io::empty())?;
                }
            }
            Ok(())
        };
        // The prefix folders exist even for an input whose entries are all at its root.
        ensure_dirs(tb, &format!("{prefix}/x"))?;
        let mut ar = tar::Archive::new(reader);
        let entries = ar
            .entries()
            .map_err(|e| io::Error::other(format!("{what}: not a tar archive: {e}")))?;
        for e in entries {
            let mut e = e.map_err(|e| io::Error::other(format!("{what}: not a (gzip) tar archive: {e}")))?;
            let raw = e.path_bytes();
            let raw = String::from_utf8_lossy(&raw).into_owned();
            let rel = match entry_path(&raw, what) {
                Ok(Some(r)) => r,
                Ok(None) => continue,
                Err(err) => {
                    failure = Some(err);
                    return Err(io::Error::other("bad entry"));
                }
            };
            let path = format!("{prefix}/{rel}");
            let kind = e.header().entry_type();
            let mode = e.header().mode().unwrap_or(0o644);
            match kind {
                tar::EntryType::Directory => {
                    ensure_dirs(tb, &format!("{path}/x"))?;
                }
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    ensure_dirs(tb, &path)?;
                    let size = e.header().size()?;
                    let m = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
                    let mut h = header(tar::EntryType::Regular, m, size);
                    tb.append_data(&mut h, &path, &mut e)?;
                    files += 1;
                }
                tar::EntryType::Symlink => {
                    ensure_dirs(tb, &path)?;
                    let target = e
                        .link_name()?
                        .map(|t| t.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let mut h = header(tar::EntryType::Symlink, 0o777, 0);
                    tb.append_link(&mut h, &path, &target)?;
                }
                // pax/GNU long-name records are consumed by the reader; other kinds have no
                // place in a data folder.
                tar::EntryType::XGlobalHeader | tar::EntryType::XHeader => {}
                other => {
                    failure = Some(invalid(
                        what,
                        format!("entry {raw:?} is a {other:?}; only files, folders and symlinks can be layered"),
                    ));
                    return Err(io::Error::other("bad entry"));
                }
            }
        }
        Ok(())
    });
    if let Some(f) = failure {
        return Err(f);
    }
    let layer = layer.map_err(|e| match e {
        BuildError::Io { source, .. } => invalid(what, source.to_string()),
        other => other,
    })?;
    if files == 0 {
        return Err(invalid(what, "the tarball holds no files"));
    }
    Ok(RetarredLayer { layer, files })
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
