//! Ferry: removable-media archives (mirror_seqN_NNNNNN.tar), split by archiveSize, indexed reading and verification.
//!
//! # Layout (compatible with oc-mirror v1, reference §1)
//!
//! ```text
//! mirror_seq<N>_000000.tar   publish/.metadata.json              (always the first entry of part 0)
//!                            v2/<repo>/manifests/sha256:<hex>    (manifest files)
//!                            v2/<repo>/manifests/<tag>           (symlink -> sha256:<hex>)
//!                            blobs/sha256:<hex>                  (every blob once, flattened)
//! mirror_seq<N>_000001.tar   ...
//! last part(s)               catalogs/<registry>/<ns>/<name>/<tag-or-digest>/{index/index.json,layout/...}
//!                            charts/<chart>-<version>.tgz        (folder always present, maybe empty)
//!                            cincinnati/cincinnati-graph-data.tar.gz
//!                            release-signatures/signature-sha256-<16hex>.json  (folder always present)
//!                            ferry/parts.json                    (integrity list, see below)
//! mirror_seq<N>.parts.json   (sidecar next to the tars)
//! ```
//!
//! # Writing ([`ArchiveWriter`])
//!
//! The writer is an [`ImageDestination`]: the copy engine streams each blob from the registry
//! straight into the current tar part (header with the known size, then the bytes, hashed as they
//! flow), so no staging copy of the image set ever exists on disk. Parts are split with
//! oc-mirror's split-before-write rule, counting real bytes on disk (headers, padding and the
//! end-of-archive marker), so no part exceeds `archiveSize` except a part holding a single blob
//! (or extra-files folder) that is larger on its own (a warning, or an error with `strict`).
//!
//! Tar entries of one part must be written one after another, so writes are serialised by a
//! mutex held for the duration of one entry. So that the other transfers do not sit on idle
//! connections meanwhile, a blob that finds the part busy is streamed (and verified) into a
//! spool file next to the parts and copied in when the part is free. Spool files are bounded:
//! at most [`DEFAULT_SPOOL_BYTES`] (512 MiB, [`ArchiveWriter::with_spool_limit`]) at any time, no
//! blob larger than the bound, none when the file system has less than twice the blob plus
//! 1 GiB free; such blobs wait and stream straight into the part.
//!
//! Every entry is all-or-nothing: on any error the part is truncated back to where the entry
//! started, and when the writing future is dropped half-way (the copy engine aborts the sibling
//! transfers of an image that failed) the part stays marked dirty and the next entry truncates
//! it first, so no partial bytes ever sit in front of a later entry. Each blob, extra file and
//! closed part is a commit point: the part is fsynced, then the journal line is written and
//! fsynced. Small entries (manifests, tag links) are journaled without their own fsync; the
//! next commit point covers them, and a resume re-checks them anyway.
//!
//! # Extra files ([`ArchiveWriter::add_file`], [`ArchiveSet::files`], [`ArchiveSet::extract_file`])
//!
//! Operator catalogs, charts, release signatures and graph data go where oc-mirror puts them
//! (`catalogs/`, `charts/`, `release-signatures/`, `cincinnati/`). oc-mirror 4.11 extracts each of
//! these folders from a single part, starting at the folder's directory entry and stopping at the
//! first entry outside it, and it refuses a set without `charts` ("file charts not found in
//! archive"). So `add_file` checks and records the file and [`ArchiveWriter::finish`] writes each
//! folder in one piece, in one part; the source files must stay in place until `finish` returns.
//! See `writer/extras.rs` for the exact rules and their source in oc-mirror.
//!
//! # Integrity list
//!
//! A part's sha256 is only known once it is closed, and part 000000 must start with the metadata
//! (oc-mirror reads it from there), so the list of parts cannot live in part 000000. Ferry writes
//! it twice: `mirror_seq<N>.parts.json` next to the tars (names, sizes and sha256 of every part)
//! and a `ferry/parts.json` entry at the end of the last part (the same list; the last part's own
//! hash is necessarily absent). Either one is enough to name a missing part; the sidecar also
//! catches a corrupted last part. oc-mirror ignores unknown top-level entries, so its reader
//! still accepts Ferry's tars. Independently of both lists, every blob and manifest entry is
//! named by its digest, so `verify` re-hashes each one and names the part and entry that is bad.
//!
//! # Resume
//!
//! While a set is being written, `.mirror_seq<N>.ferry-state.json` (uid, plan key, metadata)
//! and `.mirror_seq<N>.ferry-journal` (one line per entry fully written, with where its data is
//! and its sha256, and one per closed part) sit next to the parts. A run killed at any point and
//! started again with the same plan keeps what still checks out (closed parts: size and the
//! digest of their last entry; the part in progress: every entry re-hashed), cuts the rest and
//! continues: blobs already written are not downloaded again. Only when the last part is closed
//! and the sidecar written are the state files removed; until then the set is never reported as
//! done.
//!
//! A finished set of the same sequence already in the folder (parts without resume state) is
//! never overwritten: [`ArchiveWriter::create`] refuses, naming the parts and the way out.
//!
//! # Reading ([`ArchiveSet`], [`ArchiveSource`])
//!
//! The parts are indexed in place (entry → part file, offset, size, link) by reading tar headers
//! only; nothing is extracted. Entries with absolute paths, `..` components, links leaving the
//! archive or device files are refused. [`ArchiveSource`] implements [`ImageSource`] over the
//! index, falling back to another source (the target registry) for blobs of earlier sequences.

mod files;
mod hash_pipe;
mod metadata_fix;
mod reader;
mod verify;
mod writer;

pub use metadata_fix::rewrite_set_metadata;
pub use reader::sniff_media_type;
pub use reader::{ArchiveSet, ArchiveSource, EntryLoc, PartFile};
pub use verify::{describe, describe_set, verify_set, DescribedImage, Description, VerifyReport};
pub use writer::{ArchiveWriter, WriterOptions, WriterStats, DEFAULT_SPOOL_BYTES, EXTRA_FOLDERS};

use serde::{Deserialize, Serialize};

/// Free bytes for an unprivileged user on the file system holding `dir` (created if needed).
pub fn free_space(dir: &std::path::Path) -> ferry_types::Result<u64> {
    std::fs::create_dir_all(dir).map_err(|e| ferry_types::Error::io(dir.display(), e))?;
    fs2::available_space(dir).map_err(|e| ferry_types::Error::io(dir.display(), e))
}

/// Bytes a set of blobs and manifests takes on disk: each entry's header (with a GNU long-name
/// block for long paths) and 512-byte padding, plus the end-of-archive marker of every part.
pub fn estimate_bytes(entry_sizes: impl IntoIterator<Item = u64>, parts: u64) -> u64 {
    entry_sizes
        .into_iter()
        .map(|s| 1536 + s.div_ceil(512) * 512)
        .sum::<u64>()
        + parts.max(1) * 1024
}

/// Path of the integrity list inside the last part.
pub const PARTS_ENTRY: &str = "ferry/parts.json";
pub const PARTS_FORMAT: &str = "ferry.dev/parts/v1";

/// `mirror_seq<seq>_<idx:06>.tar`.
pub fn part_name(seq: u32, idx: u32) -> String {
    format!("mirror_seq{seq}_{idx:06}.tar")
}

/// Sequence and split index of a part file name.
pub fn parse_part_name(name: &str) -> Option<(u32, u32)> {
    let rest = name.strip_prefix("mirror_seq")?.strip_suffix(".tar")?;
    let (seq, idx) = rest.split_once('_')?;
    if idx.len() != 6 || !idx.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((seq.parse().ok()?, idx.parse().ok()?))
}

/// Sidecar integrity list next to the tars.
pub fn parts_list_name(seq: u32) -> String {
    format!("mirror_seq{seq}.parts.json")
}

/// The integrity list of one set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartsList {
    pub format: String,
    pub uid: String,
    pub sequence: u32,
    pub parts: Vec<PartInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartInfo {
    pub name: String,
    /// Size and sha256 of the part; absent for the last part in the in-archive copy (a file
    /// cannot contain its own hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub entries: u32,
}

/// Checks one tar entry path and, for links, its target. Returns the normalised path
/// (`./x` → `x`). `part` names the file in the error.
pub fn check_entry(part: &str, path: &str, kind: tar::EntryType, link: Option<&str>) -> ferry_types::Result<String> {
    let refuse = |why: String| {
        ferry_types::Error::Archive(format!(
            "{part}: entry {path:?} {why}; refusing this archive (it was not written by ferry or oc-mirror, or it was tampered with)"
        ))
    };
    if path.starts_with('/') {
        return Err(refuse("has an absolute path".into()));
    }
    let norm = ferry_metadata::normalize(path).trim_end_matches('/').to_string();
    if norm.split('/').any(|c| c == "..") {
        return Err(refuse("contains '..'".into()));
    }
    match kind {
        tar::EntryType::Regular
        | tar::EntryType::Continuous
        | tar::EntryType::Directory
        | tar::EntryType::GNULongName
        | tar::EntryType::GNULongLink
        | tar::EntryType::XHeader
        | tar::EntryType::XGlobalHeader => {}
        tar::EntryType::Symlink => {
            let target = link.unwrap_or_default();
            if target.starts_with('/') {
                return Err(refuse(format!("is a symlink to the absolute path {target:?}")));
            }
            // Resolve against the link's directory; leaving the archive root anywhere is refused.
            let mut depth: i64 = norm.matches('/').count() as i64;
            for c in target.split('/') {
                match c {
                    "" | "." => {}
                    ".." => {
                        depth -= 1;
                        if depth < 0 {
                            return Err(refuse(format!(
                                "is a symlink pointing outside the archive ({target:?})"
                            )));
                        }
                    }
                    _ => depth += 1,
                }
            }
        }
        tar::EntryType::Link => {
            let target = link.unwrap_or_default();
            if target.starts_with('/') || target.split('/').any(|c| c == "..") {
                return Err(refuse(format!(
                    "is a hard link pointing outside the archive ({target:?})"
                )));
            }
        }
        other => return Err(refuse(format!("has unsupported type {other:?} (device, fifo...)"))),
    }
    Ok(norm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(part_name(1, 0), "mirror_seq1_000000.tar");
        assert_eq!(part_name(12, 3), "mirror_seq12_000003.tar");
        assert_eq!(parse_part_name("mirror_seq12_000003.tar"), Some((12, 3)));
        assert_eq!(parse_part_name("mirror_seq1_3.tar"), None);
        assert_eq!(parse_part_name("testbundle_seq2.tar"), None);
    }

    #[test]
    fn entry_safety() {
        use tar::EntryType as T;
        assert_eq!(
            check_entry("p", "./publish/.metadata.json", T::Regular, None).unwrap(),
            "publish/.metadata.json"
        );
        assert!(check_entry("p", "/etc/passwd", T::Regular, None).is_err());
        let e = check_entry("p.tar", "v2/../../x", T::Regular, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.tar") && e.contains(".."), "{e}");
        assert!(check_entry("p", "v2/a/manifests/latest", T::Symlink, Some("sha256:ab")).is_ok());
        assert!(check_entry("p", "v2/a/manifests/latest", T::Symlink, Some("../../../../etc")).is_err());
        assert!(check_entry("p", "v2/a/manifests/latest", T::Symlink, Some("/etc/shadow")).is_err());
        assert!(check_entry("p", "x", T::Link, Some("../y")).is_err());
        assert!(check_entry("p", "dev", T::Char, None).is_err());
    }
}
