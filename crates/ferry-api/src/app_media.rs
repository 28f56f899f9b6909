//! The Import screen's quick check of the media: which parts are there, at the size the set's
//! parts list records, and what the set holds. It reads only the tar headers (to index the
//! parts), never the blobs: the import itself checks each part's hash and every entry's digest
//! while it streams the blobs to the target (see [`crate::disk::d2m`]), so checking and then
//! importing reads the media once. The full read-everything check stays available on its own
//! ([`verify_media`], `ferry verify`), but the app never chains it before
//! an import.

use crate::wire::{MediaPart, MediaReport};
use ferry_types::{Error, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Presence and size of every part, the sequence and the images; `checksum_ok` stays `None`
/// ("checked while importing") for every part.
pub fn check_media(folder: &Path) -> Result<MediaReport> {
    // Parts missing per the sidecar parts list are named here, before the set is opened: the
    // set cannot be opened without its first part (the metadata is in it), and a folder with
    // none of its parts left would only say "no parts".
    if let Some(report) = missing_per_sidecar(folder) {
        return Ok(report);
    }
    let set = ferry_archive::ArchiveSet::open(folder)?;
    let desc = ferry_archive::describe_set(&set);
    let listed: BTreeMap<String, Option<u64>> = set
        .parts_list
        .as_ref()
        .map(|l| l.parts.iter().map(|p| (p.name.clone(), p.size)).collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    let mut parts: Vec<MediaPart> = Vec::new();
    for p in &set.parts {
        if let Some(Some(want)) = listed.get(&p.name) {
            if *want != p.size {
                problems.push(format!(
                    "{} is {} bytes but the set lists {want} bytes: the copy is incomplete or damaged; copy it \
                     again from the export media into {}",
                    p.path.display(),
                    p.size,
                    folder.display()
                ));
            }
        }
        parts.push(MediaPart {
            name: p.name.clone(),
            bytes: p.size,
            present: true,
            checksum_ok: None,
        });
    }
    Ok(finish(folder, &set, &desc, listed.keys(), parts, problems))
}

/// The full check (`ferry verify`'s): what the import screen shows before pushing when asked
/// to read everything: the set's sequence, parts and images, and every problem (a missing or
/// damaged part) with what to do about it. Per part, `present` says whether the file is there
/// and `checksum_ok` what its check found: `Some` only for a part whose hash the set's
/// integrity list records and that was compared, `None` ("not checked") for a part with no
/// listed hash or one that is missing.
pub fn verify_media(folder: &Path) -> Result<MediaReport> {
    let set = ferry_archive::ArchiveSet::open(folder)?;
    let desc = ferry_archive::describe_set(&set);
    let listed: BTreeMap<String, Option<String>> = set
        .parts_list
        .as_ref()
        .map(|l| l.parts.iter().map(|p| (p.name.clone(), p.sha256.clone())).collect())
        .unwrap_or_default();
    let mut problems = Vec::new();
    let verified = match crate::disk::verify(folder) {
        Ok(_) => true,
        Err(e) => {
            problems.push(format!(
                "{e}. Copy the part again from the export media into {}, or pick the folder that holds every part",
                folder.display()
            ));
            false
        }
    };
    let mut parts: Vec<MediaPart> = Vec::new();
    for p in &set.parts {
        let checksum_ok = match listed.get(&p.name).cloned().flatten() {
            None => None,
            // The full check passed, and it compares every listed part hash.
            Some(_) if verified => Some(true),
            // It failed somewhere: find out which parts are the damaged ones.
            Some(want) => Some(file_sha256(&p.path)? == want),
        };
        parts.push(MediaPart {
            name: p.name.clone(),
            bytes: p.size,
            present: true,
            checksum_ok,
        });
    }
    Ok(finish(folder, &set, &desc, listed.keys(), parts, problems))
}

/// The end both checks share: every part the parts list names that the folder lacks is added
/// as absent (with the fix in `problems`), parts sorted by name.
fn finish<'a>(
    folder: &Path,
    set: &ferry_archive::ArchiveSet,
    desc: &ferry_archive::Description,
    listed: impl Iterator<Item = &'a String>,
    mut parts: Vec<MediaPart>,
    mut problems: Vec<String>,
) -> MediaReport {
    for name in listed.filter(|n| !set.parts.iter().any(|p| &p.name == *n)) {
        problems.push(format!(
            "{name} is missing from {}: copy it from the export media",
            folder.display()
        ));
        parts.push(MediaPart {
            name: name.clone(),
            bytes: 0,
            present: false,
            checksum_ok: None,
        });
    }
    parts.sort_by(|a, b| a.name.cmp(&b.name));
    MediaReport {
        folder: folder.display().to_string(),
        sequence: desc.sequence,
        parts,
        images: desc.images.iter().map(|i| format!("{}:{}", i.name, i.tag)).collect(),
        problems,
    }
}

/// The report for a folder whose one sidecar parts list (`mirror_seq<N>.parts.json`, written
/// next to the parts by every export) names parts the folder does not hold; `None` when every
/// listed part is there, or there is no single readable sidecar (the set's own checks answer).
fn missing_per_sidecar(folder: &Path) -> Option<MediaReport> {
    let mut lists = Vec::new();
    for e in std::fs::read_dir(folder).ok()?.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let seq = name
            .strip_prefix("mirror_seq")
            .and_then(|r| r.strip_suffix(".parts.json"))
            .and_then(|n| n.parse::<u32>().ok());
        if let Some(seq) = seq {
            lists.push((seq, e.path(), name));
        }
    }
    let [(seq, path, list_name)] = <[_; 1]>::try_from(lists).ok()?;
    let list: ferry_archive::PartsList = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
    let mut parts = Vec::new();
    let mut problems = Vec::new();
    for p in &list.parts {
        match std::fs::metadata(folder.join(&p.name)) {
            Ok(m) => parts.push(MediaPart {
                name: p.name.clone(),
                bytes: m.len(),
                present: true,
                checksum_ok: None,
            }),
            Err(_) => {
                problems.push(format!(
                    "{} is missing from {} (the set has {} part(s) per {list_name}): copy it from the export \
                     media into this folder and check again, or pick the folder that holds every part",
                    p.name,
                    folder.display(),
                    list.parts.len()
                ));
                parts.push(MediaPart {
                    name: p.name.clone(),
                    bytes: p.size.unwrap_or(0),
                    present: false,
                    checksum_ok: None,
                });
            }
        }
    }
    if problems.is_empty() {
        return None;
    }
    Some(MediaReport {
        folder: folder.display().to_string(),
        sequence: Some(seq),
        parts,
        // The image list is in the metadata, inside the parts: known once they are back.
        images: vec![],
        problems,
    })
}

/// `sha256:<hex>` of a file, streamed.
fn file_sha256(path: &Path) -> Result<String> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path.display(), e))?;
    let d = ferry_types::Digest::of_reader(f).map_err(|e| Error::io(path.display(), e))?;
    Ok(d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_missing_per_the_sidecar_is_named_with_its_listed_size() {
        let d = tempfile::tempdir().unwrap();
        let list = serde_json::json!({
            "format": "ferry-parts/v1",
            "uid": "u1",
            "sequence": 1,
            "parts": [
                {"name": "mirror_seq1_000000.tar", "size": 4096, "sha256": "sha256:00", "entries": 3},
                {"name": "mirror_seq1_000001.tar", "size": 2048, "sha256": "sha256:11", "entries": 1}
            ]
        });
        std::fs::write(d.path().join("mirror_seq1.parts.json"), list.to_string()).unwrap();
        std::fs::write(d.path().join("mirror_seq1_000001.tar"), vec![0u8; 2048]).unwrap();
        let Some(r) = missing_per_sidecar(d.path()) else {
            panic!("the missing part is reported");
        };
        assert_eq!(r.sequence, Some(1));
        assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
        assert!(
            r.problems[0].starts_with("mirror_seq1_000000.tar is missing from "),
            "{}",
            r.problems[0]
        );
        assert!(
            r.problems[0].contains("per mirror_seq1.parts.json"),
            "{}",
            r.problems[0]
        );
        let missing: Vec<_> = r
            .parts
            .iter()
            .filter(|p| !p.present)
            .map(|p| (p.name.as_str(), p.bytes))
            .collect();
        assert_eq!(missing, vec![("mirror_seq1_000000.tar", 4096)]);
        // Every part back: the set's own checks answer (None here).
        std::fs::write(d.path().join("mirror_seq1_000000.tar"), vec![0u8; 4096]).unwrap();
        assert!(missing_per_sidecar(d.path()).is_none());
    }
}
