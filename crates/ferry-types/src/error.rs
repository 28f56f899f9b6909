//! The one error type that crosses crate boundaries. Every variant carries what a user needs
//! to act: the registry, image, file or digest involved and what to do next. `code()` is the
//! stable machine-readable part the desktop app branches on.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Stable error codes (serialized in kebab-case) shared by the CLI exit path and the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    InvalidConfig,
    InvalidReference,
    NotFound,
    Unauthorized,
    Denied,
    Tls,
    Unreachable,
    DigestMismatch,
    Io,
    Registry,
    Archive,
    Sequence,
    NoSpace,
    Cancelled,
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidConfig(String),
    #[error("{0}")]
    InvalidReference(String),
    /// A manifest, blob, tag or file that does not exist.
    #[error("{what} not found{}", hint.as_deref().map(|h| format!(": {h}")).unwrap_or_default())]
    NotFound { what: String, hint: Option<String> },
    /// 401: no or wrong credentials. `tried` names the credential source (never the secret).
    #[error("{registry}: authentication required or failed (credentials tried: {tried}); check the login with `ferry login {registry}` or pass --authfile")]
    Unauthorized { registry: String, tried: String },
    /// 403: authenticated but not allowed (for example no push permission on a repository).
    #[error("{registry}: access denied to {repository} ({action}); the account needs {action} permission there")]
    Denied {
        registry: String,
        repository: String,
        action: String,
    },
    #[error("{registry}: TLS error: {detail}. Trust the registry's CA with --ca-bundle FILE (or install it in the system store), or use --source-skip-tls/--dest-skip-tls for a test registry")]
    Tls { registry: String, detail: String },
    #[error("{registry}: cannot connect: {detail}. Check the host name, port and network path (proxy, firewall)")]
    Unreachable { registry: String, detail: String },
    #[error("digest mismatch for {what}: expected {expected}, got {actual}; the data was corrupted in transit or at the source, nothing was tagged")]
    DigestMismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Any other registry answer, with status and the registry's own error text.
    #[error("{registry}: {operation} failed: HTTP {status}: {detail}")]
    Registry {
        registry: String,
        operation: String,
        status: u16,
        detail: String,
    },
    #[error("{0}")]
    Archive(String),
    #[error("{0}")]
    Sequence(String),
    #[error("not enough free space at {path}: need {needed} bytes, {available} available")]
    NoSpace { path: String, needed: u64, available: u64 },
    #[error("cancelled")]
    Cancelled,
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidConfig(_) => ErrorCode::InvalidConfig,
            Error::InvalidReference(_) => ErrorCode::InvalidReference,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Unauthorized { .. } => ErrorCode::Unauthorized,
            Error::Denied { .. } => ErrorCode::Denied,
            Error::Tls { .. } => ErrorCode::Tls,
            Error::Unreachable { .. } => ErrorCode::Unreachable,
            Error::DigestMismatch { .. } => ErrorCode::DigestMismatch,
            Error::Io { .. } => ErrorCode::Io,
            Error::Registry { .. } => ErrorCode::Registry,
            Error::Archive(_) => ErrorCode::Archive,
            Error::Sequence(_) => ErrorCode::Sequence,
            Error::NoSpace { .. } => ErrorCode::NoSpace,
            Error::Cancelled => ErrorCode::Cancelled,
            Error::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_string(),
            source,
        }
    }

    /// Errors worth retrying with backoff (5xx, 429, dropped connections).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Registry { status, .. } => *status == 429 || *status >= 500,
            Error::Unreachable { .. } => true,
            Error::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::TimedOut
            ),
            _ => false,
        }
    }
}
