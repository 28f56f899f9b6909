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
