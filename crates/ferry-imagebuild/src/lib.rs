//! Pure image-building functions: no registry code, no daemon, no external tools.
//!
//! Given a base image's manifest and config bytes, this crate appends layers (a gzip tar built
//! from files, or a whiteout layer), replaces labels / `Cmd` / `Entrypoint`, and produces the new
//! config and manifest bytes (Docker v2 schema 2 or OCI), per platform of an index and then a
//! new index over the rebuilt platform manifests.
//!
//! Layers are streamed to a temporary file while two SHA-256 hashers run: one over the
//! uncompressed tar (the `diffID` that goes into the config's `rootfs.diff_ids`) and one over the
//! gzip bytes (the blob digest in the manifest). Nothing is held whole in memory except the small
//! file contents a caller hands in (catalog JSON, graph data) and the manifest/config JSON.
//!
//! Used by the operator catalog rebuild (filtered `/configs`, `Cmd ["serve","/configs"]`) and the
//! release graph-data image. Pushing the results goes through `ferry_types::ImageDestination`
//! in ferry-api; this crate never talks to a registry.
//!
//! Determinism: every tar entry has mtime 0 and uid/gid 0 (`root`), directories 0755 and files
//! 0644 unless the caller sets a mode, entries in the order given, so the same input always yields
//! the same digests (oc-mirror's layers carry the build time; Ferry's do not, so a rebuild that
//! changes nothing produces the same image and the registry dedups it).

mod config;
mod layer;
mod retar;

pub use config::{rebuild_image, rebuild_index, ConfigEdit, Rebuilt};
pub use layer::{build_layer, read_layer_files, whiteout_layer, BuiltLayer, LayerEntry};
pub use retar::{layer_from_tarball, RetarredLayer};

/// Errors of this crate. Each names what was being built or read.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{what}: {detail}")]
    Invalid { what: String, detail: String },
}

impl From<BuildError> for ferry_types::Error {
    fn from(e: BuildError) -> Self {
        match e {
            BuildError::Io { path, source } => ferry_types::Error::Io { path, source },
            BuildError::Invalid { .. } => ferry_types::Error::Internal(e.to_string()),
        }
    }
}

pub type Result<T, E = BuildError> = std::result::Result<T, E>;
