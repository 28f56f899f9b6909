//! Credentials workflow for the CLI and the desktop app: import a pull secret, add/edit/remove
//! mirror-registry logins, per-registry trust (CA bundle, skip-verify, plain HTTP), export a
//! merged auth.json, test a login against the registry, and the credential resolver + TLS
//! policies every engine run should use.
//!
//! Secrets live in the OS keyring (`ferry_auth::keystore`); the index in
//! `$XDG_CONFIG_HOME/ferry/credentials.json` holds only registry names, user names and trust.

use ferry_auth::{AuthFileResolver, CredentialResolver, ResolvedCredential};
use ferry_registry::{ClientOptions, RegistryClient, TlsPolicy};
use ferry_types::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use ferry_auth::{
    init_keyring, normalize_key, validate_key, Credential, CredentialKind, CredentialStore, CredentialSummary,
    EntryOrigin, ImportReport, KeyringBackend, RegistryTrust, Secret,
};

/// Where the store lives and what it holds (no secrets): the credentials screen / `ferry auth list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CredentialsView {
    /// Which OS store holds the secrets (`None` if no keyring was needed yet).
    pub keyring: Option<String>,
    pub index_path: PathBuf,
    pub entries: Vec<CredentialSummary>,
    pub trust: BTreeMap<String, RegistryTrust>,
}

/// The store in the default config folder (`$FERRY_CONFIG_DIR`, `$XDG_CONFIG_HOME/ferry`, ...).
pub fn open_store() -> Result<CredentialStore> {
    CredentialStore::open_default()
}

/// The keyring store in use, choosing it now if needed (`FERRY_KEYRING` overrides).
pub fn keyring() -> Result<KeyringBackend> {
    ferry_auth::init_keyring(None)
}

pub fn list(store: &CredentialStore) -> CredentialsView {
    CredentialsView {
        keyring: ferry_auth::active_backend().map(|b| b.describe().to_string()),
        index_path: store.index_path(),
        entries: store.list(),
        trust: store.trust_map().clone(),
    }
}

/// Import a pull secret given as text (pasted) or read from a file (`origin` names it in errors).
pub fn import_pull_secret(store: &mut CredentialStore, text: &str, origin: &str) -> Result<ImportReport> {
    keyring()?;
    store.import_pull_secret(text, origin)
}

/// Save (add or edit) a mirror-registry login, optionally with trust settings for its host.
pub fn save_login(
    store: &mut CredentialStore,
    key: &str,
    username: &str,
    password: Secret,
    trust: Option<RegistryTrust>,
) -> Result<CredentialSummary> {
    keyring()?;
    let s = store.set_login(key, username, password)?;
    if let Some(t) = trust {
        store.set_trust(host_of(&s.key), t)?;
    }
    Ok(s)
}

/// Remove a login (keyring secret and index entry); `false` if nothing was stored.
pub fn remove_login(store: &mut CredentialStore, key: &str) -> Result<bool> {
    keyring()?;
    store.remove(key)
}

/// Write the merged credential set as auth.json (mode 0600) for `oc`/`podman`/`oc-mirror`.
/// Default path: `<config dir>/auth.json`. Returns the absolute path and the registry count.
pub fn export_auth_json(store: &CredentialStore, path: Option<&Path>) -> Result<(PathBuf, usize)> {
    keyring()?;
    let path = match path {
        Some(p) => std::path::absolute(p).map_err(|e| Error::io(p.display(), e))?,
        None => store
            .index_path()
            .parent()
            .map(|d| d.join("auth.json"))
            .unwrap_or_else(|| PathBuf::from("auth.json")),
    };
    let n = store.export_auth_json(&path)?;
    Ok((path, n))
}

/// `host[:port]` of a `host[:port][/namespace]` key.
pub fn host_of(key: &str) -> &str {
    key.split_once('/').map(|(h, _)| h).unwrap_or(key)
}

/// The credential resolver for an engine run: an explicit `--authfile` first for the hosts it
/// covers (named for this run, it wins over stored logins), then Ferry's keyring set (only
/// touched when the index lists something, so runs on machines without a keyring keep
/// working), then the other auth files (`REGISTRY_AUTH_FILE`, containers, docker) with their
/// helpers. A keyring that is not usable, or an entry whose secret vanished, never fails a run
/// by itself: only a registry that then has no credential does (its 401 names the reason).
pub fn run_resolver(store: &CredentialStore, authfile: Option<&Path>) -> Result<Arc<dyn CredentialResolver>> {
    if let Some(explicit) = authfile {
        if !explicit.is_file() {
            return Err(Error::NotFound {
                what: format!("auth file {}", explicit.display()),
                hint: Some("check the --authfile path".into()),
            });
        }
    }
    if store.list().is_empty() {
        let paths = AuthFileResolver::default_paths(authfile);
        return Ok(Arc::new(AuthFileResolver::load(&paths).map_err(Error::InvalidConfig)?));
    }
    let explicit = match authfile {
        Some(p) => Some(AuthFileResolver::load(&[p.to_path_buf()]).map_err(Error::InvalidConfig)?),
        None => None,
    };
    let files = AuthFileResolver::load(&AuthFileResolver::default_paths(None)).map_err(Error::InvalidConfig)?;
    if let Err(e) = keyring() {
        tracing::warn!(
            "the {} stored credentials are not used in this run: {e}",
            store.list().len()
        );
        let mut paths: Vec<std::path::PathBuf> = authfile.map(Path::to_path_buf).into_iter().collect();
        paths.extend(AuthFileResolver::default_paths(None));
        return Ok(Arc::new(AuthFileResolver::load(&paths).map_err(Error::InvalidConfig)?));
    }
    Ok(Arc::new(store.merged_resolver(explicit, files)?))
}

/// The store's per-registry trust as the registry client's policies. Logs the skip-verify /
/// plain-HTTP warning for each such registry (every run shows it, not just the first).
pub fn tls_policies(store: &CredentialStore) -> HashMap<String, TlsPolicy> {
    store
        .trust_map()
        .iter()
        .map(|(host, t)| {
            if let Some(w) = t.warning(host) {
                tracing::warn!("{w}");
            }
            (host.clone(), to_policy(t))
        })
        .collect()
}

/// Add the store's trust settings to `opts`. A stored setting adds to what the run's flags say
/// for that host (the union: a flag can weaken trust for one run, and a run's `--ca-bundle`
/// is trusted together with the registry's stored CA, never instead of it), so a stored CA or
/// skip-verify is honoured by every run.
pub fn apply_trust(store: &CredentialStore, opts: &mut ClientOptions) -> Result<()> {
    let dir = store.index_path().parent().map(Path::to_path_buf).unwrap_or_default();
    for (host, stored) in tls_policies(store) {
        let base = opts
            .per_registry
            .get(&host)
            .cloned()
            .unwrap_or_else(|| opts.default_tls.clone());
        opts.per_registry.insert(host, merge_policy(&base, &stored, &dir)?);
    }
    Ok(())
}

/// [`apply_trust`] for a run with a destination: the destination's stored trust is merged with
/// the `--dest-*` policy, never with the `--source-*` flags held in `opts.default_tls`.
pub fn apply_trust_with_dest(
    store: &CredentialStore,
    opts: &mut ClientOptions,
    dest: Option<(&str, &TlsPolicy)>,
) -> Result<()> {
    if let Some((host, policy)) = dest {
        opts.per_registry
            .entry(host.to_string())
            .or_insert_with(|| policy.clone());
    }
    apply_trust(store, opts)
}

/// `dir` is the store's folder: when the run and the store each name a CA bundle, both are
/// trusted through one combined file kept there (`trust/ca-<hash>.pem`, private, named by its
/// content so runs reuse it) because the client takes one bundle per host.
fn merge_policy(flags: &TlsPolicy, stored: &TlsPolicy, dir: &Path) -> Result<TlsPolicy> {
    let ca_bundle = match (&flags.ca_bundle, &stored.ca_bundle) {
        (Some(a), Some(b)) if a != b => Some(combined_bundle(dir, &[a, b])?),
        (a, b) => a.clone().or_else(|| b.clone()),
    };
    Ok(TlsPolicy {
        skip_verify: flags.skip_verify || stored.skip_verify,
        plain_http: flags.plain_http || stored.plain_http,
        ca_bundle,
    })
}

fn combined_bundle(dir: &Path, files: &[&PathBuf]) -> Result<PathBuf> {
    let mut pem = Vec::new();
    for f in files {
        let mut text = std::fs::read(f).map_err(|e| Error::io(format!("CA bundle {}", f.display()), e))?;
        if !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        pem.extend(text);
    }
    let digest = ferry_types::Digest::of(&pem);
    let path = dir.join("trust").join(format!("ca-{}.pem", &digest.hex()[..16]));
    ferry_auth::write_private_file(&path, &pem)?;
    Ok(path)
}

/// A registry client with this store's credentials (then the auth files) and per-registry trust,
/// otherwise default options: what a run gets when no `--*-tls`/`--*-http` flag is given.
pub fn engine_client(store: &CredentialStore, authfile: Option<&Path>) -> Result<RegistryClient> {
    let mut opts = ClientOptions::default();
    apply_trust(store, &mut opts)?;
    RegistryClient::new(run_resolver(store, authfile)?, opts)
}

fn to_policy(t: &RegistryTrust) -> TlsPolicy {
    TlsPolicy {
        skip_verify: t.skip_verify,
        plain_http: t.plain_http,
        ca_bundle: t.ca_bundle.clone(),
    }
}

/// What a login test found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginOutcome {
    /// The registry accepted the credential, and a push check (when asked) passed.
    Ok,
    /// 401 with the credential: wrong user name or password, or an expired token.
    WrongCredentials,
    /// The registry wants a login and Ferry has none for it.
    NoCredentials,
    /// Logged in, but starting an upload was refused (what oc-mirror probes before pushing).
    NoPushPermission,
    /// TLS failed: the certificate is not trusted (self-signed / private CA), or TLS/HTTP mismatch.
    UntrustedCertificate,
    /// No TCP/HTTP answer: DNS, refused, timeout, proxy.
    Unreachable,
    /// Any other answer (5xx, not a registry, ...).
    Failed,
}

/// The result of [`test_login`], with a message a person can act on.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoginTestReport {
    pub registry: String,
    pub outcome: LoginOutcome,
    pub message: String,
    /// The repository the push check used (`None` when not checked).
    pub push_repository: Option<String>,
    /// Where the credential came from (never the secret).
    pub credential_source: Option<String>,
    /// The skip-verify / plain-HTTP warning, when the registry is used with weakened trust.
    pub warning: Option<String>,
}

/// The repository oc-mirror's push probe would use under `key` (`host/ns` → `ns/oc-mirror`):
/// an upload is started there and cancelled, nothing is written.
pub fn push_probe_repository(key: &str) -> String {
    match key.split_once('/') {
        Some((_, ns)) if !ns.is_empty() => format!("{ns}/oc-mirror"),
        _ => "oc-mirror".to_string(),
    }
}

/// One credential for every repository of one host (the login being tested).
struct SingleCredential {
    host: String,
    credential: Option<ResolvedCredential>,
}

impl CredentialResolver for SingleCredential {
    fn resolve(&self, registry: &str, _repository: &str) -> Option<ResolvedCredential> {
        (ferry_auth::normalize_key(registry) == self.host)
            .then(|| self.credential.clone())
            .flatten()
    }
    fn sources(&self) -> String {
        self.credential
            .as_ref()
            .map(|c| c.source.clone())
            .unwrap_or_else(|| "no credential".into())
    }
}

/// Test a login: `GET /v2/` following the auth challenge with the credential, then (when
/// `check_push`) start and cancel a blob upload in [`push_probe_repository`], as oc-mirror does
/// before pushing. `credential` `None` uses what a run would use (store, then auth files).
/// Never returns `Err` for registry answers: every failure is a [`LoginOutcome`].
pub async fn test_login(
    store: &CredentialStore,
    key: &str,
    credential: Option<Credential>,
    trust: Option<RegistryTrust>,
    check_push: bool,
) -> Result<LoginTestReport> {
    let key = ferry_auth::validate_key(key)?;
    let host = host_of(&key).to_string();
    let repo = push_probe_repository(&key);
    let resolved = match credential {
        Some(c) => Some(ResolvedCredential {
            credential: c,
            source: "the login being tested".into(),
        }),
        None => run_resolver(store, None)?.resolve(&host, &repo),
    };
    let trust = trust.or_else(|| store.trust(&host).cloned()).unwrap_or_default();
    let warning = trust.warning(&host);
    let mut opts = ClientOptions {
        retries: 0,
        connect_timeout: std::time::Duration::from_secs(10),
        read_timeout: std::time::Duration::from_secs(30),
        ..ClientOptions::default()
    };
    opts.per_registry.insert(host.clone(), to_policy(&trust));
    let credential_source = resolved.as_ref().map(|r| r.source.clone());
    let had_credential = resolved.is_some();
    let resolver = Arc::new(SingleCredential {
        host: ferry_auth::normalize_key(&host),
        credential: resolved,
    });
    let client = RegistryClient::new(resolver, opts)?;
    let report = |outcome, message: String, push: bool| LoginTestReport {
        registry: key.clone(),
        outcome,
        message,
        push_repository: push.then(|| repo.clone()),
        credential_source: credential_source.clone(),
        warning: warning.clone(),
    };
    if let Err(e) = client.ping(&host).await {
        let (outcome, msg) = classify(&host, &e, had_credential, false);
        return Ok(report(outcome, msg, false));
    }
    if !check_push {
        return Ok(report(LoginOutcome::Ok, format!("{host}: login accepted"), false));
    }
    match client.check_push_permission(&host, &repo).await {
        Ok(()) => Ok(report(
            LoginOutcome::Ok,
            format!("{host}: login accepted and push permitted (checked on {repo})"),
            true,
        )),
        Err(e) => {
            let (outcome, msg) = classify(&host, &e, had_credential, true);
            Ok(report(outcome, msg, true))
        }
    }
}

fn classify(host: &str, e: &Error, had_credential: bool, pushing: bool) -> (LoginOutcome, String) {
    match e {
        Error::Unauthorized { .. } | Error::Denied { .. } if pushing => (
            LoginOutcome::NoPushPermission,
            format!("{host}: logged in, but the account may not push there: {e}"),
        ),
        Error::Unauthorized { .. } if had_credential => (
            LoginOutcome::WrongCredentials,
            format!("{host}: the registry rejected the user name or password (HTTP 401); check them and log in again"),
        ),
        Error::Unauthorized { .. } => (
            LoginOutcome::NoCredentials,
            format!("{host}: the registry requires a login and Ferry has none for it: run `ferry login {host}`"),
        ),
        Error::Tls { detail, .. } => (
            LoginOutcome::UntrustedCertificate,
            format!(
                "{host}: TLS failed ({detail}); trust its CA with `ferry login {host} --ca-bundle CA.pem` (or \
                 --skip-tls-verify for a test registry)"
            ),
        ),
        Error::Unreachable { detail, .. } => (
            LoginOutcome::Unreachable,
            format!("{host}: cannot connect ({detail}); check the host name, port, proxy and firewall"),
        ),
        other => (LoginOutcome::Failed, format!("{host}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_trust_merges_with_run_flags() {
        let stored = TlsPolicy {
            skip_verify: false,
            plain_http: false,
            ca_bundle: Some(PathBuf::from("/ca/mirror.pem")),
        };
        let dir = tempfile_dir("merge");
        let none = TlsPolicy::default();
        assert_eq!(merge_policy(&none, &stored, &dir).unwrap(), stored);
        let flags = TlsPolicy {
            skip_verify: true,
            ..Default::default()
        };
        let m = merge_policy(&flags, &stored, &dir).unwrap();
        assert!(m.skip_verify);
        assert_eq!(m.ca_bundle, stored.ca_bundle);
        // A run's CA adds to the stored one: both end up in one private combined bundle.
        let (flag_ca, stored_ca) = (dir.join("flag.pem"), dir.join("stored.pem"));
        std::fs::write(&flag_ca, "-----BEGIN CERTIFICATE-----\nFLAG\n-----END CERTIFICATE-----").unwrap();
        std::fs::write(
            &stored_ca,
            "-----BEGIN CERTIFICATE-----\nSTORED\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let m = merge_policy(
            &TlsPolicy {
                ca_bundle: Some(flag_ca),
                ..Default::default()
            },
            &TlsPolicy {
                ca_bundle: Some(stored_ca),
                ..Default::default()
            },
            &dir,
        )
        .unwrap();
        let combined = m.ca_bundle.unwrap();
        assert!(combined.starts_with(dir.join("trust")), "{}", combined.display());
        let text = std::fs::read_to_string(&combined).unwrap();
        assert!(
            text.contains("FLAG\n-----END CERTIFICATE-----\n-----BEGIN") && text.contains("STORED"),
            "{text}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&combined).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn destination_trust_ignores_source_flags() {
        ferry_auth::init_keyring(Some(KeyringBackend::Mock)).unwrap();
        let dir = tempfile_dir("dest");
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
        let mut store = CredentialStore::open(&dir).unwrap();
        let trust = RegistryTrust {
            ca_bundle: Some(ca.clone()),
            ..Default::default()
        };
        store.set_trust("dest.example:5000", trust.clone()).unwrap();
        store.set_trust("src.example", trust).unwrap();
        let mut opts = ClientOptions {
            default_tls: TlsPolicy {
                plain_http: true,
                ..Default::default()
            },
            ..ClientOptions::default()
        };
        apply_trust_with_dest(&store, &mut opts, Some(("dest.example:5000", &TlsPolicy::default()))).unwrap();
        let d = &opts.per_registry["dest.example:5000"];
        assert!(!d.plain_http, "--source-use-http must not reach the destination");
        assert_eq!(d.ca_bundle.as_deref(), Some(ca.as_path()));
        let s = &opts.per_registry["src.example"];
        assert!(s.plain_http && s.ca_bundle.is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir(what: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ferry-cred-test-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn probe_repository_and_host() {
        assert_eq!(push_probe_repository("mirror.example:8443"), "oc-mirror");
        assert_eq!(push_probe_repository("mirror.example:8443/ocp/4"), "ocp/4/oc-mirror");
        assert_eq!(host_of("mirror.example:8443/ocp"), "mirror.example:8443");
    }
}
