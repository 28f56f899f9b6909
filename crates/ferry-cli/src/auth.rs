//! `ferry login`, `ferry logout` and `ferry auth import|list|test|export|trust`.
//!
//! Wiring in main.rs: add `#[command(flatten)] Auth(auth::AuthCommands),` to the subcommand enum
//! and `Command::Auth(c) => auth::run(c).await,` to the match.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use ferry_api::credentials::{self, LoginOutcome, RegistryTrust, Secret};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::PathBuf;

/// The credential commands, flattened into ferry's top-level commands.
#[derive(Subcommand, Debug)]
pub enum AuthCommands {
    /// Save a login for a mirror registry (host[:port][/namespace]) in the OS keyring, after testing it.
    Login(LoginArgs),
    /// Forget the login for a registry (keyring secret and index entry).
    Logout(LogoutArgs),
    /// Pull secrets, stored logins, login tests, auth.json export and registry trust.
    #[command(subcommand)]
    Auth(AuthCommand),
}

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Registry: host[:port][/namespace] (a namespace login applies to repositories under it).
    pub registry: String,
    /// User name (asked for when missing and stdin is a terminal).
    #[arg(short, long)]
    pub username: Option<String>,
    /// Read the password from standard input (one line) instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
    /// PEM file of CA certificates to trust for this registry.
    #[arg(long)]
    pub ca_bundle: Option<PathBuf>,
    /// Do not verify this registry's TLS certificate (a warning is shown on every use).
    #[arg(long)]
    pub skip_tls_verify: bool,
    /// Talk plain HTTP to this registry.
    #[arg(long)]
    pub plain_http: bool,
    /// Save without testing the login first.
    #[arg(long)]
    pub no_test: bool,
    /// Also check push permission (as oc-mirror does before pushing) while testing.
    #[arg(long)]
    pub check_push: bool,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Registry: host[:port][/namespace], as given to `ferry login`.
    pub registry: String,
}

#[derive(Subcommand, Debug)]
pub enum AuthCommand {
    /// Import a pull secret (docker config.json form) from FILE, or from stdin with `-` or no FILE.
    Import { file: Option<PathBuf> },
    /// Show the stored registries, user names, trust settings and keyring in use; never passwords.
    List {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Test the stored login for a registry: ping /v2/ with the credential, then a push check.
    Test {
        registry: String,
        /// Skip the push-permission probe (for pull-only registries such as registry.redhat.io).
        #[arg(long)]
        pull_only: bool,
    },
    /// Write every stored credential as an auth.json (mode 0600) for oc, podman or oc-mirror.
    Export {
        /// Output file (default: auth.json in Ferry's config folder).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Set how to reach a registry host: CA bundle, skip verification, plain HTTP (or --clear).
    Trust {
        host: String,
        #[arg(long)]
        ca_bundle: Option<PathBuf>,
        #[arg(long)]
        skip_tls_verify: bool,
        #[arg(long)]
        plain_http: bool,
        /// Back to the default (system CAs, verified TLS).
        #[arg(long, conflicts_with_all = ["ca_bundle", "skip_tls_verify", "plain_http"])]
        clear: bool,
    },
}

pub async fn run(cmd: AuthCommands) -> anyhow::Result<()> {
    match cmd {
        AuthCommands::Login(a) => login(a).await,
        AuthCommands::Logout(a) => logout(a),
        AuthCommands::Auth(c) => auth(c).await,
    }
}

fn trust_from(ca_bundle: Option<PathBuf>, skip_verify: bool, plain_http: bool) -> RegistryTrust {
    RegistryTrust {
        ca_bundle,
        skip_verify,
        plain_http,
    }
}

/// Read one line from stdin; on a terminal, with echo off (so the password is not shown).
fn read_secret_line(prompt: &str) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    if tty {
        eprint!("{prompt}");
        std::io::stderr().flush().ok();
        set_echo(false);
    }
    let mut line = String::new();
    let r = stdin.lock().read_line(&mut line);
    if tty {
        set_echo(true);
        eprintln!();
    }
    r.context("reading the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn set_echo(on: bool) {
    #[cfg(unix)]
    {
        let _ = std::process::Command::new("stty")
            .arg(if on { "echo" } else { "-echo" })
            .stdin(std::process::Stdio::inherit())
            .status();
    }
    #[cfg(not(unix))]
    let _ = on;
}

pub async fn login(a: LoginArgs) -> anyhow::Result<()> {
    let key = ferry_auth_key(&a.registry)?;
    let username = match a.username {
        Some(u) => u,
        None if std::io::stdin().is_terminal() && !a.password_stdin => {
            eprint!("Username for {key}: ");
            std::io::stderr().flush().ok();
            let mut u = String::new();
            std::io::stdin().lock().read_line(&mut u)?;
            u.trim().to_string()
        }
        None => anyhow::bail!("{key}: give the user name with --username"),
    };
    let password = if a.password_stdin || !std::io::stdin().is_terminal() {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from stdin")?;
        s.trim_end_matches(['\r', '\n']).to_string()
    } else {
        read_secret_line(&format!("Password for {username}@{key}: "))?
    };
    let password = Secret::new(password);
    let trust = trust_from(a.ca_bundle, a.skip_tls_verify, a.plain_http);
    let mut store = credentials::open_store()?;
    if let Some(w) = trust.warning(credentials::host_of(&key)) {
        eprintln!("{w}");
    }
    if !a.no_test {
        let cred = credentials::Credential::Basic {
            username: username.clone(),
            password: password.clone(),
        };
        let r = credentials::test_login(&store, &key, Some(cred), Some(trust.clone()), a.check_push).await?;
        if r.outcome != LoginOutcome::Ok {
            anyhow::bail!("{} (nothing saved; use --no-test to save anyway)", r.message);
        }
        println!("{}", r.message);
    }
    let has_trust = !trust.is_default();
    let s = credentials::save_login(&mut store, &key, &username, password, has_trust.then_some(trust))?;
    let backend = ferry_api::credentials::keyring()?;
    println!(
        "Saved login {} for {} in the {}; index: {}",
        s.username.as_deref().unwrap_or("-"),
        s.key,
        backend.describe(),
        store.index_path().display()
    );
    Ok(())
}

fn ferry_auth_key(raw: &str) -> anyhow::Result<String> {
    Ok(ferry_api::credentials::validate_key(raw)?)
}

pub fn logout(a: LogoutArgs) -> anyhow::Result<()> {
    let mut store = credentials::open_store()?;
    if credentials::remove_login(&mut store, &a.registry)? {
        println!(
            "Removed the login for {}",
            ferry_api::credentials::normalize_key(&a.registry)
        );
    } else {
        println!(
            "No login stored for {}",
            ferry_api::credentials::normalize_key(&a.registry)
        );
    }
    Ok(())
}

pub async fn auth(c: AuthCommand) -> anyhow::Result<()> {
    let mut store = credentials::open_store()?;
    match c {
        AuthCommand::Import { file } => {
            let (text, origin) = match file.as_deref() {
                Some(p) if p.as_os_str() != "-" => (
                    std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
                    p.display().to_string(),
                ),
                _ => {
                    if std::io::stdin().is_terminal() {
                        eprintln!("Paste the pull secret, then press Ctrl-D:");
                    }
                    let mut s = String::new();
                    std::io::stdin().read_to_string(&mut s)?;
                    (s, "pasted pull secret".to_string())
                }
            };
            let rep = credentials::import_pull_secret(&mut store, &text, &origin)?;
            let backend = credentials::keyring()?;
            println!(
                "Imported {} registries into the {}:",
                rep.imported.len(),
                backend.describe()
            );
            for s in &rep.imported {
                println!(
                    "  {:<40} {}",
                    s.key,
                    s.username.as_deref().unwrap_or("(identity token)")
                );
            }
            for s in &rep.skipped {
                println!("  skipped {s}");
            }
            println!("Index (no secrets): {}", store.index_path().display());
        }
        AuthCommand::List { json } => {
            let mut view = credentials::list(&store);
            if !view.entries.is_empty() && view.keyring.is_none() {
                view.keyring = credentials::keyring().ok().map(|b| b.describe().to_string());
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
                return Ok(());
            }
            println!(
                "Keyring: {}",
                view.keyring.as_deref().unwrap_or("(not opened: nothing stored)")
            );
            println!("Index:   {}", view.index_path.display());
            if view.entries.is_empty() {
                println!("No credentials stored. Import a pull secret with `ferry auth import FILE`.");
            }
            for s in &view.entries {
                let kind = match s.kind {
                    credentials::CredentialKind::Basic => "password",
                    credentials::CredentialKind::IdentityToken => "identity token",
                };
                let origin = match s.origin {
                    credentials::EntryOrigin::PullSecret => "pull secret",
                    credentials::EntryOrigin::Mirror => "mirror login",
                };
                println!(
                    "  {:<40} {:<24} {:<15} {}",
                    s.key,
                    s.username.as_deref().unwrap_or("-"),
                    kind,
                    origin
                );
            }
            for (host, t) in &view.trust {
                let mut what = Vec::new();
                if let Some(ca) = &t.ca_bundle {
                    what.push(format!("CA bundle {}", ca.display()));
                }
                if t.skip_verify {
                    what.push("TLS verification OFF".into());
                }
                if t.plain_http {
                    what.push("plain HTTP".into());
                }
                println!("  trust {host}: {}", what.join(", "));
            }
        }
        AuthCommand::Test { registry, pull_only } => {
            let r = credentials::test_login(&store, &registry, None, None, !pull_only).await?;
            if let Some(w) = &r.warning {
                eprintln!("{w}");
            }
            if let Some(src) = &r.credential_source {
                eprintln!("credential from: {src}");
            }
            if r.outcome == LoginOutcome::Ok {
                println!("{}", r.message);
            } else {
                anyhow::bail!("{}", r.message);
            }
        }
        AuthCommand::Export { output } => {
            let (path, n) = credentials::export_auth_json(&store, output.as_deref())?;
            println!(
                "Wrote {n} registries to {} (mode 0600). Use it with: oc-mirror --authfile / podman --authfile / \
                 REGISTRY_AUTH_FILE={}",
                path.display(),
                path.display()
            );
        }
        AuthCommand::Trust {
            host,
            ca_bundle,
            skip_tls_verify,
            plain_http,
            clear,
        } => {
            let t = if clear {
                RegistryTrust::default()
            } else {
                trust_from(ca_bundle, skip_tls_verify, plain_http)
            };
            if let Some(w) = t.warning(&host) {
                eprintln!("{w}");
            }
            store.set_trust(&host, t)?;
            println!("Trust settings for {host} saved in {}", store.index_path().display());
        }
    }
    Ok(())
}
