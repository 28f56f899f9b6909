//! Ferry's own credential set: the imported pull secret plus mirror-registry logins, merged into
//! one set as the seed procedure does by hand. Secrets live in the OS keyring (see
//! [`crate::keystore`]); a non-secret index (registry keys, user names, e-mail, where each entry came
//! from, and per-registry trust settings) lives in `credentials.json` in the config folder.

use crate::files::{normalize_key, parse_auth_json, AuthConfig, AuthFileResolver};
use crate::{keystore, Credential, CredentialResolver, ResolvedCredential, Secret};
use base64::Engine as _;
use ferry_types::{Error, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name of the index inside the config folder.
pub const INDEX_FILE: &str = "credentials.json";

/// Where an entry came from (shown by `ferry auth list`; a later pull-secret import replaces only
/// pull-secret entries for the same registry, never a mirror login the user typed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryOrigin {
    PullSecret,
    Mirror,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialKind {
    Basic,
    IdentityToken,
}

/// What the index knows about one registry credential: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CredentialSummary {
    /// `host[:port][/namespace...]`.
    pub key: String,
    /// `None` for an identity token without a user name.
    pub username: Option<String>,
    pub kind: CredentialKind,
    pub origin: EntryOrigin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// How to reach one registry: extra CA certificates, skip verification, or plain HTTP.
/// The engine's registry client gets these per host (`ferry_api::credentials::tls_policies`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegistryTrust {
    /// PEM file with one or more CA certificates to trust for this registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
    /// Accept any certificate. Every use logs a warning.
    #[serde(default)]
    pub skip_verify: bool,
    /// Talk plain HTTP (no TLS at all).
    #[serde(default)]
    pub plain_http: bool,
}

impl RegistryTrust {
    pub fn is_default(&self) -> bool {
        self == &RegistryTrust::default()
    }

    /// The warning to show whenever this registry is used with weakened trust.
    pub fn warning(&self, host: &str) -> Option<String> {
        if self.plain_http {
            Some(format!(
                "WARNING: {host} is used over plain HTTP: credentials and images cross the network unencrypted"
            ))
        } else if self.skip_verify {
            Some(format!(
                "WARNING: TLS certificate verification is OFF for {host}: anyone on the network path can impersonate it"
            ))
        } else {
            None
        }
    }
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Index {
    #[serde(default = "one")]
    version: u32,
    #[serde(default)]
    entries: BTreeMap<String, CredentialSummary>,
    #[serde(default)]
    trust: BTreeMap<String, RegistryTrust>,
}

fn one() -> u32 {
    1
}

/// The result of an import: what was stored, and what was skipped and why.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    pub imported: Vec<CredentialSummary>,
    /// Entries without `auth`/`identitytoken` (e.g. left by a `credsStore`), by registry key.
    pub skipped: Vec<String>,
}

/// The keyring-backed credential set plus its index file.
#[derive(Debug)]
pub struct CredentialStore {
    dir: PathBuf,
    index: Index,
}

/// The config folder: `$FERRY_CONFIG_DIR`, else `$XDG_CONFIG_HOME/ferry`, else the platform's
/// (`~/.config/ferry`, `~/Library/Application Support/ferry`, `%APPDATA%\ferry`).
pub fn default_config_dir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("FERRY_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("ferry"));
    }
    if cfg!(windows) {
        if let Some(d) = std::env::var_os("APPDATA") {
            return Ok(PathBuf::from(d).join("ferry"));
        }
    }
    let home = std::env::var_os("HOME").ok_or_else(|| {
        Error::InvalidConfig("cannot find the config folder: set HOME, XDG_CONFIG_HOME or FERRY_CONFIG_DIR".into())
    })?;
    if cfg!(target_os = "macos") {
        return Ok(PathBuf::from(home).join("Library/Application Support/ferry"));
    }
    Ok(PathBuf::from(home).join(".config/ferry"))
}

/// Check and normalise a registry key typed by a user: `host[:port][/namespace]`, no scheme
/// needed, no tag or digest.
pub fn validate_key(raw: &str) -> Result<String> {
    let key = normalize_key(raw);
    let bad = |why: &str| {
        Error::InvalidReference(format!(
            "registry {raw:?}: {why}; write it as host[:port][/namespace], e.g. mirror.example.com:8443/ocp"
        ))
    };
    if key.is_empty() {
        return Err(bad("empty"));
    }
    if key.chars().any(|c| c.is_whitespace() || c == '@' || c == '\\') {
        return Err(bad("contains spaces, '@' or '\\'"));
    }
    let (host, path) = key.split_once('/').unwrap_or((&key, ""));
    if host.is_empty() || host.starts_with(':') || host.ends_with(':') {
        return Err(bad("no host name"));
    }
    if let Some((_, port)) = host.rsplit_once(':') {
        if port.parse::<u16>().is_err() && !host.starts_with('[') {
            return Err(bad("the port is not a number"));
        }
    }
    if path.contains(':') {
        return Err(bad("a tag does not belong in a registry login"));
    }
    if path.split('/').any(|s| s.is_empty()) && !path.is_empty() {
        return Err(bad("empty path segment"));
    }
    Ok(key)
}

fn split_credential(c: &Credential) -> (CredentialKind, Option<String>, &Secret) {
    match c {
        Credential::Basic { username, password } => (CredentialKind::Basic, Some(username.clone()), password),
        Credential::IdentityToken(t) => (CredentialKind::IdentityToken, None, t),
    }
}

impl CredentialStore {
    /// Open (or start) the store in `dir`; the keyring store is chosen on first use.
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join(INDEX_FILE);
        let index = match std::fs::read_to_string(&path) {
            Ok(t) => serde_json::from_str::<Index>(&t).map_err(|e| {
                Error::InvalidConfig(format!(
                    "{}: not a valid Ferry credential index ({e}); fix or delete it (secrets stay in the keyring)",
                    path.display()
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index {
                version: 1,
                ..Index::default()
            },
            Err(e) => return Err(Error::io(path.display(), e)),
        };
        Ok(CredentialStore {
            dir: dir.to_path_buf(),
            index,
        })
    }

    /// [`CredentialStore::open`] on [`default_config_dir`].
    pub fn open_default() -> Result<Self> {
        Self::open(&default_config_dir()?)
    }

    pub fn index_path(&self) -> PathBuf {
        self.dir.join(INDEX_FILE)
    }

    /// Every credential, sorted by registry key. Never includes secrets.
    pub fn list(&self) -> Vec<CredentialSummary> {
        self.index.entries.values().cloned().collect()
    }

    pub fn get(&self, key: &str) -> Option<&CredentialSummary> {
        self.index.entries.get(&normalize_key(key))
    }

    /// Import a pull secret (docker config.json form) from text. Each entry replaces an earlier
    /// pull-secret entry for the same registry; a mirror login typed by the user for the same
    /// registry is kept (and reported as skipped).
    pub fn import_pull_secret(&mut self, text: &str, origin: &str) -> Result<ImportReport> {
        let cfg = parse_auth_json(text, origin).map_err(Error::InvalidConfig)?;
        if cfg.entries.is_empty() {
            return Err(Error::InvalidConfig(format!(
                "{origin}: no registry credentials in it (no \"auths\" entry has \"auth\" or \"identitytoken\"){}",
                if cfg.creds_store.is_some() || !cfg.cred_helpers.is_empty() {
                    "; this file delegates to credential helpers: Ferry reads those directly with --authfile"
                } else {
                    ""
                }
            )));
        }
        let mut report = ImportReport {
            skipped: cfg.empty_entries.clone(),
            ..ImportReport::default()
        };
        for e in &cfg.entries {
            if matches!(self.index.entries.get(&e.key), Some(s) if s.origin == EntryOrigin::Mirror) {
                report
                    .skipped
                    .push(format!("{} (kept the mirror-registry login already stored)", e.key));
                continue;
            }
            let s = self.put(&e.key, &e.credential, EntryOrigin::PullSecret, e.email.clone())?;
            report.imported.push(s);
        }
        self.save()?;
        Ok(report)
    }

    /// Import a pull secret file (`-` is not handled here: the caller reads stdin).
    pub fn import_pull_secret_file(&mut self, path: &Path) -> Result<ImportReport> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path.display(), e))?;
        self.import_pull_secret(&text, &path.display().to_string())
    }

    /// Add or change the login for a mirror registry (`host[:port][/namespace]`).
    pub fn set_login(&mut self, key: &str, username: &str, password: Secret) -> Result<CredentialSummary> {
        let key = validate_key(key)?;
        if username.is_empty() || username.contains(':') {
            return Err(Error::InvalidConfig(format!(
                "{key}: the user name must be non-empty and must not contain ':'"
            )));
        }
        if password.is_empty() {
            return Err(Error::InvalidConfig(format!("{key}: the password is empty")));
        }
        let cred = Credential::Basic {
            username: username.to_string(),
            password,
        };
        let s = self.put(&key, &cred, EntryOrigin::Mirror, None)?;
        self.save()?;
        Ok(s)
    }

    fn put(
        &mut self,
        key: &str,
        cred: &Credential,
        origin: EntryOrigin,
        email: Option<String>,
    ) -> Result<CredentialSummary> {
        let (kind, username, secret) = split_credential(cred);
        keystore::set_secret(key, secret)?;
        let s = CredentialSummary {
            key: key.to_string(),
            username,
            kind,
            origin,
            email,
        };
        self.index.entries.insert(key.to_string(), s.clone());
        Ok(s)
    }

    /// Forget a registry's credential (keyring entry and index line). `false` if none was stored.
    pub fn remove(&mut self, key: &str) -> Result<bool> {
        let key = normalize_key(key);
        let had_index = self.index.entries.remove(&key).is_some();
        let had_secret = keystore::delete_secret(&key)?;
        self.save()?;
        Ok(had_index || had_secret)
    }

    /// The trust settings of `host` (exact `host[:port]`), if any were set.
    pub fn trust(&self, host: &str) -> Option<&RegistryTrust> {
        self.index.trust.get(&normalize_key(host))
    }

    /// Every registry with non-default trust settings.
    pub fn trust_map(&self) -> &BTreeMap<String, RegistryTrust> {
        &self.index.trust
    }

    /// Set (or, with the default value, clear) `host`'s trust settings. A CA bundle must exist
    /// and contain a PEM certificate, and is stored as an absolute path.
    pub fn set_trust(&mut self, host: &str, mut trust: RegistryTrust) -> Result<()> {
        let key = validate_key(host)?;
        if key.contains('/') {
            return Err(Error::InvalidConfig(format!(
                "{host}: trust settings apply to a whole registry host[:port], not a namespace"
            )));
        }
        if let Some(ca) = &trust.ca_bundle {
            let abs = std::path::absolute(ca).map_err(|e| Error::io(ca.display(), e))?;
            let text = std::fs::read_to_string(&abs).map_err(|e| Error::io(abs.display(), e))?;
            if !text.contains("-----BEGIN CERTIFICATE-----") {
                return Err(Error::InvalidConfig(format!(
                    "{}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)",
                    abs.display()
                )));
            }
            trust.ca_bundle = Some(abs);
        }
        if trust.is_default() {
            self.index.trust.remove(&key);
        } else {
            if let Some(w) = trust.warning(&key) {
                tracing::warn!("{w}");
            }
            self.index.trust.insert(key, trust);
        }
        self.save()
    }

    /// Read every secret from the keyring into a resolver (one keyring read per entry, at start,
    /// so a long mirror run does not depend on the keyring staying unlocked). An entry that
    /// cannot be read (its secret vanished, as keyutils forgets at reboot, or the keyring
    /// refused) does not fail the run: it is left out, and only a run that needs that registry
    /// hears about it (a warning when it is looked up, and the 401 message names it with the
    /// way to recover). [`CredentialStore::export_auth_json`] refuses such a set instead.
    pub fn resolver(&self) -> Result<KeyringResolver> {
        let mut entries = BTreeMap::new();
        let mut unavailable = BTreeMap::new();
        for (key, s) in &self.index.entries {
            let secret = match keystore::get_secret(key) {
                Ok(Some(secret)) => secret,
                Ok(None) => {
                    unavailable.insert(
                        key.clone(),
                        format!(
                            "{key}: the index at {} lists a credential but the keyring has no secret for it \
                             (keyutils forgets at reboot/logout); log in again with `ferry login {key}` or \
                             re-import the pull secret",
                            self.index_path().display()
                        ),
                    );
                    continue;
                }
                Err(e) => {
                    unavailable.insert(key.clone(), e.to_string());
                    continue;
                }
            };
            let cred = match (s.kind, &s.username) {
                (CredentialKind::Basic, Some(u)) => Credential::Basic {
                    username: u.clone(),
                    password: secret,
                },
                (CredentialKind::Basic, None) => {
                    unavailable.insert(
                        key.clone(),
                        format!(
                            "{key}: index entry of kind basic has no user name; log in again with `ferry login {key}`"
                        ),
                    );
                    continue;
                }
                (CredentialKind::IdentityToken, _) => Credential::IdentityToken(secret),
            };
            entries.insert(key.clone(), (cred, s.email.clone()));
        }
        Ok(KeyringResolver {
            entries,
            unavailable,
            warned: Default::default(),
        })
    }

    /// The merged resolver for a run: an explicit `--authfile` first for the hosts it covers
    /// (what the user named for this run wins over what is stored), then this store, then the
    /// other auth files (`REGISTRY_AUTH_FILE`, containers and docker files with their helpers).
    pub fn merged_resolver(
        &self,
        explicit: Option<AuthFileResolver>,
        files: AuthFileResolver,
    ) -> Result<MergedResolver> {
        Ok(MergedResolver {
            explicit,
            keyring: self.resolver()?,
            files,
        })
    }

    /// Write the merged credential set as an auth.json for `oc`, `podman` or `oc-mirror`, created
    /// with mode 0600 (on Unix the file never exists with wider permissions). Returns how many
    /// registries it holds. Refused when an entry's secret cannot be read: an export that
    /// silently leaves a registry out would fail later, far from here.
    pub fn export_auth_json(&self, path: &Path) -> Result<usize> {
        let r = self.resolver()?;
        if let Some((_, why)) = r.unavailable.iter().next() {
            return Err(Error::InvalidConfig(format!(
                "cannot export {}: {} of the stored credentials cannot be read from the keyring; {why}",
                path.display(),
                r.unavailable.len()
            )));
        }
        write_private_file(path, r.to_auth_json().as_bytes())?;
        Ok(r.entries.len())
    }

    fn save(&self) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(self.dir.display(), e))?;
        let text = serde_json::to_string_pretty(&self.index).expect("index serialises");
        write_private_file(&self.index_path(), text.as_bytes())
    }
}

/// Write `bytes` to `path` atomically, mode 0600 from creation, through a temp file with an
/// unpredictable name opened `O_EXCL|O_NOFOLLOW` (see [`ferry_types::private_file`]).
pub fn write_private_file(path: &Path, bytes: &[u8]) -> Result<()> {
    ferry_types::private_file::write_atomic(path, bytes).map_err(|e| Error::io(path.display(), e))
}

/// The store's credentials, loaded from the keyring (in memory only, redacted in `Debug`).
pub struct KeyringResolver {
    entries: BTreeMap<String, (Credential, Option<String>)>,
    /// Index entries whose secret could not be read, with the reason and the way to recover.
    unavailable: BTreeMap<String, String>,
    warned: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl std::fmt::Debug for KeyringResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringResolver")
            .field("registries", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeyringResolver {
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Index entries whose secret could not be read: `(registry key, reason)`.
    pub fn unavailable(&self) -> impl Iterator<Item = (&str, &str)> {
        self.unavailable.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The docker config.json / containers auth.json text of this set (contains the secrets:
    /// only for writing to a private file).
    pub fn to_auth_json(&self) -> String {
        let mut auths = serde_json::Map::new();
        for (key, (cred, email)) in &self.entries {
            let mut e = serde_json::Map::new();
            match cred {
                Credential::Basic { username, password } => {
                    let raw = format!("{username}:{}", password.expose());
                    e.insert(
                        "auth".into(),
                        base64::engine::general_purpose::STANDARD.encode(raw).into(),
                    );
                }
                Credential::IdentityToken(t) => {
                    e.insert("identitytoken".into(), t.expose().into());
                }
            }
            if let Some(m) = email {
                e.insert("email".into(), m.clone().into());
            }
            auths.insert(key.clone(), e.into());
        }
        let mut root = serde_json::Map::new();
        root.insert("auths".into(), auths.into());
        serde_json::to_string_pretty(&serde_json::Value::Object(root)).expect("auth json serialises")
    }

    /// The same set as an [`AuthConfig`] (for callers that merge it with other files).
    pub fn to_auth_config(&self) -> AuthConfig {
        parse_auth_json(&self.to_auth_json(), "keyring").expect("own output parses")
    }
}

impl CredentialResolver for KeyringResolver {
    fn resolve(&self, registry: &str, repository: &str) -> Option<ResolvedCredential> {
        for c in crate::files::candidate_keys(registry, repository) {
            if let Some((cred, _)) = self.entries.get(&c) {
                return Some(ResolvedCredential {
                    credential: cred.clone(),
                    source: format!("OS keyring (ferry login {c})"),
                });
            }
            // Needed now: say so once per run (the lookup goes on to less specific keys and
            // the auth files, which may well serve it).
            if let Some(why) = self.unavailable.get(&c) {
                if self.warned.lock().expect("warned set poisoned").insert(c.clone()) {
                    tracing::warn!("stored credential not usable: {why}");
                }
            }
        }
        None
    }

    fn sources(&self) -> String {
        let mut s = "OS keyring (ferry login / ferry auth import)".to_string();
        for why in self.unavailable.values() {
            s.push_str(&format!("; not usable: {why}"));
        }
        s
    }
}

/// An explicit `--authfile` first (for the hosts it covers), keyring entries second, the other
/// auth files last.
#[derive(Debug)]
pub struct MergedResolver {
    pub explicit: Option<AuthFileResolver>,
    pub keyring: KeyringResolver,
    pub files: AuthFileResolver,
}

impl CredentialResolver for MergedResolver {
    fn resolve(&self, registry: &str, repository: &str) -> Option<ResolvedCredential> {
        self.explicit
            .as_ref()
            .and_then(|e| e.resolve(registry, repository))
            .or_else(|| self.keyring.resolve(registry, repository))
            .or_else(|| self.files.resolve(registry, repository))
    }

    fn sources(&self) -> String {
        let explicit = self.explicit.as_ref().map(|e| format!("{}, ", e.sources()));
        format!(
            "{}{}, {}",
            explicit.unwrap_or_default(),
            self.keyring.sources(),
            self.files.sources()
        )
    }
}
