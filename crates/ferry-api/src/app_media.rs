//! The Import screen's quick check of the media: which parts are there, at the size the set's
//! parts list records, and what the set holds. It reads only the tar headers (to index the
//! parts), never the blobs: the import itself checks each part's hash and every entry's digest
//! while it streams the blobs to the target (see [`crate::disk::d2m`]), so checking and then
//! importing reads the media once. The full read-everything check stays available on its own
//! ([`crate::app_workflows::verify_media`], `ferry verify`), but the app never chains it before
//! an import.

use crate::wire::{MediaPart, MediaReport};
use ferry_types::Result;
use std::collections::BTreeMap;
use std::path::Path;

/// Presence and size of every part, the sequence and the images; `checksum_ok` stays `None`
/// ("checked while importing") for every part.
pub fn check_media(folder: &Path) -> Result<MediaReport> {
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
    for name in listed.keys().filter(|n| !set.parts.iter().any(|p| &p.name == *n)) {
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
    Ok(MediaReport {
        folder: folder.display().to_string(),
        sequence: desc.sequence,
        parts,
        images: desc.images.iter().map(|i| format!("{}:{}", i.name, i.tag)).collect(),
        problems,
    })
}
