//! Downloads keep flowing while another blob holds the part: blobs that find the part busy are
//! spooled next to the parts, within the stated bound, and the set is the same as without.
//! Real docker-registry, real copy engine.

use ferry_archive::{verify_set, ArchiveSet, ArchiveWriter};
use ferry_copy::{copy_images, CopyJob, CopyOptions, ProgressEvent};
use ferry_testkit::{push_image, ImageFormat, ImageSpec, LayerSpec, PushedImage, RegistryOpts, RegistryServer};
use ferry_types::{ImageDestination, ImageSource};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;
use common::*;

const UID: &str = "8d1d0c8e-0000-4000-8000-0000000000d1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_arriving_while_the_part_is_busy_are_spooled_within_the_bound() {
    let src = RegistryServer::start(RegistryOpts::default());
    let layers =
        |seeds: std::ops::Range<u64>, size: u64| seeds.map(|seed| LayerSpec { size, seed }).collect::<Vec<_>>();
    let mut imgs: Vec<PushedImage> = Vec::new();
    // One layer larger than the bound (never spooled), many that fit it.
    let mut l = layers(1..2, 6 * MIB);
    l.extend(layers(2..8, 2 * MIB));
    imgs.push(
        push_image(
            &src,
            "apps/a",
            "v1",
            &ImageSpec {
                format: ImageFormat::Oci,
                layers: l,
                platforms: vec![],
            },
        )
        .await,
    );
    imgs.push(
        push_image(
            &src,
            "apps/b",
            "v1",
            &ImageSpec {
                format: ImageFormat::DockerV2S2,
                layers: layers(10..16, 2 * MIB),
                platforms: vec![],
            },
        )
        .await,
    );
    let source = registry(&src.host());
    let dir = tempfile::tempdir().unwrap();
    let limit = 5 * MIB;
    let w = Arc::new(
        ArchiveWriter::create(writer_opts(dir.path(), UID, "spool"))
            .unwrap()
            .with_spool_limit(limit),
    );
    // Watch the spool folder while the copy runs: never more than the bound on disk.
    let seen = Arc::new(Mutex::new(0u64));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (dir, seen, stop) = (dir.path().to_path_buf(), seen.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let now: u64 = std::fs::read_dir(&dir)
                    .map(|rd| {
                        rd.flatten()
                            .filter(|e| e.file_name().to_string_lossy().contains(".spool-"))
                            .filter_map(|e| e.metadata().ok())
                            .map(|m| m.len())
                            .sum()
                    })
                    .unwrap_or(0);
                let mut s = seen.lock().unwrap();
                *s = (*s).max(now);
                drop(s);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let opts = CopyOptions {
        parallel_images: 2,
        parallel_blobs: 4,
        progress: Arc::new(move |e| {
            if let ProgressEvent::BlobDone { digest, .. } = e {
                ev.lock().unwrap().push(digest);
            }
        }),
        ..CopyOptions::default()
    };
    let jobs: Vec<CopyJob> = imgs
        .iter()
        .map(|i| CopyJob {
            source_repo: i.repo.clone(),
            source_ref: i.tag.clone(),
            source: source.clone() as Arc<dyn ImageSource>,
            dest_repo: i.repo.clone(),
            dest_tag: Some(i.tag.clone()),
            label: i.repo.clone(),
        })
        .collect();
    let report = copy_images(w.clone() as Arc<dyn ImageDestination>, jobs, &opts).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    watcher.join().unwrap();
    assert_eq!(report.failed().count(), 0);
    let stats = w.finish().await.unwrap();
    let total_blobs: usize = imgs.iter().map(|i| i.blobs.len()).sum();
    assert_eq!(stats.blobs_written as usize, total_blobs);
    assert!(
        stats.blobs_spooled > 0,
        "with 4 transfers and one part, some blobs must have been spooled: {stats:?}"
    );
    assert!(stats.spool_peak_bytes <= limit, "{stats:?}");
    assert!(
        *seen.lock().unwrap() <= limit,
        "spool files on disk: {} bytes",
        seen.lock().unwrap()
    );
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".spool-"))
        .count();
    assert_eq!(leftovers, 0, "spool files are removed once copied in");
    let set = ArchiveSet::open(dir.path()).unwrap();
    assert_eq!(verify_set(&set).unwrap().entries_checked, total_blobs + 2);
    for i in &imgs {
        for (d, size) in &i.blobs {
            let loc = &set.entries[&format!("blobs/{d}")];
            assert_eq!(loc.size, *size);
        }
    }
    assert_eq!(events.lock().unwrap().len(), total_blobs);
}
