//! The one facade over the Ferry engine. The CLI (`crates/ferry-cli`) and the desktop shell
//! (`src-tauri`) call only this crate; each workflow lives in its own module.
//!
//! - [`mirror`]: mirror-to-mirror and dry runs (planning → copy → results).
//! - `disk`: mirror-to-disk and disk-to-mirror over removable-media archives.
//! - `credentials`: pull secrets, mirror-registry logins, keyring, login tests.

pub mod app_files;
pub mod app_history;
pub mod app_progress;
pub mod app_workflows;
pub mod credentials;
pub mod disk;
pub mod helm;
pub mod image_tree;
mod m2m_metadata;
pub mod manifests_only;
pub mod mirror;
pub mod operators;
mod outcome;
pub mod prune;
pub mod registry;
pub mod release;
pub mod wire;

pub use ferry_types::{Destination, Error, ErrorCode, ImageRef, Result};

/// Engine pieces the front ends use directly (configuration editing, progress events).
pub use ferry_config as config;
pub use ferry_copy::{no_progress, CancellationToken, ProgressEvent, ProgressSink, SkipReason};

/// The engine's version (shown by `ferry version` and the desktop app).
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
