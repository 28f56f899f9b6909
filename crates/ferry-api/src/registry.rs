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
    /// The `storageConfig.registry` host and its `skipTLS` (see [`RegistrySettings::with_storage`]).
    pub metadata_registry: Option<MetadataRegistry>,
}

/// The registry holding the workspace metadata image (`storageConfig.registry.imageURL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRegistry {
    pub host: String,
    /// `storageConfig.registry.skipTLS`: do not verify that registry's certificate. As in
    /// oc-mirror it applies to the metadata registry only, whatever the `--source-*` and
    /// `--dest-*` flags say; plain HTTP for it comes from its stored trust (`ferry auth trust`).
    pub skip_tls: bool,
}

impl RegistrySettings {
    /// Take the metadata registry (and its `skipTLS`) from an image set's `storageConfig`.
    pub fn with_storage(mut self, storage: Option<&ferry_config::StorageConfig>) -> Self {
        self.metadata_registry = storage
            .and_then(|s| s.registry.as_ref())
            .and_then(|r| ferry_types::ImageRef::parse(&r.image_url).ok().map(|i| (i, r.skip_tls)))
            .map(|(i, skip)| MetadataRegistry {
                host: i.registry,
                skip_tls: skip.unwrap_or(false),
            });
        self
    }
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
            metadata_registry: None,
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
    if let Some(h) = dest_registry {
        opts.per_registry.insert(h.to_string(), dest_policy);
    }
    // The metadata registry's TLS comes from storageConfig.registry.skipTLS, not from the
    // --source-* flags (as in oc-mirror); when it is also the target, the --dest-* flags add to it.
    if let Some(m) = &settings.metadata_registry {
        let mut p = opts.per_registry.get(&m.host).cloned().unwrap_or_else(|| TlsPolicy {
            ca_bundle: settings.ca_bundle.clone(),
            ..TlsPolicy::default()
        });
        p.skip_verify |= m.skip_tls;
        if m.skip_tls {
            tracing::warn!(
                "WARNING: TLS certificate verification is OFF for the metadata registry {} (storageConfig.registry.skipTLS)",
                m.host
            );
        }
        opts.per_registry.insert(m.host.clone(), p);
    }
    // Trust saved per registry (`ferry auth trust`, the app's trust settings) is merged with the
    // run's flags; the destination's with the --dest-* flags, never with the --source-* ones.
    crate::credentials::apply_trust(&store, &mut opts)?;
    RegistryClient::new(creds, opts)
}
