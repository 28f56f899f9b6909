//! The OS keyring through the keyring v4 family (`keyring-core` + one store crate per platform):
//!
//! | platform | store | persistence |
//! |---|---|---|
//! | Linux desktop | Secret Service over D-Bus (GNOME Keyring, KWallet) | on disk, encrypted by the keyring daemon |
//! | Linux headless | kernel keyutils (session keyring) | in kernel memory: lost at reboot or logout |
//! | macOS | login Keychain | on disk |
//! | Windows | Credential Manager | on disk |
//!
//! `keyring_core::set_default_store` is process-wide, so the store is chosen once at startup by
//! [`init_keyring`]; `FERRY_KEYRING` (`auto`, `secret-service`, `keyutils`, `keychain`,
//! `windows`, `mock`) overrides the automatic choice.

use crate::Secret;
use ferry_types::Error;
use std::sync::{Arc, RwLock};

/// The keyring service name every Ferry secret is stored under; the user is `host[/namespace]`.
pub const SERVICE: &str = "ferry";

/// Which credential store backs the keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyringBackend {
    /// Secret Service if a session bus answers, else keyutils (Linux); the native store elsewhere.
    Auto,
    SecretService,
    Keyutils,
    Keychain,
    Windows,
    /// keyring-core's in-memory mock: unit tests only, nothing persists.
    Mock,
}

impl KeyringBackend {
    pub fn parse(s: &str) -> Result<Self, Error> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => KeyringBackend::Auto,
            "secret-service" | "secretservice" => KeyringBackend::SecretService,
            "keyutils" => KeyringBackend::Keyutils,
            "keychain" | "macos" => KeyringBackend::Keychain,
            "windows" => KeyringBackend::Windows,
            "mock" => KeyringBackend::Mock,
            other => {
                return Err(Error::InvalidConfig(format!(
                    "FERRY_KEYRING={other:?} is not a keyring store; use auto, secret-service, keyutils, keychain, windows or mock"
                )))
            }
        })
    }

    /// A sentence for `ferry auth list` and the closing note of a login.
    pub fn describe(self) -> &'static str {
        match self {
            KeyringBackend::Auto => "automatic choice",
            KeyringBackend::SecretService => "Secret Service (desktop keyring over D-Bus)",
            KeyringBackend::Keyutils => "kernel keyutils session keyring (kept in memory until reboot or logout)",
            KeyringBackend::Keychain => "macOS Keychain",
            KeyringBackend::Windows => "Windows Credential Manager",
            KeyringBackend::Mock => "in-memory mock (tests only; nothing persists)",
        }
    }
}

static ACTIVE: RwLock<Option<KeyringBackend>> = RwLock::new(None);

/// The store chosen by [`init_keyring`], if any.
pub fn active_backend() -> Option<KeyringBackend> {
    *ACTIVE.read().expect("keyring state poisoned")
}

/// Choose the process-wide keyring store (idempotent: a second call with the same or `Auto`
/// choice keeps the first store). `choice` `None` reads `FERRY_KEYRING`.
pub fn init_keyring(choice: Option<KeyringBackend>) -> Result<KeyringBackend, Error> {
    let choice = match choice {
        Some(c) => c,
        None => KeyringBackend::parse(&std::env::var("FERRY_KEYRING").unwrap_or_default())?,
    };
    // Held across the choice so two threads starting at once cannot install two stores (the
    // second would silently hide what the first stored).
    let mut active = ACTIVE.write().expect("keyring state poisoned");
    if let Some(current) = *active {
        if choice == KeyringBackend::Auto || choice == current {
            return Ok(current);
        }
    }
    let chosen = match choice {
        KeyringBackend::Auto => auto_store()?,
        explicit => {
            let store = build_store(explicit)?;
            probe(&store).map_err(|e| unavailable(explicit, &e))?;
            keyring_core::set_default_store(store);
            explicit
        }
    };
    *active = Some(chosen);
    tracing::debug!("keyring store: {}", chosen.describe());
    Ok(chosen)
}

fn unavailable(b: KeyringBackend, detail: &str) -> Error {
    Error::InvalidConfig(format!(
        "keyring store {} is not usable here: {detail}. On a desktop unlock the login keyring; on a headless \
         server use FERRY_KEYRING=keyutils (inside a login session or `keyctl session`)",
        b.describe()
    ))
}

#[allow(unreachable_code)]
fn auto_store() -> Result<KeyringBackend, Error> {
    #[cfg(target_os = "linux")]
    {
        let mut why = Vec::new();
        // A session bus address is the cheap signal that a desktop session (and so usually a
        // Secret Service) exists; without it connecting would only time out.
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
            match build_store(KeyringBackend::SecretService).and_then(|s| probe(&s).map(|_| s).map_err(Error::Internal))
            {
                Ok(store) => {
                    keyring_core::set_default_store(store);
                    return Ok(KeyringBackend::SecretService);
                }
                Err(e) => why.push(format!("Secret Service: {e}")),
            }
        } else {
            why.push("Secret Service: no D-Bus session (DBUS_SESSION_BUS_ADDRESS unset)".to_string());
        }
        match build_store(KeyringBackend::Keyutils).and_then(|s| probe(&s).map(|_| s).map_err(Error::Internal)) {
            Ok(store) => {
                keyring_core::set_default_store(store);
                return Ok(KeyringBackend::Keyutils);
            }
            Err(e) => why.push(format!("keyutils: {e}")),
        }
        return Err(Error::InvalidConfig(format!(
            "no OS keyring is usable ({}); start a desktop session with an unlocked keyring, or run inside a login \
             session / `keyctl session -` for keyutils",
            why.join("; ")
        )));
    }
    #[cfg(target_os = "macos")]
    {
        keyring_core::set_default_store(build_store(KeyringBackend::Keychain)?);
        return Ok(KeyringBackend::Keychain);
    }
    #[cfg(target_os = "windows")]
    {
        keyring_core::set_default_store(build_store(KeyringBackend::Windows)?);
        return Ok(KeyringBackend::Windows);
    }
    Err(Error::InvalidConfig(
        "no OS keyring store is supported on this platform".into(),
    ))
}

fn build_store(b: KeyringBackend) -> Result<Arc<keyring_core::CredentialStore>, Error> {
    let fail = |e: keyring_core::Error| unavailable(b, &e.to_string());
    match b {
        KeyringBackend::Mock => Ok(keyring_core::mock::Store::new().map_err(fail)?),
        #[cfg(target_os = "linux")]
        KeyringBackend::SecretService => Ok(zbus_secret_service_keyring_store::Store::new().map_err(fail)?),
        #[cfg(target_os = "linux")]
        KeyringBackend::Keyutils => Ok(linux_keyutils_keyring_store::Store::new().map_err(fail)?),
        #[cfg(target_os = "macos")]
        KeyringBackend::Keychain => Ok(apple_native_keyring_store::keychain::Store::new().map_err(fail)?),
        #[cfg(target_os = "windows")]
        KeyringBackend::Windows => Ok(windows_native_keyring_store::Store::new().map_err(fail)?),
        other => Err(Error::InvalidConfig(format!(
            "keyring store {} does not exist on this platform",
            other.describe()
        ))),
    }
}

/// A store that connects may still refuse work (locked collection, no session keyring): read a
/// name that never exists and accept only "no entry" as proof that it answers.
fn probe(store: &Arc<keyring_core::CredentialStore>) -> Result<(), String> {
    let entry = store
        .build(SERVICE, "ferry-probe.invalid", None)
        .map_err(|e| e.to_string())?;
    match entry.get_password() {
        Ok(_) | Err(keyring_core::Error::NoEntry) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

fn entry(user: &str) -> Result<keyring_core::Entry, Error> {
    if active_backend().is_none() {
        init_keyring(None)?;
    }
    keyring_core::Entry::new(SERVICE, user).map_err(|e| keyring_error("open", user, e))
}

fn keyring_error(op: &str, user: &str, e: keyring_core::Error) -> Error {
    // keyring-core errors carry store diagnostics, never the secret value.
    let store = active_backend().map(|b| b.describe()).unwrap_or("keyring");
    Error::Internal(format!("keyring ({store}): cannot {op} the secret for {user}: {e}"))
}

/// Store `secret` for `user` (`host[/namespace]`) under service [`SERVICE`].
pub fn set_secret(user: &str, secret: &Secret) -> Result<(), Error> {
    entry(user)?
        .set_password(secret.expose())
        .map_err(|e| keyring_error("store", user, e))
}

/// The secret for `user`, `None` when the keyring has no such entry.
pub fn get_secret(user: &str) -> Result<Option<Secret>, Error> {
    match entry(user)?.get_password() {
        Ok(p) => Ok(Some(Secret::new(p))),
        Err(keyring_core::Error::NoEntry) => Ok(None),
        Err(e) => Err(keyring_error("read", user, e)),
    }
}

/// Remove `user`'s secret; `false` when there was none.
pub fn delete_secret(user: &str) -> Result<bool, Error> {
    match entry(user)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring_core::Error::NoEntry) => Ok(false),
        Err(e) => Err(keyring_error("delete", user, e)),
    }
}
