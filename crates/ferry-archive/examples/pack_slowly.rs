//! Packs a deterministic image set into DIR with the real archive writer, slowly, so a test can
//! kill it with SIGKILL half-way and run it again to check the resume.
//!
//! `pack_slowly DIR BLOBS BLOB_SIZE DELAY_MS_PER_CHUNK` — prints
//! `resumed=<blobs kept> written=<blobs written> downloaded=<bytes pulled from the source>`.

use bytes::Bytes;
use ferry_archive::{ArchiveWriter, WriterOptions};
use ferry_types::{Digest, ImageDestination, Manifest};
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

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

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let n: u64 = args[2].parse().unwrap();
    let size: usize = args[3].parse().unwrap();
    let delay: u64 = args[4].parse().unwrap();
    let blobs: Vec<Bytes> = (0..n).map(|i| data(i + 1, size)).collect();
    let desc = |b: &Bytes| serde_json::json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "size": b.len(), "digest": Digest::of(b).to_string()});
    let m = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc(&blobs[0]), "layers": blobs[1..].iter().map(desc).collect::<Vec<_>>()});
    let manifest = Manifest::new(
        Bytes::from(serde_json::to_vec(&m).unwrap()),
        "application/vnd.oci.image.manifest.v1+json",
    );
    let w = ArchiveWriter::create(WriterOptions {
        dir,
        sequence: 1,
        uid: "00000000-0000-4000-8000-00000000kill".into(),
        max_part_bytes: (size as u64) * 4,
        strict: false,
        metadata_json: br#"{"kind":"Metadata","apiVersion":"mirror.openshift.io/v1alpha2","uid":"00000000-0000-4000-8000-00000000kill","singleUse":false,"pastMirror":{"timestamp":1,"sequence":1,"mirror":{}}}"#.to_vec(),
        plan_key: format!("{n}-{size}"),
        skip_digests: HashSet::new(),
    })
    .unwrap();
    let downloaded = Arc::new(AtomicU64::new(0));
    let mut resumed = 0;
    let mut written = 0;
    for b in &blobs {
        let d = Digest::of(b);
        if w.has_blob("kill/test", &d).await.unwrap() {
            resumed += 1;
            continue;
        }
        let chunks: Vec<Bytes> = b.chunks(64 << 10).map(Bytes::copy_from_slice).collect();
        let counter = downloaded.clone();
        let stream = futures::stream::unfold(chunks.into_iter(), move |mut it| {
            let counter = counter.clone();
            async move {
                let c = it.next()?;
                tokio::time::sleep(Duration::from_millis(delay)).await;
                counter.fetch_add(c.len() as u64, Ordering::SeqCst);
                Some((Ok::<_, std::io::Error>(c), it))
            }
        });
        w.put_blob("kill/test", &d, Some(b.len() as u64), Box::pin(stream))
            .await
            .unwrap();
        written += 1;
    }
    w.put_manifest("kill/test", "v1", &manifest).await.unwrap();
    w.finish().await.unwrap();
    println!(
        "resumed={resumed} written={written} downloaded={}",
        downloaded.load(Ordering::SeqCst)
    );
}
