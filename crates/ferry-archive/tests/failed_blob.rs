//! One blob of an image fails while a sibling blob of the same image is streaming into the part
//! (the copy engine then aborts the sibling mid-write), and later images keep writing into the
//! same part. Everything is real: a docker-registry whose storage lost one blob file, the copy
//! engine, the archive writer, and a second registry the finished media is imported into.
//! After the source is fixed, a rerun resumes the set: it verifies and holds every image.

use ferry_archive::{verify_set, ArchiveSet, ArchiveSource, ArchiveWriter};
use ferry_copy::{copy_images, CopyJob, CopyOptions};
use ferry_testkit::{manifest_digest, push_image, PushedImage, RegistryOpts, RegistryServer};
use ferry_types::{Digest, ImageDestination, ImageSource};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::*;

const UID: &str = "8d1d0c8e-0000-4000-8000-0000000000b2";

fn jobs(source: &Arc<ferry_registry::Registry>, imgs: &[PushedImage]) -> Vec<CopyJob> {
    imgs.iter()
        .map(|i| CopyJob {
            source_repo: i.repo.clone(),
            source_ref: i.tag.clone(),
            source: source.clone() as Arc<dyn ImageSource>,
            dest_repo: i.repo.clone(),
            dest_tag: Some(i.tag.clone()),
            label: format!("{}:{}", i.repo, i.tag),
        })
        .collect()
}

fn copy_opts() -> CopyOptions {
    CopyOptions {
        // One image at a time: the broken image's siblings are the only writers when it fails,
        // and the images after it are written into the same part afterwards.
        parallel_images: 1,
        parallel_blobs: 2,
        retries: 0,
        retry_base_delay: Duration::from_millis(10),
        ..CopyOptions::default()
    }
}

/// Spooling off: the sibling aborted mid-write is the one streaming straight into the part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_failing_while_a_sibling_streams_into_the_part_leaves_no_partial_entry() {
    scenario(0).await
}

/// Spooling on (the default): siblings may be aborted while spooling or while writing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_failing_while_siblings_spool_or_stream_leaves_no_partial_entry() {
    scenario(ferry_archive::DEFAULT_SPOOL_BYTES).await
}

async fn scenario(spool: u64) {
    let src = RegistryServer::start(RegistryOpts::default());
    // Largest first: the three big layers stream one after another through the writer; the
    // small one gets a transfer slot while the third big one is being written, and fails.
    let broken = push_image(
        &src,
        "apps/broken",
        "v1",
        &spec(&[(8 * MIB, 11), (8 * MIB, 12), (8 * MIB, 13), (64 << 10, 14)]),
    )
    .await;
    let after1 = push_image(&src, "apps/after", "v1", &spec(&[(3 * MIB, 21), (2 * MIB, 22)])).await;
    let after2 = push_image(&src, "apps/later", "v2", &spec(&[(4 * MIB, 31), (1 << 10, 32)])).await;
    let imgs = vec![broken.clone(), after1.clone(), after2.clone()];
    let lost = broken
        .blobs
        .iter()
        .find(|(_, s)| *s > 60_000 && *s < MIB)
        .unwrap()
        .0
        .clone();
    let lost_file = blob_file(&src, &lost);
    let saved = std::fs::read(&lost_file).unwrap();
    std::fs::remove_file(&lost_file).unwrap();

    let source = registry(&src.host());
    let dir = tempfile::tempdir().unwrap();
    {
        let w = Arc::new(ArchiveWriter::create(writer_opts(dir.path(), UID, "failed-blob")).unwrap());
        let report = copy_images(
            w.clone() as Arc<dyn ImageDestination>,
            jobs(&source, &imgs),
            &copy_opts(),
        )
        .await;
        let failed: Vec<&str> = report.failed().map(|r| r.label.as_str()).collect();
        assert_eq!(
            failed,
            vec!["apps/broken:v1"],
            "only the image with the lost blob fails"
        );
        // The run ends here without finish (the CLI reports the failure and leaves the set).
    }
    assert!(
        ArchiveSet::open(dir.path()).is_err(),
        "an unfinished set never reads as complete"
    );

    // The source is repaired; the same run again resumes the set.
    std::fs::write(&lost_file, &saved).unwrap();
    let w = Arc::new(
        ArchiveWriter::create(writer_opts(dir.path(), UID, "failed-blob"))
            .unwrap()
            .with_spool_limit(spool),
    );
    let report = copy_images(
        w.clone() as Arc<dyn ImageDestination>,
        jobs(&source, &imgs),
        &copy_opts(),
    )
    .await;
    assert_eq!(
        report.failed().count(),
        0,
        "{:?}",
        report
            .failed()
            .map(|r| r.outcome.as_ref().err().map(|e| e.to_string()))
            .collect::<Vec<_>>()
    );
    let stats = w.finish().await.unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("spool"))
        .collect();
    assert!(leftovers.is_empty(), "spool files are gone: {leftovers:?}");
    assert!(stats.resumed);
    assert!(
        stats.blobs_resumed >= 4,
        "blobs written intact before the failure are kept: {stats:?}"
    );

    let set = Arc::new(ArchiveSet::open(dir.path()).unwrap());
    let report = verify_set(&set).unwrap_or_else(|e| panic!("the media must verify: {e}"));
    let all_blobs: HashSet<&Digest> = imgs.iter().flat_map(|i| i.blobs.iter().map(|b| &b.0)).collect();
    assert!(report.entries_checked >= all_blobs.len(), "{report:?}");

    // Import the media into a second registry: every image arrives with its digest.
    let dst = RegistryServer::start(RegistryOpts::default());
    let from = Arc::new(ArchiveSource::new(set.clone())) as Arc<dyn ImageSource>;
    let import: Vec<CopyJob> = imgs
        .iter()
        .map(|i| CopyJob {
            source_repo: i.repo.clone(),
            source_ref: i.tag.clone(),
            source: from.clone(),
            dest_repo: format!("mirror/{}", i.repo),
            dest_tag: Some(i.tag.clone()),
            label: i.repo.clone(),
        })
        .collect();
    let r = copy_images(
        registry(&dst.host()) as Arc<dyn ImageDestination>,
        import,
        &CopyOptions::default(),
    )
    .await;
    assert_eq!(r.failed().count(), 0);
    for i in &imgs {
        assert_eq!(
            manifest_digest(&dst, &format!("mirror/{}", i.repo), &i.tag).await,
            Some(i.digest.clone()),
            "{} imported from the media",
            i.repo
        );
    }
}
