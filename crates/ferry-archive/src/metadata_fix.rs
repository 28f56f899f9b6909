//! Correcting the metadata of a finished set in place. Part 000000 starts with
//! `publish/.metadata.json`, written before the copy (the writer cannot know then which images
//! will fail). When images fail during the copy of a partial run (`--continue-on-error`), the
//! set must not claim them: [`rewrite_set_metadata`] overwrites that entry's data with the
//! corrected metadata, padded with spaces to the same size (JSON allows trailing whitespace,
//! and dropping images only ever shrinks it), so no tar header or offset moves. The parts whose
//! bytes changed (part 000000, and the last part, whose in-archive integrity list records part
//! 000000's hash) are hashed again and both integrity lists updated. This reads part 000000
//! (and the last part) once more, and only on a partial run.

use crate::{part_name, parts_list_name, PartInfo, PartsList, PARTS_ENTRY};
use ferry_metadata::METADATA_PATH;
use ferry_types::{Digest, Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

fn io(p: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(p.display(), e)
}

/// Name, data offset and size of each entry of a tar part, in order.
fn entries(path: &Path) -> Result<Vec<(String, u64, u64)>> {
    let mut f = File::open(path).map_err(io(path))?;
    let len = f.metadata().map_err(io(path))?.len();
    let mut out = Vec::new();
    let mut off = 0u64;
    let mut h = [0u8; 512];
    while off + 512 <= len {
        f.seek(SeekFrom::Start(off)).map_err(io(path))?;
        f.read_exact(&mut h).map_err(io(path))?;
        if h.iter().all(|b| *b == 0) {
            break;
        }
        let field = |r: std::ops::Range<usize>| {
            let b = &h[r];
            String::from_utf8_lossy(&b[..b.iter().position(|c| *c == 0).unwrap_or(b.len())]).to_string()
        };
        let (name, prefix) = (field(0..100), field(345..500));
        let name = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let size_text = field(124..136);
        let size = u64::from_str_radix(size_text.trim(), 8)
            .map_err(|_| Error::Archive(format!("{}: bad tar header at offset {off}", path.display())))?;
        out.push((name, off + 512, size));
        off += 512 + size.div_ceil(512) * 512;
    }
    Ok(out)
}

/// Overwrite `size` bytes at `offset` of `path` with `data` and make it durable.
fn overwrite(path: &Path, offset: u64, data: &[u8]) -> Result<()> {
    let mut f = OpenOptions::new().write(true).open(path).map_err(io(path))?;
    f.seek(SeekFrom::Start(offset)).map_err(io(path))?;
    f.write_all(data).and_then(|_| f.sync_all()).map_err(io(path))
}

fn sha256_of(path: &Path) -> Result<String> {
    let f = File::open(path).map_err(io(path))?;
    Ok(Digest::of_reader(f).map_err(io(path))?.to_string())
}

/// Replace the metadata of the finished set `seq` in `dir` with `json` (see the module docs).
/// `parts` is the set's part list as the writer returned it; its hashes are updated.
pub fn rewrite_set_metadata(dir: &Path, seq: u32, json: &[u8], parts: &mut [PartInfo]) -> Result<()> {
    let p0 = dir.join(part_name(seq, 0));
    let first = entries(&p0)?.into_iter().next();
    let Some((name, offset, size)) = first.filter(|(n, _, _)| n == METADATA_PATH) else {
        return Err(Error::Archive(format!(
            "{}: the first entry is not {METADATA_PATH}; the set's metadata cannot be corrected",
            p0.display()
        )));
    };
    if json.len() as u64 > size {
        return Err(Error::Internal(format!(
            "{}: the corrected {name} ({} bytes) is larger than the one written ({size} bytes)",
            p0.display(),
            json.len()
        )));
    }
    let mut padded = json.to_vec();
    padded.resize(size as usize, b' ');
    overwrite(&p0, offset, &padded)?;
    let new0 = sha256_of(&p0)?;
    let old0 = parts.first().and_then(|p| p.sha256.clone());
    if let Some(p) = parts.first_mut() {
        p.sha256 = Some(new0.clone());
    }
    // The last part's in-archive list records part 000000's hash when part 000000 is not the
    // last part: same-length hex, so it is replaced in place too.
    if let (Some(old0), true) = (old0, parts.len() > 1) {
        let last_idx = parts.len() - 1;
        let pl = dir.join(&parts[last_idx].name);
        if let Some((_, off, len)) = entries(&pl)?.into_iter().find(|(n, _, _)| n == PARTS_ENTRY) {
            let mut f = File::open(&pl).map_err(io(&pl))?;
            f.seek(SeekFrom::Start(off)).map_err(io(&pl))?;
            let mut body = vec![0u8; len as usize];
            f.read_exact(&mut body).map_err(io(&pl))?;
            let text = String::from_utf8_lossy(&body).replace(&old0, &new0);
            if text.len() == body.len() {
                overwrite(&pl, off, text.as_bytes())?;
                parts[last_idx].sha256 = Some(sha256_of(&pl)?);
            }
        }
    }
    let sidecar = dir.join(parts_list_name(seq));
    let mut list: PartsList = serde_json::from_slice(&std::fs::read(&sidecar).map_err(io(&sidecar))?)
        .map_err(|e| Error::Archive(format!("{}: {e}", sidecar.display())))?;
    list.parts = parts.to_vec();
    let tmp = sidecar.with_extension("tmp");
    {
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&serde_json::to_vec_pretty(&list).expect("json"))
            .and_then(|_| f.sync_all())
            .map_err(io(&tmp))?;
    }
    std::fs::rename(&tmp, &sidecar).map_err(io(&sidecar))
}
