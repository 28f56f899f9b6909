//! What a resume keeps is re-checked against the files, not taken from the journal on trust;
//! and a finished set is never overwritten by a new run of the same sequence.

use bytes::Bytes;
use ferry_archive::*;
use ferry_types::{Digest, ImageDestination, Manifest};
use std::collections::HashSet;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

fn data(seed: u64, len: usize) -> Bytes {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    Bytes::from(v)
}

fn opts(dir: &Path) -> WriterOptions {
    WriterOptions {
        dir: dir.to_path_buf(),
        sequence: 1,
        uid: "8d1d0c8e-0000-4000-8000-0000000000a1".into(),
        // About three blobs per part.
        max_part_bytes: 100_000,
        strict: false,
        metadata_json: br#"{"kind":"Metadata","apiVersion":"mirror.openshift.io/v1alpha2","uid":"8d1d0c8e-0000-4000-8000-0000000000a1","singleUse":false,"pastMirror":{"timestamp":1,"sequence":1,"mirror":{}}}"#.to_vec(),
        plan_key: "checks".into(),
        skip_digests: HashSet::new(),
    }
}

fn blobs() -> Vec<Bytes> {
    (0..10).map(|i| data(i + 40, 30_000)).collect()
}

fn manifest(bs: &[Bytes]) -> Manifest {
    let desc = |b: &Bytes| serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": b.len(), "digest": Digest::of(b).to_string()});
    let m = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc(&bs[0]), "layers": bs[1..].iter().map(desc).collect::<Vec<_>>()});
    Manifest::new(
        Bytes::from(serde_json::to_vec(&m).unwrap()),
        "application/vnd.oci.image.manifest.v1+json",
    )
}

async fn put(w: &ArchiveWriter, b: &Bytes) -> bool {
    let d = Digest::of(b);
    if w.has_blob("r", &d).await.unwrap() {
        return false;
    }
    let body = futures::stream::iter(vec![Ok::<_, std::io::Error>(b.clone())]);
    w.put_blob("r", &d, Some(b.len() as u64), Box::pin(body)).await.unwrap();
    true
}

/// Writes every blob, then "dies" (no finish).
async fn interrupted(dir: &Path) {
    let w = ArchiveWriter::create(opts(dir)).unwrap();
    for b in &blobs() {
        put(&w, b).await;
    }
}

/// Resumes, writes what is missing, finishes; returns how many blobs had to be written again.
async fn complete(dir: &Path) -> usize {
    let w = ArchiveWriter::create(opts(dir)).unwrap();
    let bs = blobs();
    let mut rewritten = 0;
    for b in &bs {
        rewritten += put(&w, b).await as usize;
    }
    w.put_manifest("r", "v1", &manifest(&bs)).await.unwrap();
    w.finish().await.unwrap();
    let set = ArchiveSet::open(dir).unwrap();
    let report = verify_set(&set).unwrap();
    assert_eq!(report.entries_checked, bs.len() + 1);
    rewritten
}

fn parts(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tar"))
        .collect();
    v.sort();
    v
}

/// Offset of blob `i`'s data in its part, from the parts themselves.
fn blob_offset(dir: &Path, b: &Bytes) -> (PathBuf, u64) {
    let name = format!("blobs/{}", Digest::of(b));
    for p in parts(dir) {
        let mut ar = tar::Archive::new(std::fs::File::open(&p).unwrap());
        for e in ar.entries().unwrap() {
            let Ok(e) = e else { break };
            if e.path().unwrap().to_string_lossy() == name {
                return (p.clone(), e.raw_file_position());
            }
        }
    }
    panic!("{name} not in any part");
}

fn flip(p: &Path, at: u64) {
    let mut f = std::fs::OpenOptions::new().read(true).write(true).open(p).unwrap();
    let mut b = [0u8; 1];
    f.seek(SeekFrom::Start(at)).unwrap();
    std::io::Read::read_exact(&mut f, &mut b).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&[b[0] ^ 0xff]).unwrap();
}

#[tokio::test]
async fn a_damaged_entry_in_the_part_in_progress_is_cut_with_everything_after_it() {
    let dir = tempfile::tempdir().unwrap();
    interrupted(dir.path()).await;
    let bs = blobs();
    let last = parts(dir.path()).pop().unwrap();
    // The first blob of the last (unclosed) part is damaged after it was journaled.
    let (p, off) = (0..bs.len())
        .map(|i| blob_offset(dir.path(), &bs[i]))
        .find(|(p, _)| *p == last)
        .unwrap();
    flip(&p, off + 1000);
    let in_last = (0..bs.len())
        .filter(|i| blob_offset(dir.path(), &bs[*i]).0 == last)
        .count();
    assert_eq!(
        complete(dir.path()).await,
        in_last,
        "the damaged blob and those after it are written again"
    );
}

#[tokio::test]
async fn a_closed_part_whose_last_entry_is_damaged_is_checked_again_and_cut() {
    let dir = tempfile::tempdir().unwrap();
    interrupted(dir.path()).await;
    let bs = blobs();
    let all = parts(dir.path());
    assert!(all.len() >= 3, "{all:?}");
    // Damage the last blob of part 000000 (a closed part).
    let (i, (p, off)) = (0..bs.len())
        .map(|i| (i, blob_offset(dir.path(), &bs[i])))
        .rfind(|(_, (p, _))| *p == all[0])
        .unwrap();
    flip(&p, off + 5);
    let rewritten = complete(dir.path()).await;
    assert_eq!(
        rewritten,
        bs.len() - i,
        "blobs from the damaged one on are written again"
    );
}

#[tokio::test]
async fn a_closed_part_cut_short_is_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    interrupted(dir.path()).await;
    let all = parts(dir.path());
    let f = std::fs::OpenOptions::new().write(true).open(&all[1]).unwrap();
    let len = f.metadata().unwrap().len();
    f.set_len(len - 2000).unwrap();
    let bs = blobs();
    let from_part1 = (0..bs.len())
        .filter(|i| blob_offset(dir.path(), &bs[*i]).0 >= all[1])
        .count();
    let in_part1 = (0..bs.len())
        .filter(|i| blob_offset(dir.path(), &bs[*i]).0 == all[1])
        .count();
    // Part 000001 lost its end marker and the end of its last blob: that blob and everything
    // after it are written again, the blobs before it in part 000001 are kept.
    let rewritten = complete(dir.path()).await;
    assert_eq!(rewritten, from_part1 - (in_part1 - 1));
}

#[tokio::test]
async fn a_finished_set_of_the_same_sequence_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    interrupted(dir.path()).await;
    complete(dir.path()).await;
    let before: Vec<(PathBuf, Vec<u8>)> = parts(dir.path())
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    let err = match ArchiveWriter::create(opts(dir.path())) {
        Ok(_) => panic!("a new run of sequence 1 must not replace the finished set"),
        Err(e) => e.to_string(),
    };
    for (p, _) in &before {
        let n = p.file_name().unwrap().to_string_lossy().to_string();
        assert!(err.contains(&n), "names {n}: {err}");
    }
    assert!(
        err.contains("mirror_seq1.parts.json") && err.contains("uid 8d1d0c8e-0000-4000-8000-0000000000a1"),
        "{err}"
    );
    assert!(
        err.contains("Move those files away") && err.contains("sequence 2"),
        "{err}"
    );
    for (p, bytes) in &before {
        assert_eq!(&std::fs::read(p).unwrap(), bytes, "{} untouched", p.display());
    }
    verify_set(&ArchiveSet::open(dir.path()).unwrap()).unwrap();
    // Even stray parts without a parts list (copied back from media, say) are kept.
    let other = tempfile::tempdir().unwrap();
    std::fs::copy(&before[0].0, other.path().join("mirror_seq1_000000.tar")).unwrap();
    assert!(ArchiveWriter::create(opts(other.path())).is_err());
    assert!(other.path().join("mirror_seq1_000000.tar").exists());
}
