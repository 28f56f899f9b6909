//! `ferry`: the command line over the engine facade, compatible with `oc-mirror` v1's commands
//! and flags where they apply.

mod auth;
mod disk;
mod operators;
mod progress;
mod release;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use ferry_api::run_options::{RunOptions, Workflow};
use ferry_api::{CancellationToken, Destination};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "ferry",
    version,
    about = "Mirror OpenShift content across an air gap (oc-mirror compatible)"
)]
struct Cli {
    /// More log output: -v debug, -vv trace; oc-mirror's numeric form `-v N` / `--verbose N`
    /// works too (1 debug, 2 and up trace). Secrets and URL query strings are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mirror an image set: to a registry (docker://host[:port][/ns]) or to removable media (file://DIR).
    Mirror(MirrorArgs),
    /// Show what an image set configuration resolves to.
    List(ListArgs),
    /// OpenShift releases by pull spec: `ferry release mirror --from <release image> <destination>`.
    Release(release::ReleaseArgs),
    /// Print an ImageSetConfiguration template.
    Init(InitArgs),
    /// Print the version.
    Version(VersionArgs),
    /// Show what an image set on removable media holds: sequence, uid, images, sizes.
    Describe {
        /// A mirror_seq*.tar file or the folder holding the parts (oc-mirror's archives too).
        path: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Check removable media: every part present and intact, every entry's digest right.
    Verify {
        /// The folder holding the parts (or one tar).
        path: PathBuf,
    },
    #[command(flatten)]
    Auth(auth::AuthCommands),
    /// Print a shell completion script: `ferry completion bash > /etc/bash_completion.d/ferry`.
    Completion { shell: clap_complete::Shell },
}

#[derive(Args)]
struct MirrorArgs {
    /// Destination: docker://host[:port][/namespace] or file://DIR.
    destination: String,
    /// ImageSetConfiguration file.
    #[arg(short = 'c', long)]
    config: Option<PathBuf>,
    /// Import an image set from removable media (a mirror_seq*.tar or the folder of parts).
    #[arg(long)]
    from: Option<PathBuf>,
    /// Fail instead of warning when one blob is larger than archiveSize.
    #[arg(long)]
    strict_archive: bool,
    /// Pack every blob, not only those earlier sequences did not ship; still bumps the sequence.
    #[arg(long)]
    ignore_history: bool,
    /// Import regardless of the sequence the target expects.
    #[arg(long)]
    skip_metadata_check: bool,
    /// Plan and write mapping.txt; copy nothing.
    #[arg(long)]
    dry_run: bool,
    /// Credentials file, consulted before REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json and ~/.docker/config.json.
    #[arg(long, env = "FERRY_AUTHFILE")]
    authfile: Option<PathBuf>,
    /// Extra CA certificates (PEM) to trust for every registry.
    #[arg(long)]
    ca_bundle: Option<PathBuf>,
    /// Do not verify TLS certificates of source registries.
    #[arg(long)]
    source_skip_tls: bool,
    /// Do not verify the destination registry's TLS certificate.
    #[arg(long)]
    dest_skip_tls: bool,
    /// Use plain HTTP for source registries.
    #[arg(long)]
    source_use_http: bool,
    /// Use plain HTTP for the destination registry.
    #[arg(long)]
    dest_use_http: bool,
    /// Concurrent requests per registry.
    #[arg(long, default_value_t = 6)]
    max_per_registry: usize,
    /// Keep going when an image fails; the failures are listed at the end.
    #[arg(long)]
    continue_on_error: bool,
    /// Skip images the source does not have (404) instead of failing.
    #[arg(long)]
    skip_missing: bool,
    /// Mirror OpenShift releases whose signature does not verify (a loud warning per release;
    /// clusters that verify signatures will refuse them). Without it such a release fails the run.
    /// With --from (an import) it also skips the media checksum check, as in oc-mirror.
    #[arg(long)]
    skip_verification: bool,
    /// Workspace folder (results-<epoch>/ and dry-run output go here).
    #[arg(long = "dir", default_value = "oc-mirror-workspace")]
    dir: PathBuf,
    /// With --from: write the results (mapping.txt, ICSP, IDMS, ITMS) for the set's images
    /// under the destination without pushing anything or contacting the registry.
    #[arg(long, requires = "from")]
    manifests_only: bool,
    /// oc-mirror keeps its oc-mirror-workspace/src after packing with this; Ferry has none
    /// (blobs stream straight into the parts), so the flag is refused with that reason.
    #[arg(long)]
    skip_cleanup: bool,
    /// oc-mirror: keep tag references of operator bundle and related images as tags in the
    /// rebuilt catalogs (by default they are pinned to digests).
    #[arg(long)]
    skip_image_pin: bool,
    /// Keep images that are no longer in the image set (Ferry's default; accepted for oc-mirror compatibility).
    #[arg(long)]
    skip_pruning: bool,
    /// Delete from the target the images no longer in the image set (the pruning plan, shown and written to
    /// pruning-plan.json on every run). Without it they are kept.
    #[arg(long, conflicts_with = "skip_pruning")]
    prune: bool,
    #[command(flatten)]
    release: release::ReleaseFlags,
}

#[derive(Args)]
struct ListArgs {
    #[command(subcommand)]
    what: ListWhat,
}

#[derive(Subcommand)]
enum ListWhat {
    /// OpenShift (or OKD) release channels and versions from the update service.
    Releases(release::ListReleasesArgs),
    /// Operator catalogs: Red Hat index names, a catalog's packages, a package's channels.
    Operators(operators::ListOperatorsArgs),
    /// The images a configuration plans (tags resolved to digests), blocked ones marked.
    Images {
        #[arg(short = 'c', long)]
        config: PathBuf,
        #[arg(long)]
        authfile: Option<PathBuf>,
        #[arg(long)]
        source_skip_tls: bool,
        #[arg(long)]
        source_use_http: bool,
        #[arg(long)]
        ca_bundle: Option<PathBuf>,
    },
}

#[derive(Args)]
struct InitArgs {
    /// Keep metadata in a registry image (storageConfig.registry.imageURL).
    #[arg(long, conflicts_with = "local")]
    registry: Option<String>,
    /// Keep metadata in a local directory (storageConfig.local.path).
    #[arg(long)]
    local: Option<String>,
}

#[derive(Args)]
struct VersionArgs {
    /// `json` for machine-readable output.
    #[arg(short, long)]
    output: Option<String>,
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    // Dependencies stay at warn so debug output is about Ferry, not HTTP internals.
    let filter = tracing_subscriber::EnvFilter::try_from_env("FERRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("warn,ferry={default},ferry_cli={default},ferry_api={default},ferry_registry={default},ferry_copy={default},ferry_plan={default},ferry_archive={default},ferry_metadata={default},ferry_auth={default}")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Pre-signed storage URLs in errors and retries lose their query strings on the way out.
        .with_writer(|| ferry_types::redact::RedactingWriter(std::io::stderr()))
        .with_target(false)
        .init();
}

fn load_config(path: &std::path::Path) -> anyhow::Result<ferry_api::config::ImageSetConfiguration> {
    let (mut cfg, warnings) = ferry_api::config::load_with_warnings(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    // Chart paths and valuesFiles are relative to the file's folder, not the working directory.
    ferry_api::helm::resolve_paths(&mut cfg, Some(path)).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    for w in warnings {
        eprintln!("{}:{w}", path.display());
    }
    Ok(cfg)
}

/// The flags as the facade's run options (the app builds the same value from its form; which
/// workflow takes which flag, and what is refused, is decided there).
fn run_options(a: &MirrorArgs) -> RunOptions {
    RunOptions {
        authfile: a.authfile.clone(),
        ca_bundle: a.ca_bundle.clone(),
        source_skip_tls: a.source_skip_tls,
        source_use_http: a.source_use_http,
        dest_skip_tls: a.dest_skip_tls,
        dest_use_http: a.dest_use_http,
        max_per_registry: a.max_per_registry,
        workspace: a.dir.clone(),
        dry_run: a.dry_run,
        continue_on_error: a.continue_on_error,
        skip_missing: a.skip_missing,
        strict_archive: a.strict_archive,
        ignore_history: a.ignore_history,
        skip_metadata_check: a.skip_metadata_check,
        skip_verification: a.skip_verification,
        skip_image_pin: a.skip_image_pin,
        prune: a.prune,
        skip_cleanup: a.skip_cleanup,
    }
}

/// Ctrl-C cancels the run (it can be resumed by running the same command again).
fn cancel_on_ctrl_c() -> CancellationToken {
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: stopping (run the same command again to resume)");
            c.cancel();
        }
    });
    cancel
}

async fn run_mirror(a: MirrorArgs) -> anyhow::Result<()> {
    let destination = Destination::parse(&a.destination).map_err(|e| anyhow::anyhow!("{}: {}", e.input, e.reason))?;
    let ro = run_options(&a);
    let workflow = Workflow::of(&destination, a.from.is_some())?;
    ro.check(workflow)?;
    let cancel = cancel_on_ctrl_c();
    if let Some(from) = a.from.clone() {
        if a.manifests_only {
            let (dir, n) = ferry_api::manifests_only::manifests_only(&from, &destination, &a.dir)?;
            println!(
                "manifests only: results for {n} images written to {} (nothing pushed)",
                dir.display()
            );
            disk::print_apply_for_dir(&dir);
            return Ok(());
        }
        if a.skip_verification {
            eprintln!(
                "warning: --skip-verification: the parts' checksums are not verified before the import (digests are \
                 still checked as the blobs stream)"
            );
        }
        let ui = progress::ProgressUi::new();
        let report = ferry_api::disk::disk_to_mirror(
            &from,
            &destination,
            &ro.disk_options(None),
            ferry_api::app_progress::redacting(ui.sink()),
            cancel,
        )
        .await;
        ui.finish();
        let report = report?;
        print_prune(report.prune.as_ref());
        return disk::print_import_report(&report);
    }
    let config = a.config.as_ref().with_context(|| match workflow {
        Workflow::MirrorToDisk => "mirror-to-disk needs --config FILE",
        _ => "mirror-to-mirror needs --config FILE",
    })?;
    let cfg = load_config(config)?;
    let mut selection = ro.selection(&cfg)?;
    a.release.apply(&mut selection.release);
    let ui = progress::ProgressUi::new();
    match &destination {
        Destination::Registry { .. } => {
            let report = ferry_api::mirror::mirror_to_mirror(
                &selection,
                &destination,
                &ro.mirror_options(Some(&cfg)),
                ferry_api::app_progress::redacting(ui.sink()),
                cancel,
            )
            .await;
            ui.finish();
            print_mirror_report(&report?, a.dry_run);
            Ok(())
        }
        Destination::Disk(dir) => {
            let report = ferry_api::disk::mirror_selection_to_disk(
                &selection,
                &cfg,
                dir,
                &ro.disk_options(Some(&cfg)),
                ferry_api::app_progress::redacting(ui.sink()),
                cancel,
            )
            .await;
            ui.finish();
            disk::print_disk_report(&report?)
        }
    }
}

fn print_mirror_report(report: &ferry_api::mirror::MirrorReport, dry_run: bool) {
    for b in &report.plan.blocked {
        eprintln!("blocked: {} (pattern {:?})", b.image, b.pattern);
    }
    for n in &report.plan.notes {
        eprintln!("note: {n}");
    }
    if dry_run {
        println!(
            "dry run: {} images planned; mapping written to {}",
            report.plan.images.len(),
            report.mapping_file.display()
        );
    } else {
        println!(
            "mirrored {} images ({} already up to date), {} copied in {:.1}s; results in {}",
            report.images_copied,
            report.images_up_to_date,
            progress::human_bytes(report.bytes_copied),
            report.seconds,
            report.results_dir.display()
        );
        disk::print_apply_for_dir(&report.results_dir);
    }
    print_prune(report.prune.as_ref());
}

/// The pruning plan and what became of it (the engine logs the plan before deleting anything).
fn print_prune(report: Option<&ferry_api::prune::PruneReport>) {
    let Some(r) = report else { return };
    let Some(summary) = r.summary() else { return };
    println!("{summary}");
    for line in r.plan.lines() {
        println!("{line}");
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Mirror(a) => run_mirror(a).await,
        Command::Release(r) => release::release(r).await,
        Command::List(ListArgs {
            what: ListWhat::Releases(r),
        }) => release::list_releases(r).await,
        Command::List(ListArgs {
            what: ListWhat::Operators(o),
        }) => operators::list_operators(o).await,
        Command::List(ListArgs {
            what:
                ListWhat::Images {
                    config,
                    authfile,
                    source_skip_tls,
                    source_use_http,
                    ca_bundle,
                },
        }) => {
            let cfg = load_config(&config)?;
            let ro = RunOptions {
                authfile,
                source_skip_tls,
                source_use_http,
                ca_bundle,
                ..Default::default()
            };
            let selection = ro.selection(&cfg)?;
            let opts = ro.mirror_options(None);
            let client = ferry_api::registry::build_client(&opts.registry, None)?;
            let plan = ferry_api::mirror::plan(&selection, &client, &opts).await?;
            for i in &plan.images {
                println!("{}", i.source.exact());
            }
            for b in &plan.blocked {
                println!("# blocked by {:?}: {}", b.pattern, b.image);
            }
            Ok(())
        }
        Command::Init(a) => {
            let storage = match (a.registry, a.local) {
                (Some(r), _) => ferry_api::config::TemplateStorage::Registry(r),
                (None, Some(l)) => ferry_api::config::TemplateStorage::Local(l),
                (None, None) => ferry_api::config::TemplateStorage::None,
            };
            print!("{}", ferry_api::config::template(storage));
            Ok(())
        }
        Command::Describe { path, json } => {
            let d = ferry_api::disk::describe(&path)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&d)?);
                return Ok(());
            }
            println!("image set: {}", d.origin);
            println!(
                "sequence:  {}",
                d.sequence.map(|s| s.to_string()).unwrap_or_else(|| "-".into())
            );
            println!("uid:       {}", d.uid.as_deref().unwrap_or("-"));
            if let Some(single) = d.single_use {
                println!("single use: {single}");
            }
            println!(
                "parts:     {} ({})",
                d.parts.len(),
                progress::human_bytes(d.total_bytes)
            );
            for (name, size) in &d.parts {
                println!("  {name}  {}", progress::human_bytes(*size));
            }
            println!("blobs:     {} ({})", d.blobs, progress::human_bytes(d.blob_bytes));
            println!("images:    {}", d.images.len());
            for i in &d.images {
                let tag = if i.tag.is_empty() {
                    String::new()
                } else {
                    format!(":{}", i.tag)
                };
                println!("  {}{tag}  {}  {:?}", i.path, i.digest, i.kind);
            }
            Ok(())
        }
        Command::Verify { path } => {
            let r = ferry_api::disk::verify(&path)?;
            println!(
                "ok: {} parts, {} entries checked by digest, {} (sequence {}, uid {})",
                r.parts,
                r.entries_checked,
                progress::human_bytes(r.bytes),
                r.sequence.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
                r.uid.as_deref().unwrap_or("-")
            );
            Ok(())
        }
        Command::Auth(c) => auth::run(c).await,
        Command::Completion { .. } => Ok(()),
        Command::Version(v) => {
            if v.output.as_deref() == Some("json") {
                println!(
                    "{}",
                    serde_json::json!({ "version": ferry_api::version(), "name": "ferry" })
                );
            } else {
                println!("ferry {}", ferry_api::version());
            }
            Ok(())
        }
    }
}

/// oc-mirror takes `-v N` / `--verbose N` / `--verbose=N` (a log level); clap's counter takes
/// `-v`/`-vv`. Numeric forms are turned into as many `-v` as the level (at most 2 matter).
fn numeric_verbosity(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        let s = a.to_string_lossy().into_owned();
        let level = if s == "-v" || s == "--verbose" {
            match it.peek().and_then(|n| n.to_str()).and_then(|n| n.parse::<u8>().ok()) {
                Some(n) => {
                    it.next();
                    Some(n)
                }
                None => None,
            }
        } else if let Some(n) = s.strip_prefix("--verbose=").or_else(|| {
            s.strip_prefix("-v")
                .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        }) {
            n.parse::<u8>().ok()
        } else {
            None
        };
        match level {
            Some(0) => {}
            Some(n) => out.push(format!("-{}", "v".repeat(n.min(2) as usize)).into()),
            None => out.push(a),
        }
    }
    out
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(numeric_verbosity(std::env::args_os().collect()));
    if let Command::Completion { shell } = &cli.command {
        use clap::CommandFactory as _;
        clap_complete::generate(*shell, &mut Cli::command(), "ferry", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    init_logging(cli.verbose);
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", ferry_types::redact_query_strings(&format!("{e:#}")));
            ExitCode::from(disk::exit_code(&e))
        }
    }
}
