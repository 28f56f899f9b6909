//! Credentials for registries: the redacting [`Secret`] type, [`Credential`]s, and the
//! [`CredentialResolver`] the registry client asks for each registry it talks to.
//!
//! Sources, in the order a run consults them: Ferry's own set in the OS keyring (pull secret and
//! mirror-registry logins, see [`store`] and [`keystore`]), then `--authfile`, `REGISTRY_AUTH_FILE`,
//! `${XDG_RUNTIME_DIR}/containers/auth.json`, `~/.docker/config.json` (see [`files`]), each with
//! its `credHelpers`/`credsStore` helpers (see [`helpers`]).

pub mod files;
pub mod helpers;
pub mod keystore;
pub mod secret;
pub mod store;

pub use files::{normalize_key, parse_auth_json, AuthConfig, AuthEntry, AuthFileResolver, AuthSource};
pub use keystore::{active_backend, init_keyring, KeyringBackend};
pub use secret::Secret;
pub use store::{
    default_config_dir, validate_key, write_private_file, CredentialKind, CredentialStore, CredentialSummary,
    EntryOrigin, ImportReport, KeyringResolver, MergedResolver, RegistryTrust,
};

/// A credential for one registry. Never printed: `Debug` redacts the secret parts.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic {
        username: String,
        password: Secret,
    },
    /// An OAuth2 refresh token (`identitytoken` in auth files), exchanged at the token endpoint.
    IdentityToken(Secret),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credential::IdentityToken(_) => write!(f, "IdentityToken(<redacted>)"),
        }
    }
}

impl Credential {
    pub fn username(&self) -> Option<&str> {
        match self {
            Credential::Basic { username, .. } => Some(username),
            Credential::IdentityToken(_) => None,
        }
    }
}

/// A credential together with where it came from (for logs and error messages).
#[derive(Debug, Clone)]
pub struct ResolvedCredential {
    pub credential: Credential,
    /// e.g. `/root/.docker/config.json` or `keyring`; never the secret itself.
    pub source: String,
}

/// Looks up the credential for a registry host (`host[:port]`) and repository path.
/// Matching is most-specific-first on `host[:port][/namespace...]` keys, as containers/image does.
pub trait CredentialResolver: Send + Sync {
    fn resolve(&self, registry: &str, repository: &str) -> Option<ResolvedCredential>;
    /// Describes every source consulted, for a 401 message ("tried: ~/.docker/config.json, ...").
    fn sources(&self) -> String;
}

/// A resolver with no credentials (anonymous access only).
#[derive(Debug, Default, Clone)]
pub struct Anonymous;

impl CredentialResolver for Anonymous {
    fn resolve(&self, _registry: &str, _repository: &str) -> Option<ResolvedCredential> {
        None
    }
    fn sources(&self) -> String {
        "none (anonymous)".into()
    }
}
