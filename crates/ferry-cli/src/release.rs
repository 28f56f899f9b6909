//! `ferry list releases`: channels and releases from the update service (OCP or OKD).

use clap::Args;
use ferry_api::registry::RegistrySettings;
use std::path::PathBuf;

#[derive(Args)]
pub struct ListReleasesArgs {
    /// List the channels that carry releases of --version (X.Y) instead of releases.
    #[arg(long)]
    channels: bool,
    /// The channel whose releases to list, e.g. stable-4.14.
    #[arg(long)]
    channel: Option<String>,
    /// Minor version X.Y: with --channel only that minor's releases; with --channels required.
    #[arg(long)]
    version: Option<String>,
    /// Architecture: amd64, arm64, ppc64le, s390x or multi.
    #[arg(long, default_value = "amd64")]
    arch: String,
    /// Ask the OKD update service instead of OpenShift's (UPDATE_URL_OVERRIDE replaces both).
    #[arg(long)]
    okd: bool,
    /// Extra CA certificates (PEM) to trust for the update service.
    #[arg(long)]
    ca_bundle: Option<PathBuf>,
    /// Do not verify the update service's TLS certificate.
    #[arg(long)]
    skip_tls: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
}

pub async fn list_releases(a: ListReleasesArgs) -> anyhow::Result<()> {
    let settings = RegistrySettings {
        ca_bundle: a.ca_bundle.clone(),
        source_skip_tls: a.skip_tls,
        ..Default::default()
    };
    if a.channels {
        let version = a
            .version
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("--channels needs --version X.Y (e.g. --version 4.14)"))?;
        let chans = ferry_api::release::list_channels(&settings, a.okd, version, &a.arch).await?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&chans)?);
        } else {
            println!("Channels with {version} releases ({}):", a.arch);
            for c in chans {
                println!("{c}");
            }
        }
        return Ok(());
    }
    let Some(channel) = a.channel.as_deref() else {
        anyhow::bail!("give --channel NAME (e.g. --channel stable-4.14) or --channels --version X.Y");
    };
    let list = ferry_api::release::list_channel(&settings, a.okd, channel, &a.arch, a.version.as_deref()).await?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    println!("Channel: {channel}  Architecture: {}", a.arch);
    for r in &list {
        println!("{}", r.version);
        for risk in &r.risks {
            println!("    conditional update to {risk}");
        }
    }
    Ok(())
}

/// Release switches of `ferry mirror` (flattened into its flags).
#[derive(Args, Default)]
pub struct ReleaseFlags {
    /// Also follow conditional update edges (updates with known risks) when a channel uses
    /// shortestPath or the channels are chained. Off by default, as in oc-mirror; the plan lists
    /// the risks it skipped.
    #[arg(long)]
    include_conditional_edges: bool,
    /// The base image of the graph-data image (`graph: true`); default
    /// registry.access.redhat.com/ubi9/ubi:latest (or FERRY_GRAPH_BASE_IMAGE).
    #[arg(long)]
    graph_base_image: Option<String>,
}

impl ReleaseFlags {
    pub fn apply(&self, r: &mut ferry_api::release::ReleaseOptions) {
        r.include_conditional_edges = self.include_conditional_edges;
        if self.graph_base_image.is_some() {
            r.graph_base_image = self.graph_base_image.clone();
        }
    }
}

#[derive(Args)]
pub struct ReleaseArgs {
    #[command(subcommand)]
    what: ReleaseCommand,
}

#[derive(clap::Subcommand)]
enum ReleaseCommand {
    /// Mirror one release by pull spec (as `oc adm release mirror`): its release image and
    /// components, the signature ConfigMap and the ICSP/IDMS. To docker://REGISTRY/NAMESPACE,
    /// or to file://DIR for removable media (import it with `ferry mirror --from DIR`).
    Mirror(ReleaseMirrorArgs),
}

#[derive(Args)]
pub struct ReleaseMirrorArgs {
    /// The release image, e.g. quay.io/openshift-release-dev/ocp-release:4.11.0-x86_64.
    #[arg(long)]
    from: String,
    /// docker://REGISTRY[/NAMESPACE] or file://DIR.
    destination: String,
    /// Workspace folder (results-<epoch>/ for a registry destination).
    #[arg(long = "dir", default_value = "oc-mirror-workspace")]
    dir: PathBuf,
    /// Plan only: mapping.txt, nothing copied.
    #[arg(long)]
    dry_run: bool,
    /// Mirror it even if its signature does not verify (a loud warning; clusters that verify
    /// signatures will refuse it).
    #[arg(long)]
    skip_verification: bool,
    #[arg(long, env = "FERRY_AUTHFILE")]
    authfile: Option<PathBuf>,
    #[arg(long)]
    ca_bundle: Option<PathBuf>,
    #[arg(long)]
    source_skip_tls: bool,
    #[arg(long)]
    dest_skip_tls: bool,
    #[arg(long)]
    source_use_http: bool,
    #[arg(long)]
    dest_use_http: bool,
    #[arg(long, default_value_t = 6)]
    max_per_registry: usize,
}

pub async fn release(a: ReleaseArgs) -> anyhow::Result<()> {
    let ReleaseCommand::Mirror(a) = a.what;
    let destination =
        ferry_api::Destination::parse(&a.destination).map_err(|e| anyhow::anyhow!("{}: {}", e.input, e.reason))?;
    let opts = ferry_api::mirror::MirrorOptions {
        registry: RegistrySettings {
            authfile: a.authfile.clone(),
            source_skip_tls: a.source_skip_tls,
            source_use_http: a.source_use_http,
            dest_skip_tls: a.dest_skip_tls,
            dest_use_http: a.dest_use_http,
            ca_bundle: a.ca_bundle.clone(),
            max_per_registry: a.max_per_registry,
            ..Default::default()
        },
        workspace: a.dir.clone(),
        dry_run: a.dry_run,
        ..Default::default()
    };
    let ropts = ferry_api::release::ReleaseOptions {
        skip_verification: a.skip_verification,
        ..Default::default()
    };
    let ui = crate::progress::ProgressUi::new();
    let report = ferry_api::release_single::release_mirror(
        &a.from,
        &destination,
        ropts,
        &opts,
        ferry_api::app_progress::redacting(ui.sink()),
        ferry_api::CancellationToken::new(),
    )
    .await;
    ui.finish();
    match report? {
        ferry_api::release_single::SingleReport::Registry(r) => {
            for n in &r.plan.notes {
                eprintln!("note: {n}");
            }
            for rel in &r.plan.releases {
                println!(
                    "release {} ({}) {}: {} components",
                    rel.version, rel.arch, rel.source, rel.components
                );
            }
            if a.dry_run {
                println!(
                    "dry run: {} images planned; mapping written to {}",
                    r.plan.images.len(),
                    r.mapping_file.display()
                );
            } else {
                println!(
                    "mirrored {} images ({} already up to date), {} copied; results (signature ConfigMap, ICSP/IDMS) in {}",
                    r.images_copied,
                    r.images_up_to_date,
                    crate::progress::human_bytes(r.bytes_copied),
                    r.results_dir.display()
                );
                crate::disk::print_apply_for_dir(&r.results_dir);
            }
            Ok(())
        }
        ferry_api::release_single::SingleReport::Disk(r) => crate::disk::print_disk_report(&r),
    }
}
