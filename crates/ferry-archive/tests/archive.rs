//! Writer → parts on disk → index/reader/verify, with real files and real sha256 content.

use bytes::Bytes;
use ferry_archive::*;
use ferry_types::{Digest, ImageDestination, ImageSource, Manifest};
use futures::StreamExt;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Deterministic pseudo-random bytes (xorshift), so blobs do not compress or repeat.
fn data(seed: u64, len: usize) -> Bytes {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    Bytes::from(v)
}

struct Img {
    repo: String,
    tag: String,
    blobs: Vec<Bytes>,
    manifest: Manifest,
}

fn image(repo: &str, tag: &str, blobs: Vec<Bytes>) -> Img {
    let desc = |b: &Bytes, mt: &str| serde_json::json!({"mediaType": mt, "size": b.len(), "digest": Digest::of(b).to_string()});
    let m = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc(&blobs[0], "application/vnd.oci.image.config.v1+json"),
        "layers": blobs[1..].iter().map(|b| desc(b, "application/vnd.oci.image.layer.v1.tar")).collect::<Vec<_>>(),
    });
    let manifest = Manifest::new(
        Bytes::from(serde_json::to_vec(&m).unwrap()),
        "application/vnd.oci.image.manifest.v1+json",
    );
    Img {
        repo: repo.into(),
        tag: tag.into(),
        blobs,
        manifest,
    }
}

fn chunked(b: Bytes) -> ferry_types::BlobStream {
    let chunks: Vec<std::io::Result<Bytes>> = b.chunks(7000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    Box::pin(futures::stream::iter(chunks))
}

fn opts(dir: &Path, max: u64) -> WriterOptions {
    WriterOptions {
        dir: dir.to_path_buf(),
        sequence: 1,
        uid: "8d1d0c8e-0000-4000-8000-000000000001".into(),
        max_part_bytes: max,
        strict: false,
        metadata_json: br#"{"kind":"Metadata","apiVersion":"mirror.openshift.io/v1alpha2","uid":"8d1d0c8e-0000-4000-8000-000000000001","singleUse":false,"pastMirror":{"timestamp":1,"sequence":1,"mirror":{}}}"#.to_vec(),
        plan_key: "plan-1".into(),
        skip_digests: HashSet::new(),
    }
}

async fn put_image(w: &ArchiveWriter, img: &Img) {
    for b in &img.blobs {
        let d = Digest::of(b);
        if !w.has_blob(&img.repo, &d).await.unwrap() {
            w.put_blob(&img.repo, &d, Some(b.len() as u64), chunked(b.clone()))
                .await
                .unwrap();
        }
    }
    w.put_manifest(&img.repo, &img.manifest.digest.to_string(), &img.manifest)
        .await
        .unwrap();
    w.put_manifest(&img.repo, &img.tag, &img.manifest).await.unwrap();
}

fn sample() -> Vec<Img> {
    let shared = data(99, 30_000);
    vec![
        image("ns/app", "v1", vec![data(1, 300), data(2, 40_000), shared.clone()]),
        image(
            "ns/other/deep/path/with/a/long/name/that/goes/past/one/hundred/characters",
            "latest",
            vec![data(3, 200), shared, data(4, 10_000)],
        ),
    ]
}

async fn collect(mut s: ferry_types::BlobStream) -> Vec<u8> {
    let mut v = Vec::new();
    while let Some(c) = s.next().await {
        v.extend_from_slice(&c.unwrap());
    }
    v
}

fn part_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tar"))
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn round_trip_through_the_tar_parts() {
    let dir = tempfile::tempdir().unwrap();
    let w = ArchiveWriter::create(opts(dir.path(), 1 << 30)).unwrap();
    let imgs = sample();
    for i in &imgs {
        put_image(&w, i).await;
    }
    let stats = w.finish().await.unwrap();
    assert_eq!(stats.blobs_written, 5, "the shared blob is written once");
    assert_eq!(stats.parts.len(), 1);
    assert!(dir.path().join("mirror_seq1.parts.json").is_file());
    assert!(
        !dir.path().join(".mirror_seq1.ferry-journal").exists(),
        "resume state removed when done"
    );

    // GNU tar reads it, metadata first, long names intact, blobs flattened.
    let out = std::process::Command::new("tar")
        .arg("tf")
        .arg(dir.path().join("mirror_seq1_000000.tar"))
        .output()
        .unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines[0], "publish/.metadata.json");
    assert!(
        lines.contains(&format!("v2/{}/manifests/latest", imgs[1].repo).as_str()),
        "{listing}"
    );
    assert_eq!(lines.iter().filter(|l| l.starts_with("blobs/sha256:")).count(), 5);
    assert_eq!(*lines.last().unwrap(), PARTS_ENTRY);

    let set = std::sync::Arc::new(ArchiveSet::open(dir.path()).unwrap());
    assert_eq!(set.sequence(), Some(1));
    assert_eq!(set.tags().len(), 2);
    let src = ArchiveSource::new(set.clone());
    for i in &imgs {
        let m = src.get_manifest(&i.repo, &i.tag).await.unwrap();
        assert_eq!(m.digest, i.manifest.digest);
        assert_eq!(m.media_type, "application/vnd.oci.image.manifest.v1+json");
        for b in &i.blobs {
            let (size, s) = src.get_blob(&i.repo, &Digest::of(b)).await.unwrap();
            assert_eq!(size, Some(b.len() as u64));
            assert_eq!(collect(s).await, b.to_vec());
        }
    }
    let err = src
        .get_blob("ns/app", &Digest::of(b"absent"))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("earlier sequence"), "{err}");
    let rep = verify_set(&set).unwrap();
    assert_eq!(rep.entries_checked, 5 + 2);
    assert_eq!(rep.parts_list, Some("sidecar"));
    let d = describe_set(&set);
    assert_eq!(d.blobs, 5);
    assert_eq!(d.uid.as_deref(), Some("8d1d0c8e-0000-4000-8000-000000000001"));
}

#[tokio::test]
async fn splits_before_write_and_isolates_oversized_blobs() {
    let dir = tempfile::tempdir().unwrap();
    let max = 64 * 1024;
    let w = ArchiveWriter::create(opts(dir.path(), max)).unwrap();
    let mut blobs = vec![data(10, 500)];
    for i in 0..12 {
        blobs.push(data(20 + i, 9_000 + (i as usize) * 1_500));
    }
    blobs.push(data(50, 200_000)); // oversized
    blobs.push(data(51, 5_000));
    let img = image("ns/split", "v1", blobs);
    put_image(&w, &img).await;
    let stats = w.finish().await.unwrap();
    assert_eq!(stats.oversized.len(), 1);
    assert!(stats.parts.len() >= 4, "{:?}", stats.parts);
    let set = ArchiveSet::open(dir.path()).unwrap();
    let big = format!("blobs/{}", Digest::of(&img.blobs[13]));
    let big_part = set.entries[&big].part;
    for (i, p) in part_files(dir.path()).iter().enumerate() {
        let len = std::fs::metadata(p).unwrap().len();
        if i == big_part {
            assert!(len > max);
            assert_eq!(stats.parts[i].entries, 1, "the oversized blob is alone in its part");
        } else {
            assert!(len <= max, "{} is {len} bytes, over the {max} limit", p.display());
        }
    }
    verify_set(&set).unwrap();
    let src = ArchiveSource::new(std::sync::Arc::new(set));
    let (_, s) = src.get_blob("ns/split", &Digest::of(&img.blobs[13])).await.unwrap();
    assert_eq!(collect(s).await, img.blobs[13].to_vec());

    // --strict-archive: the oversized blob is an error and nothing of it is written.
    let dir2 = tempfile::tempdir().unwrap();
    let mut o = opts(dir2.path(), max);
    o.strict = true;
    let w = ArchiveWriter::create(o).unwrap();
    let b = data(50, 200_000);
    let err = w
        .put_blob("ns/split", &Digest::of(&b), Some(b.len() as u64), chunked(b.clone()))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("larger than the archive size limit") && err.contains(&Digest::of(&b).to_string()),
        "{err}"
    );
}

#[tokio::test]
async fn bad_media_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let w = ArchiveWriter::create(opts(dir.path(), 48 * 1024)).unwrap();
    let img = image("ns/app", "v1", (0..8).map(|i| data(100 + i, 20_000)).collect());
    put_image(&w, &img).await;
    w.finish().await.unwrap();
    let parts = part_files(dir.path());
    assert!(parts.len() >= 3);

    // Flipped byte inside a blob: verify names the part and the entry.
    let copy = tempfile::tempdir().unwrap();
    for p in &parts {
        std::fs::copy(p, copy.path().join(p.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        dir.path().join("mirror_seq1.parts.json"),
        copy.path().join("mirror_seq1.parts.json"),
    )
    .unwrap();
    let set = ArchiveSet::open(copy.path()).unwrap();
    let (name, loc) = set
        .entries
        .iter()
        .find(|(n, l)| n.starts_with("blobs/") && l.part == 1)
        .map(|(n, l)| (n.clone(), l.clone()))
        .unwrap();
    let target = copy.path().join(&set.parts[1].name);
    let mut bytes = std::fs::read(&target).unwrap();
    bytes[(loc.offset + 1234) as usize] ^= 0x40;
    std::fs::write(&target, &bytes).unwrap();
    let set = ArchiveSet::open(copy.path()).unwrap();
    let err = verify_set(&set).unwrap_err().to_string();
    assert!(err.contains("mirror_seq1_000001.tar") && err.contains(&name), "{err}");

    // Flipped byte in a tar header's padding area of a data block: part hash catches it.
    bytes[(loc.offset + 1234) as usize] ^= 0x40;
    let last = bytes.len() - 1;
    bytes[last] = 1; // inside the end-of-archive marker
    std::fs::write(&target, &bytes).unwrap();
    let set = ArchiveSet::open(copy.path()).unwrap();
    let err = verify_set(&set).unwrap_err().to_string();
    assert!(
        err.contains("mirror_seq1_000001.tar") && err.contains("corrupted"),
        "{err}"
    );
    bytes[last] = 0;
    std::fs::write(&target, &bytes).unwrap();
    verify_set(&ArchiveSet::open(copy.path()).unwrap()).unwrap();

    // Truncated part: named with its sizes, before anything else is read.
    std::fs::write(&target, &bytes[..bytes.len() - 5000]).unwrap();
    let err = ArchiveSet::open(copy.path()).unwrap_err().to_string();
    assert!(
        err.contains("mirror_seq1_000001.tar") && err.contains("truncated"),
        "{err}"
    );
    // ... and without the sidecar the tar structure itself gives it away.
    std::fs::remove_file(copy.path().join("mirror_seq1.parts.json")).unwrap();
    let err = ArchiveSet::open(copy.path()).unwrap_err().to_string();
    assert!(
        err.contains("mirror_seq1_000001.tar") && err.contains("truncated"),
        "{err}"
    );

    // Missing middle part.
    std::fs::remove_file(&target).unwrap();
    let err = ArchiveSet::open(copy.path()).unwrap_err().to_string();
    assert!(err.contains("mirror_seq1_000001.tar is missing"), "{err}");
    // Missing last part: only the parts list knows it existed.
    let copy2 = tempfile::tempdir().unwrap();
    for p in &parts[..parts.len() - 1] {
        std::fs::copy(p, copy2.path().join(p.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        dir.path().join("mirror_seq1.parts.json"),
        copy2.path().join("mirror_seq1.parts.json"),
    )
    .unwrap();
    let err = ArchiveSet::open(copy2.path()).unwrap_err().to_string();
    let last_name = parts.last().unwrap().file_name().unwrap().to_string_lossy().to_string();
    assert!(err.contains(&format!("{last_name} is missing")), "{err}");
}

#[tokio::test]
async fn refuses_escaping_entries() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("mirror_seq1_000000.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&p).unwrap());
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o644);
    // `append_data` refuses `..` itself, so write the name into the header directly.
    h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"v2/../../evil");
    h.set_cksum();
    b.append(&h, &b"bad"[..]).unwrap();
    b.finish().unwrap();
    drop(b);
    let err = ArchiveSet::open(&p).unwrap_err().to_string();
    assert!(err.contains("mirror_seq1_000000.tar") && err.contains("'..'"), "{err}");

    let mut b = tar::Builder::new(std::fs::File::create(&p).unwrap());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "v2/a/manifests/latest", "../../../../etc/passwd")
        .unwrap();
    b.finish().unwrap();
    drop(b);
    let err = ArchiveSet::open(&p).unwrap_err().to_string();
    assert!(err.contains("outside the archive"), "{err}");
}

#[tokio::test]
async fn resumes_from_the_journal_after_an_interruption() {
    let dir = tempfile::tempdir().unwrap();
    let imgs = sample();
    {
        let w = ArchiveWriter::create(opts(dir.path(), 1 << 30)).unwrap();
        put_image(&w, &imgs[0]).await;
        // Interrupted mid-blob: the stream fails half-way (like a dropped connection)...
        let b = imgs[1].blobs[0].clone();
        let half: Vec<std::io::Result<Bytes>> = vec![
            Ok(b.slice(..100)),
            Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset")),
        ];
        let err = w
            .put_blob(
                &imgs[1].repo,
                &Digest::of(&b),
                Some(b.len() as u64),
                Box::pin(futures::stream::iter(half)),
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains(&Digest::of(&b).to_string()), "{err}");
        // ...then the process dies without finishing (writer dropped, no finish).
    }
    // Simulate bytes of a half-written entry after the last journaled one.
    let part = dir.path().join("mirror_seq1_000000.tar");
    let len = std::fs::metadata(&part).unwrap().len();
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&part).unwrap();
        f.write_all(&[7u8; 3000]).unwrap();
    }
    assert!(std::fs::metadata(&part).unwrap().len() > len);
    assert!(
        ArchiveSet::open(dir.path()).is_err(),
        "an unfinished set never reads as complete"
    );

    let w = ArchiveWriter::create(opts(dir.path(), 1 << 30)).unwrap();
    for b in &imgs[0].blobs {
        assert!(
            w.has_blob("x", &Digest::of(b)).await.unwrap(),
            "blob written before the interruption is kept"
        );
    }
    assert_eq!(
        w.manifest_digest(&imgs[0].repo, &imgs[0].tag).await.unwrap(),
        Some(imgs[0].manifest.digest.clone())
    );
    for i in &imgs {
        put_image(&w, i).await;
    }
    let stats = w.finish().await.unwrap();
    assert!(stats.resumed);
    assert_eq!(stats.blobs_resumed, 3);
    assert_eq!(stats.blobs_written, 2);
    let set = ArchiveSet::open(dir.path()).unwrap();
    assert_eq!(verify_set(&set).unwrap().entries_checked, 7);

    // A different plan discards the leftovers instead of mixing two sets.
    let dir2 = tempfile::tempdir().unwrap();
    {
        let w = ArchiveWriter::create(opts(dir2.path(), 1 << 30)).unwrap();
        put_image(&w, &imgs[0]).await;
    }
    let mut o = opts(dir2.path(), 1 << 30);
    o.plan_key = "plan-2".into();
    let w = ArchiveWriter::create(o).unwrap();
    assert!(!w.has_blob("x", &Digest::of(&imgs[0].blobs[0])).await.unwrap());
}

fn fixtures() -> Option<PathBuf> {
    ferry_testkit::fixtures()
}

#[test]
fn describes_oc_mirror_archives() {
    let Some(fx) = fixtures() else { return };
    let base = fx.join("oc-mirror/oc-mirror/v1/pkg/cli/mirror");
    let d = describe(&base.join("testdata/artifacts/testbundle_seq2.tar")).unwrap();
    assert_eq!(d.sequence, Some(2));
    assert_eq!(d.uid.as_deref(), Some("360a43c2-8a14-4b5d-906b-07491459f25f"));
    assert_eq!(d.images.len(), 1);
    assert_eq!(d.images[0].tag, "latest");
    assert_eq!(d.images[0].manifests, 4);
    assert!(d.to_text().contains("Sequence:    2"));
    let d = describe(&base.join("testdata/artifacts/testbundle_seq3.tar")).unwrap();
    assert_eq!(d.sequence, Some(3));
    let d = describe(&base.join("describe/testdata/test_describe.tar")).unwrap();
    assert_eq!(d.uid.as_deref(), Some("360a43c2-8a14-4b5d-906b-07491459f25f"));
    assert!(d.images.is_empty());
    // A directory holding two of oc-mirror's bundles (non-standard names) is one "set" each;
    // oc-mirror's own archives have no parts list, so they still open.
    let set = ArchiveSet::open(&base.join("testdata/artifacts/testbundle_seq2.tar")).unwrap();
    assert!(set.parts_list.is_none());
    verify_set(&set).unwrap();
}
