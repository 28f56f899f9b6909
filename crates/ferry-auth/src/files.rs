//! docker `config.json` / containers `auth.json` files and pull secrets (the same JSON shape):
//! `auths` entries with base64 `user:password` in `auth`, `identitytoken`, `email`, plus the
//! `credsStore` / `credHelpers` keys that hand a registry to a `docker-credential-<name>` helper.

use crate::helpers::HelperCache;
use crate::{Credential, CredentialResolver, ResolvedCredential, Secret};
use base64::Engine as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a credential set came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSource {
    File(PathBuf),
}

/// One usable `auths` entry of an auth file or pull secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEntry {
    /// Normalised `host[:port][/namespace...]` (see [`normalize_key`]).
    pub key: String,
    /// The key exactly as written in the file, for messages.
    pub raw_key: String,
    pub credential: Credential,
    /// `email` is informational only (kept so an export round-trips what was imported).
    pub email: Option<String>,
}

/// A parsed auth file or pull secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthConfig {
    pub entries: Vec<AuthEntry>,
    /// `credsStore`: the helper that holds every registry's credential.
    pub creds_store: Option<String>,
    /// `credHelpers`: normalised registry key → helper name.
    pub cred_helpers: BTreeMap<String, String>,
    /// Entries present but without `auth` or `identitytoken` (normal with `credsStore`); reported,
    /// never an error.
    pub empty_entries: Vec<String>,
}

#[derive(serde::Deserialize, Default)]
struct RawEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
    #[serde(default)]
    email: Option<String>,
    // Some tools write username/password in clear instead of `auth`; accept them on read.
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Normalise an auth-file key (`https://index.docker.io/v1/`, `quay.io/ns`) to `host[/path]`.
pub fn normalize_key(key: &str) -> String {
    let k = key.trim();
    let k = k.trim_start_matches("https://").trim_start_matches("http://");
    let k = k.trim_end_matches('/');
    let k = k.strip_suffix("/v1").or_else(|| k.strip_suffix("/v2")).unwrap_or(k);
    let (host, path) = match k.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (k, None),
    };
    // Host names are case-insensitive; repository paths are lower case by the distribution spec.
    let host = match host.to_ascii_lowercase().as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        other => other.to_string(),
    };
    match path {
        Some(p) if !p.is_empty() => format!("{host}/{p}"),
        _ => host,
    }
}

/// Parse the JSON of an auth file or a pull secret. `origin` names it in errors
/// (`"/root/.docker/config.json"`, `"pasted pull secret"`). Every error names the entry at fault
/// and says what to do; no error ever contains a secret.
pub fn parse_auth_json(text: &str, origin: &str) -> Result<AuthConfig, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        format!(
            "{origin}: not valid JSON (line {}, column {}: {}); paste or point at the whole pull secret, \
             which starts with {{\"auths\":",
            e.line(),
            e.column(),
            json_error_kind(&e)
        )
    })?;
    let obj = value
        .as_object()
        .ok_or_else(|| format!("{origin}: expected a JSON object like {{\"auths\": {{...}}}}"))?;

    let mut cfg = AuthConfig::default();
    // The legacy `.dockercfg` form has registry keys at the top level and no `auths`.
    let legacy = !obj.contains_key("auths")
        && !obj.is_empty()
        && obj
            .iter()
            .all(|(k, v)| v.is_object() && !matches!(k.as_str(), "credsStore" | "credHelpers"));
    let auths = if legacy { Some(&value) } else { obj.get("auths") };
    if let Some(auths) = auths {
        let map = auths
            .as_object()
            .ok_or_else(|| format!("{origin}: \"auths\" must be an object of registry entries"))?;
        for (raw_key, v) in map {
            let entry: RawEntry = serde_json::from_value(v.clone()).map_err(|e| {
                format!(
                    "{origin}: entry {raw_key:?}: {}; each entry needs \"auth\": base64 of user:password",
                    json_error_kind_value(&e)
                )
            })?;
            match parse_entry(raw_key, entry, origin)? {
                Some(e) => cfg.entries.push(e),
                None => cfg.empty_entries.push(raw_key.clone()),
            }
        }
    }
    if let Some(s) = obj.get("credsStore") {
        let s = s
            .as_str()
            .ok_or_else(|| format!("{origin}: \"credsStore\" must be a helper name string"))?;
        if !s.is_empty() {
            cfg.creds_store = Some(s.to_string());
        }
    }
    if let Some(h) = obj.get("credHelpers") {
        let h = h
            .as_object()
            .ok_or_else(|| format!("{origin}: \"credHelpers\" must map registries to helper names"))?;
        for (k, v) in h {
            let name = v
                .as_str()
                .ok_or_else(|| format!("{origin}: credHelpers entry {k:?} must be a helper name string"))?;
            cfg.cred_helpers.insert(normalize_key(k), name.to_string());
        }
    }
    Ok(cfg)
}

fn parse_entry(raw_key: &str, entry: RawEntry, origin: &str) -> Result<Option<AuthEntry>, String> {
    let key = normalize_key(raw_key);
    if key.is_empty() {
        return Err(format!("{origin}: an entry has an empty registry name"));
    }
    let email = entry.email.filter(|e| !e.is_empty());
    // The username that goes with an identity token is informational (often "<token>" or a UUID).
    let mut basic: Option<(String, Secret)> = None;
    if let Some(auth) = entry.auth.filter(|a| !a.trim().is_empty()) {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| {
                format!(
                    "{origin}: entry {raw_key:?}: \"auth\" is not valid base64; it must be base64 of user:password \
                     (re-download the pull secret, or re-create it with `printf user:password | base64 -w0`)"
                )
            })?;
        let raw = String::from_utf8(raw).map_err(|_| {
            format!("{origin}: entry {raw_key:?}: \"auth\" does not decode to UTF-8 text user:password")
        })?;
        let (u, pw) = raw.split_once(':').ok_or_else(|| {
            format!(
                "{origin}: entry {raw_key:?}: \"auth\" decodes to text without ':'; it must be base64 of user:password"
            )
        })?;
        if u.is_empty() {
            return Err(format!(
                "{origin}: entry {raw_key:?}: \"auth\" has an empty user name before ':'"
            ));
        }
        basic = Some((u.to_string(), Secret::new(pw)));
    } else if let (Some(u), Some(p)) = (entry.username, entry.password) {
        if !u.is_empty() {
            basic = Some((u, Secret::new(p)));
        }
    }
    let credential = if let Some(tok) = entry.identitytoken.filter(|t| !t.is_empty()) {
        Credential::IdentityToken(Secret::new(tok))
    } else if let Some((username, password)) = basic {
        Credential::Basic { username, password }
    } else {
        return Ok(None);
    };
    Ok(Some(AuthEntry {
        key,
        raw_key: raw_key.to_string(),
        credential,
        email,
    }))
}

// serde_json's Display would quote part of the input (which may be a secret) for some errors;
// keep only the category and position.
fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected value",
        serde_json::error::Category::Eof => "the text ends too early (truncated paste?)",
    }
}

fn json_error_kind_value(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Data => "\"auth\", \"identitytoken\" and \"email\" must be strings",
        _ => "malformed entry",
    }
}

/// Credentials read from auth files, in priority order (first file that has a registry wins).
/// Within one file: `credHelpers` for the registry, then `auths`, then `credsStore`.
#[derive(Debug, Default)]
pub struct AuthFileResolver {
    files: Vec<(PathBuf, AuthConfig)>,
    consulted: Vec<PathBuf>,
    helpers: HelperCache,
}

impl AuthFileResolver {
    /// The default search order: explicit `--authfile`, `REGISTRY_AUTH_FILE`,
    /// `${XDG_RUNTIME_DIR}/containers/auth.json`, `~/.docker/config.json`.
    pub fn default_paths(explicit: Option<&Path>) -> Vec<PathBuf> {
        let mut v = Vec::new();
        if let Some(p) = explicit {
            v.push(p.to_path_buf());
        }
        if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE") {
            v.push(PathBuf::from(p));
        }
        if let Some(p) = std::env::var_os("XDG_RUNTIME_DIR") {
            v.push(PathBuf::from(p).join("containers/auth.json"));
        }
        if let Some(h) = std::env::var_os("HOME") {
            v.push(PathBuf::from(h).join(".docker/config.json"));
        }
        v
    }

    /// Load every existing file of `paths`. A missing file is skipped; an unreadable or invalid
    /// one is an error naming the file (and the entry, for a bad entry).
    pub fn load(paths: &[PathBuf]) -> Result<Self, String> {
        let mut me = AuthFileResolver::default();
        for p in paths {
            me.consulted.push(p.clone());
            let text = match std::fs::read_to_string(p) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("{}: {e}", p.display())),
            };
            let cfg = parse_auth_json(&text, &p.display().to_string())?;
            me.files.push((p.clone(), cfg));
        }
        Ok(me)
    }

    /// Build from already-parsed configs (used by the store's merge and by tests).
    pub fn from_configs(configs: Vec<(PathBuf, AuthConfig)>) -> Self {
        AuthFileResolver {
            consulted: configs.iter().map(|(p, _)| p.clone()).collect(),
            files: configs,
            helpers: HelperCache::default(),
        }
    }

    /// The files that existed and were read, with their content.
    pub fn files(&self) -> impl Iterator<Item = (&Path, &AuthConfig)> {
        self.files.iter().map(|(p, c)| (p.as_path(), c))
    }
}

/// `host/ns/repo`, `host/ns`, `host`: the keys tried for a repository, most specific first.
pub fn candidate_keys(registry: &str, repository: &str) -> Vec<String> {
    let registry = normalize_key(registry);
    let full = if repository.is_empty() {
        registry.clone()
    } else {
        format!("{registry}/{repository}")
    };
    let mut out = vec![full.clone()];
    let mut s = full.as_str();
    while let Some((head, _)) = s.rsplit_once('/') {
        out.push(head.to_string());
        s = head;
    }
    out
}

impl CredentialResolver for AuthFileResolver {
    fn resolve(&self, registry: &str, repository: &str) -> Option<ResolvedCredential> {
        let candidates = candidate_keys(registry, repository);
        let host = normalize_key(registry);
        for (path, cfg) in &self.files {
            if let Some(helper) = cfg.cred_helpers.get(&host) {
                match self.helpers.get(helper, &host) {
                    Ok(Some(credential)) => {
                        return Some(ResolvedCredential {
                            credential,
                            source: format!("docker-credential-{helper} (credHelpers in {})", path.display()),
                        })
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!("{e}"),
                }
            }
            for c in &candidates {
                if let Some(e) = cfg.entries.iter().find(|e| &e.key == c) {
                    return Some(ResolvedCredential {
                        credential: e.credential.clone(),
                        source: path.display().to_string(),
                    });
                }
            }
            if let Some(store) = &cfg.creds_store {
                match self.helpers.get(store, &host) {
                    Ok(Some(credential)) => {
                        return Some(ResolvedCredential {
                            credential,
                            source: format!("docker-credential-{store} (credsStore in {})", path.display()),
                        })
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!("{e}"),
                }
            }
        }
        None
    }

    fn sources(&self) -> String {
        if self.consulted.is_empty() {
            return "no auth file".into();
        }
        self.consulted
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn normalizes_keys() {
        assert_eq!(normalize_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize_key("https://Quay.IO/ns"), "quay.io/ns");
        assert_eq!(normalize_key("http://localhost:5000/"), "localhost:5000");
        assert_eq!(normalize_key("registry-1.docker.io"), "docker.io");
    }

    #[test]
    fn parses_pull_secret_with_email_and_token() {
        let text = format!(
            r#"{{"auths":{{"quay.io":{{"auth":"{}","email":"a@b.c"}},"registry.redhat.io":{{"auth":"{}","identitytoken":"tok"}},"empty.example":{{}}}}}}"#,
            b64("alice:pw:with:colons"),
            b64("u:p")
        );
        let cfg = parse_auth_json(&text, "pasted").unwrap();
        assert_eq!(cfg.entries.len(), 2);
        let q = cfg.entries.iter().find(|e| e.key == "quay.io").unwrap();
        assert_eq!(q.email.as_deref(), Some("a@b.c"));
        match &q.credential {
            Credential::Basic { username, password } => {
                assert_eq!(username, "alice");
                // Only the first ':' splits: passwords may contain ':'.
                assert_eq!(password.expose(), "pw:with:colons");
            }
            other => panic!("unexpected {other:?}"),
        }
        let r = cfg.entries.iter().find(|e| e.key == "registry.redhat.io").unwrap();
        assert!(matches!(&r.credential, Credential::IdentityToken(t) if t.expose() == "tok"));
        assert_eq!(cfg.empty_entries, vec!["empty.example".to_string()]);
    }

    #[test]
    fn errors_name_the_entry_and_never_the_secret() {
        let bad64 = r#"{"auths":{"quay.io":{"auth":"%%%notbase64-s3cr3t"}}}"#;
        let e = parse_auth_json(bad64, "pasted pull secret").unwrap_err();
        assert!(e.contains("\"quay.io\"") && e.contains("not valid base64"), "{e}");
        assert!(!e.contains("s3cr3t"), "{e}");

        let nocolon = format!(
            r#"{{"auths":{{"mirror.local:5000":{{"auth":"{}"}}}}}}"#,
            b64("justasecret")
        );
        let e = parse_auth_json(&nocolon, "f.json").unwrap_err();
        assert!(e.contains("\"mirror.local:5000\"") && e.contains("without ':'"), "{e}");
        assert!(!e.contains("justasecret"), "{e}");

        let e = parse_auth_json(r#"{"auths":{"quay.io":{"auth":"abc"#, "pasted").unwrap_err();
        assert!(e.starts_with("pasted: not valid JSON (line 1"), "{e}");

        let e = parse_auth_json(r#"{"auths":{"quay.io":{"auth":12}}}"#, "pasted").unwrap_err();
        assert!(e.contains("entry \"quay.io\""), "{e}");
        let e = parse_auth_json(r#"["x"]"#, "pasted").unwrap_err();
        assert!(e.contains("expected a JSON object"), "{e}");
    }

    #[test]
    fn resolves_most_specific_first() {
        let text = format!(
            r#"{{"auths":{{"quay.io":{{"auth":"{}"}},"quay.io/team":{{"auth":"{}"}}}}}}"#,
            b64("host:a"),
            b64("team:b")
        );
        let cfg = parse_auth_json(&text, "x").unwrap();
        let r = AuthFileResolver::from_configs(vec![(PathBuf::from("/x.json"), cfg)]);
        assert_eq!(
            r.resolve("quay.io", "team/app").unwrap().credential.username(),
            Some("team")
        );
        assert_eq!(
            r.resolve("quay.io", "other/app").unwrap().credential.username(),
            Some("host")
        );
        assert_eq!(r.resolve("quay.io", "other/app").unwrap().source, "/x.json");
        assert!(r.resolve("docker.io", "library/x").is_none());
    }
}
