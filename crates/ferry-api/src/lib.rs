//! The one facade over the Ferry engine. The CLI (`crates/ferry-cli`) and the desktop shell
//! (`src-tauri`) call only this crate; each workflow lives in its own module.
//!
//! - [`mirror`]: mirror-to-mirror and dry runs (planning → copy → results).
//! - `disk`: mirror-to-disk and disk-to-mirror over removable-media archives.
//! - `credentials`: pull secrets, mirror-registry logins, keyring, login tests.

pub mod app_files;
pub mod app_history;
pub mod app_media;
pub mod app_progress;
pub mod app_resume;
pub mod app_validate;
pub mod app_workflows;
pub mod catalog_browse;
pub mod catalog_size;
pub mod credentials;
pub mod disk;
pub mod helm;
pub mod helm_browse;
mod image_rebuild;
pub mod image_tree;
mod m2m_metadata;
pub mod manifests_only;
pub mod mirror;
pub mod operators;
pub mod operators_disk;
mod outcome;
pub mod preflight;
pub mod preflight_fs;
pub mod prune;
pub mod registry;
pub mod release;
pub mod release_browse;
pub mod release_graph;
pub mod release_single;
pub mod run_options;
pub mod wire;
pub mod wire_catalog;
pub mod wire_helm;
pub mod wire_release;

pub use ferry_types::{Destination, Error, ErrorCode, ImageRef, Result};

/// Engine pieces the front ends use directly (configuration editing, progress events).
pub use ferry_config as config;
pub use ferry_copy::{no_progress, CancellationToken, ProgressEvent, ProgressSink, SkipReason};

/// The engine's version (shown by `ferry version` and the desktop app).
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
