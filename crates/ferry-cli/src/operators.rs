//! `ferry list operators`, as oc-mirror: `--catalogs --version 4.x` (the Red Hat index names),
//! `--catalog C` (packages with their default channel), `--catalog C --package P` (channels
//! with their heads and versions).

use clap::Args;
use ferry_api::registry::RegistrySettings;
use std::path::PathBuf;

#[derive(Args)]
pub struct ListOperatorsArgs {
    /// List the Red Hat catalog images for --version.
    #[arg(long)]
    catalogs: bool,
    /// OpenShift minor version for --catalogs (e.g. 4.14).
    #[arg(long)]
    version: Option<String>,
    /// Catalog image to read.
    #[arg(long)]
    catalog: Option<String>,
    /// Package of --catalog whose channels to list.
    #[arg(long, requires = "catalog")]
    package: Option<String>,
    #[arg(long)]
    authfile: Option<PathBuf>,
    #[arg(long)]
    source_skip_tls: bool,
    #[arg(long)]
    source_use_http: bool,
    #[arg(long)]
    ca_bundle: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
}

pub async fn list_operators(a: ListOperatorsArgs) -> anyhow::Result<()> {
    if a.catalogs {
        let v = a
            .version
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("--catalogs needs --version X.Y (e.g. --version 4.14)"))?;
        let list = ferry_api::operators::redhat_catalogs(v)?;
        if a.json {
            println!("{}", serde_json::to_string_pretty(&list)?);
        } else {
            println!("Available OpenShift OperatorHub catalogs:\nOpenShift {v}:");
            for c in list {
                println!("{c}");
            }
        }
        return Ok(());
    }
    let Some(catalog) = a.catalog.as_deref() else {
        anyhow::bail!("give --catalog IMAGE (optionally with --package NAME), or --catalogs --version X.Y");
    };
    let settings = RegistrySettings {
        authfile: a.authfile.clone(),
        source_skip_tls: a.source_skip_tls,
        source_use_http: a.source_use_http,
        ca_bundle: a.ca_bundle.clone(),
        ..Default::default()
    };
    let (pkgs, chans) = ferry_api::operators::list_operators(&settings, catalog, a.package.as_deref()).await?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"packages": pkgs, "channels": chans}))?
        );
        return Ok(());
    }
    let w = pkgs.iter().map(|p| p.name.len()).max().unwrap_or(4).max(4);
    println!("{:<w$}  DEFAULT CHANNEL", "NAME");
    for p in &pkgs {
        println!("{:<w$}  {}", p.name, p.default_channel);
    }
    if let Some(pkg) = a.package.as_deref() {
        let cw = chans.iter().map(|c| c.name.len()).max().unwrap_or(7).max(7);
        let hw = chans.iter().map(|c| c.head.len()).max().unwrap_or(4).max(4);
        println!();
        println!(
            "{:<pw$}  {:<cw$}  {:<hw$}  VERSIONS",
            "PACKAGE",
            "CHANNEL",
            "HEAD",
            pw = pkg.len().max(7)
        );
        for c in &chans {
            println!(
                "{:<pw$}  {:<cw$}  {:<hw$}  {}",
                pkg,
                c.name,
                c.head,
                c.versions.join(", "),
                pw = pkg.len().max(7)
            );
        }
    }
    Ok(())
}
