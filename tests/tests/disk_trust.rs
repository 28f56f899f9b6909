//! The disk workflow as a user meets it, against real `docker-registry` processes: dry runs
//! that write nothing, results that keep earlier sequences' mirrors, partial imports under
//! `--continue-on-error`, `--skip-missing` on mirror-to-disk, the oc-mirror tag of digest-only
//! images, and a wrong media path reported before any registry is contacted.

mod e2e_support;

use e2e_support::*;
use ferry_api::disk::DiskOptions;
use ferry_api::{Destination, ErrorCode};
use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, PushedImage, RegistryServer};
use std::path::{Path, PathBuf};

fn registry() -> RegistryServer {
    RegistryServer::plain()
}

async fn image(reg: &RegistryServer, repo: &str, tag: &str, seed: u64) -> PushedImage {
    let spec = ImageSpec {
        format: ImageFormat::DockerV2S2,
        layers: vec![
            LayerSpec { size: 300 << 10, seed },
            LayerSpec {
                size: 40 << 10,
                seed: seed + 100,
            },
        ],
        platforms: vec![],
    };
    push_image(reg, repo, tag, &spec).await
}

fn opts(ws: &Path) -> DiskOptions {
    DiskOptions {
        archive_size_bytes: Some(64 << 20),
        ..disk_opts(ws)
    }
}

fn config(images: &[String], metadata_dir: &Path) -> ferry_api::config::ImageSetConfiguration {
    let list: String = images.iter().map(|i| format!("    - name: {i}\n")).collect();
    isc(&format!(
        "{}mirror:\n  additionalImages:\n{list}",
        local_storage(Some(metadata_dir))
    ))
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.extension().is_some_and(|e| e == ext));
    v.sort();
    v
}

fn dest(reg: &RegistryServer) -> Destination {
    docker_dest(reg, "mirror")
}

/// Flip one byte in the middle of the data of tar entry `name` in one of the parts in `dir`.
fn corrupt_entry(dir: &Path, name: &str) {
    for part in files(dir, "tar") {
        let mut bytes = std::fs::read(&part).unwrap();
        let mut off = 0usize;
        while off + 512 <= bytes.len() && bytes[off] != 0 {
            let h = &bytes[off..off + 512];
            let end = h[..100].iter().position(|b| *b == 0).unwrap_or(100);
            let entry = String::from_utf8_lossy(&h[..end]).to_string();
            let size_field = String::from_utf8_lossy(&h[124..136])
                .trim_matches(|c: char| c == '\0' || c == ' ')
                .to_string();
            let size = usize::from_str_radix(&size_field, 8).unwrap_or(0);
            if entry == name {
                bytes[off + 512 + size / 2] ^= 0xff;
                std::fs::write(&part, bytes).unwrap();
                return;
            }
            off += 512 + size.div_ceil(512) * 512;
        }
    }
    panic!("no entry {name} in {}", dir.display());
}

/// Flip a byte in the zero padding after the first entry whose size is not a multiple of 512:
/// no entry's content changes, only the part's own hash can tell.
fn corrupt_padding(part: &Path) {
    let mut bytes = std::fs::read(part).unwrap();
    let mut off = 0usize;
    while off + 512 <= bytes.len() && bytes[off] != 0 {
        let h = &bytes[off..off + 512];
        let size_field = String::from_utf8_lossy(&h[124..136])
            .trim_matches(|c: char| c == '\0' || c == ' ')
            .to_string();
        let size = usize::from_str_radix(&size_field, 8).unwrap_or(0);
        if size % 512 != 0 {
            bytes[off + 512 + size] ^= 0x01;
            std::fs::write(part, bytes).unwrap();
            return;
        }
        off += 512 + size.div_ceil(512) * 512;
    }
    panic!("no padded entry in {}", part.display());
}

/// Bytes this process has read so far (files and sockets), from /proc/self/io.
fn bytes_read() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .and_then(|v| v.trim().parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn import_reads_the_media_once_and_tags_nothing_when_a_part_hash_fails() {
    let src = registry();
    let dst = registry();
    let spec = ImageSpec {
        format: ImageFormat::Oci,
        layers: vec![
            // Large next to what else the process reads (`rchar` counts every read: each HTTP
            // client built loads the system trust store, ~220 KB), so the bound below measures
            // the media.
            LayerSpec {
                size: 8 << 20,
                seed: 70,
            },
            LayerSpec { size: 1000, seed: 71 },
        ],
        platforms: vec![],
    };
    let img = push_image(&src, "apps/big", "v1", &spec).await;
    let h = src.host();
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let o = opts(ws.path());
    run_m2d(&config(&[format!("{h}/apps/big:v1")], meta.path()), dir.path(), &o)
        .await
        .unwrap();
    let part = files(dir.path(), "tar").remove(0);
    let pristine = std::fs::read(&part).unwrap();

    // Damage that only the part's sidecar hash can see: the import stops before any tag.
    corrupt_padding(&part);
    let err = run_d2m(dir.path(), &dest(&dst), &o).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("mirror_seq1_000000.tar") && msg.contains("nothing") && msg.contains("tagged"),
        "{msg}"
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/big", "v1").await,
        None,
        "nothing tagged"
    );
    assert!(
        ferry_api::disk::verify(dir.path()).is_err(),
        "`ferry verify` alone sees it too"
    );

    // Restored: the import reads the set once (before: verify pass + push pass = twice).
    std::fs::write(&part, &pristine).unwrap();
    let size: u64 = files(dir.path(), "tar")
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    // (Into a fresh registry: the first attempt already sent the intact blobs to `dst`.)
    let fresh = registry();
    let before = bytes_read();
    let r = run_d2m(dir.path(), &dest(&fresh), &o).await.unwrap();
    let after = bytes_read();
    assert_eq!(
        manifest_digest(&fresh, "mirror/apps/big", "v1").await,
        Some(img.digest.clone())
    );
    let v = r.verify.as_ref().expect("verified while pushing");
    assert_eq!(v.parts_list, Some("sidecar"));
    assert!(v.entries_checked >= 3, "{v:?}");
    assert!(r.bytes_copied >= 8 << 20, "{}", r.bytes_copied);
    if let (Some(b), Some(a)) = (before, after) {
        let read = a - b;
        assert!(read >= size, "read {read} of {size}");
        assert!(
            read < size + size / 2,
            "the media was read more than once: {read} bytes for a {size}-byte set"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dry_runs_write_no_part_bump_no_sequence_and_push_nothing() {
    let src = registry();
    let dst = registry();
    let web = image(&src, "apps/web", "v1", 1).await;
    let pinned = image(&src, "tools/pinned", "gone", 2).await;
    let h = src.host();
    let images = vec![
        format!("{h}/apps/web:v1"),
        format!("{h}/tools/pinned@{}", pinned.digest),
    ];
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&images, meta.path());

    let dry = DiskOptions {
        dry_run: true,
        ..opts(ws.path())
    };
    let r = run_m2d(&cfg, dir.path(), &dry).await.unwrap();
    assert!(r.dry_run && !r.written);
    assert_eq!(r.sequence, 1, "the sequence a real run would write");
    assert_eq!(r.images_packed, 2);
    assert_eq!(r.planned_blobs, web.blobs.len() + pinned.blobs.len());
    assert!(r.planned_bytes > 680 << 10, "{}", r.planned_bytes);
    assert_eq!(r.planned_parts, 1);
    assert!(files(dir.path(), "tar").is_empty(), "a dry run writes no part");
    assert!(
        !meta.path().join("publish/.metadata.json").exists(),
        "a dry run records no sequence"
    );
    let mapping = std::fs::read_to_string(r.mapping_file.as_ref().unwrap()).unwrap();
    let tag = format!("oc-mirror{}", &pinned.digest.hex()[..6]);
    assert!(
        mapping.contains(&format!("{h}/tools/pinned@{}=file://tools/pinned:{tag}", pinned.digest)),
        "{mapping}"
    );
    assert!(
        mapping.contains(&format!("{h}/apps/web@{}=file://apps/web:v1", web.digest)),
        "{mapping}"
    );

    // The real run, then an import dry run into an empty registry: nothing pushed, no metadata.
    let real = run_m2d(&cfg, dir.path(), &opts(ws.path())).await.unwrap();
    assert!(real.written && real.sequence == 1);
    let recorded = std::fs::read(meta.path().join("publish/.metadata.json")).unwrap();
    let r2 = run_m2d(&cfg, dir.path(), &dry).await.unwrap();
    assert_eq!(r2.planned_blobs, 0, "nothing new after sequence 1");
    assert_eq!(
        std::fs::read(meta.path().join("publish/.metadata.json")).unwrap(),
        recorded
    );
    assert_eq!(files(dir.path(), "tar").len(), 1);

    let d = run_d2m(dir.path(), &dest(&dst), &dry).await.unwrap();
    assert!(d.dry_run);
    assert_eq!(d.would_push.len(), 2, "{:?}", d.would_push);
    assert!(
        d.would_push
            .iter()
            .any(|x| x.contains(&format!("/mirror/tools/pinned:{tag}@"))),
        "{:?}",
        d.would_push
    );
    assert!(d.would_push_bytes > 680 << 10);
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/web", "v1").await,
        None,
        "a dry run pushes nothing"
    );
    assert_eq!(manifest_digest(&dst, "mirror/oc-mirror", &d.uid).await, None);
    assert!(std::fs::read_to_string(ws.path().join("mapping.txt"))
        .unwrap()
        .contains("/mirror/apps/web:v1"));

    // The real import tags the digest-only image the way oc-mirror's disk path does.
    let i = run_d2m(dir.path(), &dest(&dst), &opts(ws.path())).await.unwrap();
    assert_eq!(i.images_pushed, 2);
    assert_eq!(
        manifest_digest(&dst, "mirror/tools/pinned", &tag).await,
        Some(pinned.digest.clone())
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/web", "v1").await,
        Some(web.digest.clone())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn second_sequence_results_keep_the_first_sequences_mirrors() {
    let src = registry();
    let dst = registry();
    image(&src, "apps/web", "v1", 10).await;
    image(&src, "tools/cli", "v2", 20).await;
    let h = src.host();
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let (dir1, dir2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let o = opts(ws.path());

    let one = vec![format!("{h}/apps/web:v1")];
    run_m2d(&config(&one, meta.path()), dir1.path(), &o).await.unwrap();
    let two = vec![format!("{h}/apps/web:v1"), format!("{h}/tools/cli:v2")];
    let r2 = run_m2d(&config(&two, meta.path()), dir2.path(), &o).await.unwrap();
    assert_eq!(
        (r2.sequence, r2.images_packed),
        (2, 1),
        "sequence 2 carries only the new image"
    );

    let i1 = run_d2m(dir1.path(), &dest(&dst), &o).await.unwrap();
    let i2 = run_d2m(dir2.path(), &dest(&dst), &o).await.unwrap();
    assert_ne!(
        i1.results_dir, i2.results_dir,
        "each import gets its own results folder"
    );
    let read = |f: &str| std::fs::read_to_string(i2.results_dir.join(f)).unwrap();
    let (icsp, idms, itms) = (
        read("imageContentSourcePolicy.yaml"),
        read("imageDigestMirrorSet.yaml"),
        read("imageTagMirrorSet.yaml"),
    );
    for (name, doc) in [("ICSP", &icsp), ("IDMS", &idms), ("ITMS", &itms)] {
        assert!(
            doc.contains(&format!("source: {h}/apps\n")),
            "{name} lost sequence 1: {doc}"
        );
        assert!(
            doc.contains(&format!("source: {h}/tools\n")),
            "{name} lacks sequence 2: {doc}"
        );
        assert!(doc.contains("name: generic-0\n"), "{name}: {doc}");
    }
    let mapping = read("mapping.txt");
    assert_eq!(mapping.lines().count(), 2, "{mapping}");
    // Sequence 1's document has the same name, so applying sequence 2's replaces it.
    let first = std::fs::read_to_string(i1.results_dir.join("imageDigestMirrorSet.yaml")).unwrap();
    assert!(
        first.contains("name: generic-0\n") && !first.contains("/tools"),
        "{first}"
    );
    // One command per cluster version, never both kinds in one.
    let new = i2.apply.from_4_13_command().unwrap();
    let old = i2.apply.before_4_13_command().unwrap();
    assert!(
        new.contains("imageDigestMirrorSet.yaml")
            && new.contains("imageTagMirrorSet.yaml")
            && !new.contains("imageContentSourcePolicy"),
        "{new}"
    );
    assert!(
        old.contains("imageContentSourcePolicy.yaml") && !old.contains("MirrorSet"),
        "{old}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partial_import_lists_failures_records_metadata_and_accepts_the_next_sequence() {
    let src = registry();
    let dst = registry();
    let good = image(&src, "apps/good", "v1", 30).await;
    let bad = image(&src, "apps/bad", "v1", 40).await;
    image(&src, "apps/later", "v1", 50).await;
    let h = src.host();
    let meta = tempfile::tempdir().unwrap();
    let ws = tempfile::tempdir().unwrap();
    let (dir1, dir2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let o = opts(ws.path());
    let one = vec![format!("{h}/apps/good:v1"), format!("{h}/apps/bad:v1")];
    run_m2d(&config(&one, meta.path()), dir1.path(), &o).await.unwrap();
    let mut two = one.clone();
    two.push(format!("{h}/apps/later:v1"));
    run_m2d(&config(&two, meta.path()), dir2.path(), &o).await.unwrap();
    // Damage the big layer of one image; skip the up-front verification so the push meets it.
    let big = bad.blobs.iter().max_by_key(|b| b.1).unwrap();
    corrupt_entry(dir1.path(), &format!("blobs/{}", big.0));
    let lenient = DiskOptions {
        skip_verify: true,
        ..o.clone()
    };
    let err = run_d2m(dir1.path(), &dest(&dst), &lenient).await.unwrap_err();
    assert!(
        err.to_string().contains("apps/bad") && err.to_string().contains("--continue-on-error"),
        "{err}"
    );

    let keep_going = DiskOptions {
        continue_on_error: true,
        ..lenient
    };
    let r = run_d2m(dir1.path(), &dest(&dst), &keep_going).await.unwrap();
    assert!(r.partial());
    assert_eq!(r.failed.len(), 1, "{:?}", r.failed);
    assert!(r.failed[0].image.contains("apps/bad"), "{:?}", r.failed);
    assert!(
        r.metadata_image.is_some(),
        "the sequence is recorded after a partial import"
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/good", "v1").await,
        Some(good.digest.clone())
    );
    assert_eq!(manifest_digest(&dst, "mirror/apps/bad", "v1").await, None);
    let mapping = std::fs::read_to_string(r.results_dir.join("mapping.txt")).unwrap();
    assert!(
        mapping.contains("apps/good") && !mapping.contains("apps/bad"),
        "{mapping}"
    );

    // The next sequence is accepted (not "expects sequence 1").
    let r2 = run_d2m(dir2.path(), &dest(&dst), &o).await.unwrap();
    assert_eq!(r2.sequence, 2);
    // The image that failed is neither in sequence 2 nor on the target: said, not claimed.
    assert!(
        r2.failed.iter().any(|f| f.image.contains("apps/bad")),
        "{:?}",
        r2.failed
    );
    assert!(manifest_digest(&dst, "mirror/apps/later", "v1").await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mirror_to_disk_honours_skip_missing_and_continue_on_error() {
    let src = registry();
    let there = image(&src, "apps/there", "v1", 60).await;
    let h = src.host();
    let images = vec![format!("{h}/apps/there:v1"), format!("{h}/apps/missing:v1")];
    let ws = tempfile::tempdir().unwrap();

    let meta = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let err = run_m2d(&config(&images, meta.path()), dir.path(), &opts(ws.path()))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
    assert!(err.to_string().contains("apps/missing"), "{err}");
    assert!(files(dir.path(), "tar").is_empty());

    for (flag, skip_missing, continue_on_error) in [("skip-missing", true, false), ("continue-on-error", false, true)] {
        let meta = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let o = DiskOptions {
            skip_missing,
            continue_on_error,
            ..opts(ws.path())
        };
        let r = run_m2d(&config(&images, meta.path()), dir.path(), &o)
            .await
            .unwrap_or_else(|e| panic!("--{flag}: {e}"));
        assert!(r.written, "--{flag}");
        assert_eq!(r.images_packed, 1, "--{flag}");
        let left = if skip_missing { &r.skipped } else { &r.failed };
        assert_eq!(left.len(), 1, "--{flag}: {:?} {:?}", r.skipped, r.failed);
        assert!(left[0].image.contains("apps/missing"), "--{flag}: {left:?}");
        assert_eq!(
            r.partial(),
            continue_on_error,
            "--{flag}: only a failure is partial, a skip is not"
        );
        let md: serde_json::Value =
            serde_json::from_slice(&std::fs::read(meta.path().join("publish/.metadata.json")).unwrap()).unwrap();
        let paths: Vec<&str> = md["pastAssociations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["path"].as_str().unwrap())
            .collect();
        assert!(
            paths.contains(&"apps/there") && !paths.contains(&"apps/missing"),
            "--{flag}: {paths:?}"
        );
        assert!(md.to_string().contains(&there.digest.to_string()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_media_path_is_reported_before_any_registry_is_contacted() {
    // A listener that records whether anything connected; the import must fail before that.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let target = Destination::parse(&format!("docker://127.0.0.1:{port}/mirror")).unwrap();
    let ws = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let missing = empty.path().join("does/not/exist");
    for path in [missing.as_path(), empty.path()] {
        let err = run_d2m(path, &target, &opts(ws.path())).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "names the path: {err}"
        );
    }
    let contacted = tokio::time::timeout(std::time::Duration::from_millis(300), listener.accept()).await;
    assert!(
        contacted.is_err(),
        "the registry was contacted before the media was checked"
    );
}
