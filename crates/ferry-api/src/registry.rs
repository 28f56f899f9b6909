//! Registry access settings shared by every workflow: credentials and TLS trust for sources and
//! for the destination, mapped onto one [`RegistryClient`].

use ferry_auth::CredentialResolver;
use ferry_registry::{ClientOptions, RegistryClient, TlsPolicy};
use ferry_types::Result;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// oc-mirror's TLS and credential flags, plus a CA bundle (oc-mirror v1 trusted only the
/// system store, a common complaint with self-signed mirror registries).
#[derive(Debug, Clone)]
pub struct RegistrySettings {
    /// `--authfile`: consulted before `REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`
    /// and `~/.docker/config.json`.
    pub authfile: Option<PathBuf>,
    pub source_skip_tls: bool,
    pub source_use_http: bool,
    pub dest_skip_tls: bool,
    pub dest_use_http: bool,
    /// Extra CA certificates (PEM) trusted for every registry.
    pub ca_bundle: Option<PathBuf>,
    /// `--max-per-registry`: concurrent requests per registry host.
    pub max_per_registry: usize,
}

impl Default for RegistrySettings {
    fn default() -> Self {
        RegistrySettings {
            authfile: None,
            source_skip_tls: false,
            source_use_http: false,
            dest_skip_tls: false,
            dest_use_http: false,
            ca_bundle: None,
            max_per_registry: 6,
        }
    }
}

/// The credential sources for this run: the logins and pull secret stored with `ferry login` /
/// `ferry auth import` (OS keyring) first, then the auth files in the documented order.
pub fn credential_resolver(settings: &RegistrySettings) -> Result<Arc<dyn CredentialResolver>> {
    let store = crate::credentials::open_store()?;
    crate::credentials::run_resolver(&store, settings.authfile.as_deref())
}

/// Build the one client of a run. `dest_registry` gets the `--dest-*` TLS policy; every other
/// host (the sources) the `--source-*` one.
pub fn build_client(settings: &RegistrySettings, dest_registry: Option<&str>) -> Result<RegistryClient> {
    let store = crate::credentials::open_store()?;
    let creds = crate::credentials::run_resolver(&store, settings.authfile.as_deref())?;
    let source = TlsPolicy {
        skip_verify: settings.source_skip_tls,
        plain_http: settings.source_use_http,
        ca_bundle: settings.ca_bundle.clone(),
    };
    let dest_policy = TlsPolicy {
        skip_verify: settings.dest_skip_tls,
        plain_http: settings.dest_use_http,
        ca_bundle: settings.ca_bundle.clone(),
    };
    let mut opts = ClientOptions {
        default_tls: source,
        per_registry: HashMap::new(),
        max_per_registry: settings.max_per_registry.max(1),
        ..ClientOptions::default()
    };
    // Trust saved per registry (`ferry auth trust`, the app's trust settings) is merged with the
    // run's flags; the destination's with the --dest-* flags, never with the --source-* ones.
    crate::credentials::apply_trust_with_dest(&store, &mut opts, dest_registry.map(|h| (h, &dest_policy)));
    RegistryClient::new(creds, opts)
}
