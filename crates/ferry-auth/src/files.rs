//! docker `config.json` / containers `auth.json` files. (Skeleton: the credentials issue
//! extends this with credential helpers and the OS keyring.)

use crate::{Credential, CredentialResolver, ResolvedCredential, Secret};
use base64::Engine as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where a credential set came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthSource {
    File(PathBuf),
}

#[derive(Debug, serde::Deserialize, Default)]
struct AuthFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

impl std::fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuthEntry(<redacted>)")
    }
}

/// Credentials read from auth files, in priority order (first file that has a registry wins).
#[derive(Debug, Default)]
pub struct AuthFileResolver {
    files: Vec<(PathBuf, BTreeMap<String, Credential>)>,
    consulted: Vec<PathBuf>,
}

/// Normalise an auth-file key (`https://index.docker.io/v1/`, `quay.io/ns`) to `host[/path]`.
pub fn normalize_key(key: &str) -> String {
    let k = key.trim_start_matches("https://").trim_start_matches("http://");
    let k = k.trim_end_matches('/');
    let k = k.strip_suffix("/v1").or_else(|| k.strip_suffix("/v2")).unwrap_or(k);
    match k {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        other => other.to_string(),
    }
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
    /// one is an error naming the file.
    pub fn load(paths: &[PathBuf]) -> Result<Self, String> {
        let mut me = AuthFileResolver::default();
        for p in paths {
            me.consulted.push(p.clone());
            let text = match std::fs::read_to_string(p) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("{}: {e}", p.display())),
            };
            let file: AuthFile =
                serde_json::from_str(&text).map_err(|e| format!("{}: invalid auth file: {e}", p.display()))?;
            let mut map = BTreeMap::new();
            for (key, entry) in file.auths {
                let cred = if let Some(tok) = entry.identitytoken.filter(|t| !t.is_empty()) {
                    Credential::IdentityToken(Secret::new(tok))
                } else if let Some(auth) = entry.auth.filter(|a| !a.is_empty()) {
                    let raw = base64::engine::general_purpose::STANDARD
                        .decode(auth.trim())
                        .map_err(|_| format!("{}: entry {key:?}: \"auth\" is not valid base64", p.display()))?;
                    let raw = String::from_utf8(raw)
                        .map_err(|_| format!("{}: entry {key:?}: \"auth\" is not UTF-8", p.display()))?;
                    let (u, pw) = raw
                        .split_once(':')
                        .ok_or_else(|| format!("{}: entry {key:?}: \"auth\" must encode user:password", p.display()))?;
                    Credential::Basic {
                        username: u.to_string(),
                        password: Secret::new(pw),
                    }
                } else {
                    continue;
                };
                map.insert(normalize_key(&key), cred);
            }
            me.files.push((p.clone(), map));
        }
        Ok(me)
    }
}

impl CredentialResolver for AuthFileResolver {
    fn resolve(&self, registry: &str, repository: &str) -> Option<ResolvedCredential> {
        // Most specific key first: host/ns/repo, host/ns, host.
        let full = format!("{registry}/{repository}");
        let mut candidates: Vec<&str> = vec![full.as_str()];
        let mut s = full.as_str();
        while let Some((head, _)) = s.rsplit_once('/') {
            candidates.push(head);
            s = head;
        }
        for (path, map) in &self.files {
            for c in &candidates {
                if let Some(cred) = map.get(*c) {
                    return Some(ResolvedCredential {
                        credential: cred.clone(),
                        source: path.display().to_string(),
                    });
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
