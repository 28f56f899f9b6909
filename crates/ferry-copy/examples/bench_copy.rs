//! Registry-to-registry copy straight through `ferry_copy::copy_images`, for bench/run.sh when the
//! `ferry` CLI is not available. Plain HTTP, anonymous.
//!
//!   bench_copy --source HOST --dest HOST --prefix mirror/ --images FILE [--parallel 6]
//!
//! FILE has one `repo tag [digest]` per line; each goes to `<dest>/<prefix><repo>:<tag>`.

use ferry_copy::{copy_images, CopyJob, CopyOptions};
use ferry_registry::{ClientOptions, RegistryClient, TlsPolicy};
use ferry_types::ImageSource;
use std::sync::Arc;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let src = arg(&args, "--source").expect("--source HOST");
    let dst = arg(&args, "--dest").expect("--dest HOST");
    let prefix = arg(&args, "--prefix").unwrap_or_default();
    let list = std::fs::read_to_string(arg(&args, "--images").expect("--images FILE")).expect("read --images");
    let parallel: usize = arg(&args, "--parallel").map(|s| s.parse().unwrap()).unwrap_or(6);

    let client = RegistryClient::new(
        Arc::new(ferry_auth::Anonymous),
        ClientOptions {
            default_tls: TlsPolicy {
                plain_http: true,
                ..Default::default()
            },
            max_per_registry: parallel,
            ..Default::default()
        },
    )
    .expect("client");
    let source: Arc<dyn ImageSource> = Arc::new(client.registry(&src));
    let jobs: Vec<CopyJob> = list
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (repo, tag) = (it.next()?, it.next()?);
            Some(CopyJob {
                source_repo: repo.into(),
                source_ref: tag.into(),
                source: source.clone(),
                dest_repo: format!("{prefix}{repo}"),
                dest_tag: Some(tag.into()),
                label: format!("{src}/{repo}:{tag}"),
            })
        })
        .collect();
    let opts = CopyOptions {
        parallel_blobs: parallel,
        ..CopyOptions::default()
    };
    let report = copy_images(Arc::new(client.registry(&dst)), jobs, &opts).await;
    for r in report.failed() {
        eprintln!("FAILED {}: {}", r.label, r.outcome.as_ref().unwrap_err());
    }
    println!(
        "{} images, {} blobs / {} bytes copied, {} skipped ({} mounted), {} manifests in {:.2?}",
        report.results.len(),
        report.blobs_copied,
        report.bytes_copied,
        report.blobs_skipped,
        report.blobs_mounted,
        report.manifests_pushed,
        report.elapsed
    );
    if !report.all_ok() {
        std::process::exit(1);
    }
}
