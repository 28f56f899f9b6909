//! What the CLI prints after mirror-to-disk and an import, and the "partial" exit status.

use crate::progress::human_bytes;
use ferry_api::disk::{DiskReport, FailedImage, ImportReport, EXIT_PARTIAL};

/// A run that finished but left images out under `--continue-on-error`: `main` exits with
/// [`EXIT_PARTIAL`] (3) instead of 1, so scripts can tell "some images failed, the rest is
/// recorded" from "nothing was done".
#[derive(Debug)]
pub struct Partial(pub String);

impl std::fmt::Display for Partial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Partial {}

/// The exit code for an error `run` returned.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<Partial>().is_some() {
        EXIT_PARTIAL
    } else {
        1
    }
}

fn list(what: &str, images: &[FailedImage]) {
    if images.is_empty() {
        return;
    }
    eprintln!("{what} ({}):", images.len());
    for f in images {
        eprintln!("  {f}");
    }
}

fn partial(failed: &[FailedImage], what: &str) -> anyhow::Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    Err(Partial(format!(
        "partial {what}: {} images failed (listed above); exit status {EXIT_PARTIAL}",
        failed.len()
    ))
    .into())
}

/// After `ferry mirror --config … file://DIR`.
pub fn print_disk_report(r: &DiskReport) -> anyhow::Result<()> {
    list("skipped, not found in the source (--skip-missing)", &r.skipped);
    list("failed, left out of the set (--continue-on-error)", &r.failed);
    if r.dry_run {
        if r.planned_blobs == 0 && r.images_packed == 0 {
            println!(
                "dry run: no updates detected: every image of the set was shipped before (sequence stays {})",
                r.sequence
            );
        } else {
            println!(
                "dry run: sequence {} would hold {} images, {} new blobs, {} in about {} parts; nothing was downloaded or written{}",
                r.sequence,
                r.images_packed,
                r.planned_blobs,
                human_bytes(r.planned_bytes),
                r.planned_parts,
                r.mapping_file
                    .as_ref()
                    .map(|m| format!("; mapping written to {}", m.display()))
                    .unwrap_or_default()
            );
        }
        return partial(&r.failed, "plan");
    }
    if !r.written {
        println!(
            "No updates detected, process stopping: every image of the set was shipped before (sequence stays {})",
            r.sequence
        );
        return partial(&r.failed, "set");
    }
    for (digest, size) in &r.oversized {
        eprintln!(
            "warning: blob {digest} ({}) is larger than archiveSize and has a part of its own",
            human_bytes(*size)
        );
    }
    println!(
        "wrote sequence {} (uid {}) to {}: {} images, {} new blobs ({}), {} parts{}",
        r.sequence,
        r.uid,
        r.dir.display(),
        r.images_packed - r.failed.len().min(r.images_packed),
        r.blobs_written,
        human_bytes(r.blob_bytes_written),
        r.parts.len(),
        if r.blobs_resumed > 0 {
            format!(", {} blobs kept from the interrupted run", r.blobs_resumed)
        } else {
            String::new()
        }
    );
    for p in &r.parts {
        println!(
            "  {}  {}  {}",
            p.sha256.as_deref().unwrap_or("-"),
            p.size.map(human_bytes).unwrap_or_default(),
            p.name
        );
    }
    partial(
        &r.failed,
        "set: the metadata does not count the failed images, so the next sequence carries them",
    )
}

/// After `ferry mirror --from … docker://…`.
pub fn print_import_report(r: &ImportReport) -> anyhow::Result<()> {
    list("not imported", &r.failed);
    if r.dry_run {
        println!(
            "dry run: sequence {} (uid {}) would push {} images (up to {} of blobs from the media); nothing was pushed",
            r.sequence,
            r.uid,
            r.would_push.len(),
            human_bytes(r.would_push_bytes)
        );
        for d in &r.would_push {
            println!("  {d}");
        }
        if !r.would_rebuild.is_empty() {
            println!(
                "then would rebuild {} operator catalog(s) from the set and push them:",
                r.would_rebuild.len()
            );
            for c in &r.would_rebuild {
                println!("  {c}");
            }
        }
        println!("mapping written to {}", r.results_dir.join("mapping.txt").display());
        return partial(&r.failed, "plan");
    }
    println!(
        "imported sequence {} (uid {}): {} images pushed, {} already present, {} copied in {:.1}s; results in {}",
        r.sequence,
        r.uid,
        r.images_pushed,
        r.images_up_to_date,
        human_bytes(r.bytes_copied),
        r.seconds,
        r.results_dir.display()
    );
    print!("{}", r.apply.to_text());
    if r.partial() {
        eprintln!(
            "the target metadata records sequence {} without the failed images: fix the cause and run the same import \
             again with --skip-metadata-check to push them, or let the next sequence carry them",
            r.sequence
        );
    }
    partial(&r.failed, "import")
}

/// The `oc apply` commands for a results folder (mirror-to-mirror runs).
pub fn print_apply_for_dir(dir: &std::path::Path) {
    if let Ok(a) = ferry_api::disk::apply_commands(dir) {
        print!("{}", a.to_text());
    }
}
