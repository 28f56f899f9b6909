//! `ferry verify` and `ferry describe`.

use crate::reader::ArchiveSet;
use ferry_metadata::Metadata;
use ferry_types::{Digest, Error, ImageKind, Result, Sha256Hasher};
use serde::Serialize;
use std::io::Read;
use std::path::Path;

/// Result of a full check of a set.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    pub sequence: Option<u32>,
    pub uid: Option<String>,
    pub parts: usize,
    pub bytes: u64,
    /// Entries whose content was re-hashed against the digest in their name.
    pub entries_checked: usize,
    /// Whether part hashes were checked against a parts list (sidecar or in-archive).
    pub parts_list: Option<&'static str>,
}

/// Re-read every part once: check its sha256 against the parts list and every digest-named
/// entry (`blobs/sha256:…`, `v2/…/manifests/sha256:…`) against its name. The first problem is
/// returned as an error naming the part and the entry.
pub fn verify_set(set: &ArchiveSet) -> Result<VerifyReport> {
    let mut checked = 0;
    for (pi, part) in set.parts.iter().enumerate() {
        // Digest-named entries of this part, by offset.
        let mut regions: Vec<(u64, u64, &str, Digest)> = set
            .entries
            .iter()
            .filter(|(_, l)| l.part == pi && l.link.is_none())
            .filter_map(|(n, l)| {
                let file = n.rsplit('/').next().unwrap_or_default();
                Digest::parse(file).ok().map(|d| (l.offset, l.size, n.as_str(), d))
            })
            .collect();
        regions.sort_by_key(|r| r.0);
        let mut f = std::fs::File::open(&part.path).map_err(|e| Error::io(part.path.display(), e))?;
        let mut part_hash = Sha256Hasher::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut pos: u64 = 0;
        let mut ri = 0;
        let mut cur: Option<Sha256Hasher> = None;
        loop {
            let n = f.read(&mut buf).map_err(|e| Error::io(part.path.display(), e))?;
            if n == 0 {
                break;
            }
            part_hash.update(&buf[..n]);
            let (chunk_start, chunk_end) = (pos, pos + n as u64);
            // Feed every entry region overlapping this chunk; finish those that end in it.
            while ri < regions.len() {
                let (off, size, name, ref digest) = regions[ri];
                if off >= chunk_end {
                    break;
                }
                let s = off.max(chunk_start);
                let e = (off + size).min(chunk_end);
                let h = cur.get_or_insert_with(Sha256Hasher::new);
                if e > s {
                    h.update(&buf[(s - chunk_start) as usize..(e - chunk_start) as usize]);
                }
                if off + size <= chunk_end {
                    let actual = cur.take().expect("hasher").finish();
                    if &actual != digest {
                        return Err(Error::DigestMismatch {
                            what: format!(
                                "{}: entry {name} (the part is corrupted; copy it again from the source media)",
                                part.path.display()
                            ),
                            expected: digest.to_string(),
                            actual: actual.to_string(),
                        });
                    }
                    checked += 1;
                    ri += 1;
                } else {
                    break;
                }
            }
            pos = chunk_end;
        }
        if let Some(list) = &set.parts_list {
            if let Some(info) = list.parts.iter().find(|i| i.name == part.name) {
                if let Some(expected) = &info.sha256 {
                    let actual = part_hash.finish();
                    if &actual.to_string() != expected {
                        return Err(Error::DigestMismatch {
                            what: format!(
                                "{} (tar headers or padding corrupted; copy this part again from the source media)",
                                part.path.display()
                            ),
                            expected: expected.clone(),
                            actual: actual.to_string(),
                        });
                    }
                }
            }
        }
    }
    Ok(VerifyReport {
        sequence: set.sequence(),
        uid: set.metadata.as_ref().map(|m| m.uid.clone()),
        parts: set.parts.len(),
        bytes: set.total_size(),
        entries_checked: checked,
        parts_list: set.parts_list.as_ref().map(|_| {
            if set.parts_list_is_sidecar {
                "sidecar"
            } else {
                "in-archive"
            }
        }),
    })
}

/// What `ferry describe` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Description {
    pub origin: String,
    pub sequence: Option<u32>,
    pub uid: Option<String>,
    pub single_use: Option<bool>,
    pub timestamp: Option<i64>,
    pub parts: Vec<(String, u64)>,
    pub total_bytes: u64,
    pub blobs: usize,
    pub blob_bytes: u64,
    pub images: Vec<DescribedImage>,
    /// The `mirror` section recorded in the metadata.
    pub mirror: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribedImage {
    pub name: String,
    pub path: String,
    pub tag: String,
    pub digest: String,
    #[serde(rename = "type")]
    pub kind: ImageKind,
    /// Child manifests (platforms) for a list.
    pub manifests: usize,
}

/// Describe a set (Ferry's or oc-mirror's own archives) without extracting it.
pub fn describe(path: &Path) -> Result<Description> {
    let set = ArchiveSet::open(path)?;
    Ok(describe_set(&set))
}

pub fn describe_set(set: &ArchiveSet) -> Description {
    let md: Option<&Metadata> = set.metadata.as_ref();
    let images = md
        .map(|m| {
            m.past_mirror
                .associations
                .iter()
                .filter(|a| !a.is_child())
                .map(|a| DescribedImage {
                    name: a.name.clone(),
                    path: a.path.clone(),
                    tag: a.tag_symlink.clone(),
                    digest: a.id.clone(),
                    kind: a.kind,
                    manifests: a.manifest_digests.len(),
                })
                .collect()
        })
        .unwrap_or_default();
    let (blobs, blob_bytes) = set
        .entries
        .iter()
        .filter(|(n, _)| n.starts_with("blobs/"))
        .fold((0, 0), |(c, b), (_, l)| (c + 1, b + l.size));
    Description {
        origin: set.origin.display().to_string(),
        sequence: set.sequence(),
        uid: md.map(|m| m.uid.clone()),
        single_use: md.map(|m| m.single_use),
        timestamp: md.map(|m| m.past_mirror.timestamp).filter(|t| *t != 0),
        parts: set.parts.iter().map(|p| (p.name.clone(), p.size)).collect(),
        total_bytes: set.total_size(),
        blobs,
        blob_bytes,
        images,
        mirror: md.map(|m| m.past_mirror.mirror.clone()).unwrap_or_default(),
    }
}

impl Description {
    /// Human-readable text for the CLI.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let opt = |o: Option<String>| o.unwrap_or_else(|| "-".into());
        s.push_str(&format!("Image set:   {}\n", self.origin));
        s.push_str(&format!("Sequence:    {}\n", opt(self.sequence.map(|v| v.to_string()))));
        s.push_str(&format!("UID:         {}\n", opt(self.uid.clone())));
        if let Some(t) = self.timestamp {
            s.push_str(&format!("Created:     {t} (unix seconds)\n"));
        }
        s.push_str(&format!(
            "Parts:       {} ({} bytes)\n",
            self.parts.len(),
            self.total_bytes
        ));
        for (n, sz) in &self.parts {
            s.push_str(&format!("  {n}  {sz} bytes\n"));
        }
        s.push_str(&format!("Blobs:       {} ({} bytes)\n", self.blobs, self.blob_bytes));
        s.push_str(&format!("Images:      {}\n", self.images.len()));
        for i in &self.images {
            let tag = if i.tag.is_empty() {
                String::new()
            } else {
                format!(" tag {}", i.tag)
            };
            let kids = if i.manifests > 0 {
                format!(", {} platforms", i.manifests)
            } else {
                String::new()
            };
            s.push_str(&format!("  {} -> {}{tag} ({}{kids})\n", i.name, i.path, i.digest));
        }
        s
    }
}
