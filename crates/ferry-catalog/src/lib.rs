//! Operator file-based catalogs (FBC) on files alone: no registry code here.
//!
//! * [`model`]: `olm.package` / `olm.channel` / `olm.bundle` documents (opm's `declcfg` shape),
//!   other schemas kept verbatim.
//! * [`load`]: YAML and JSON-stream documents from a directory or a file map, `.indexignore`
//!   honoured, every error naming the file, line and document.
//! * [`layers`]: the configs directory of an index image rebuilt from its layers in order, with
//!   whiteouts, keeping only entries below the directory the
//!   `operators.operatorframework.io.index.configs.v1` label names; sqlite catalogs refused.
//! * [`filter`] / [`deps`]: oc-mirror 4.12's filtering semantics (heads only, full, package and
//!   channel version ranges, upgrade-graph fill, default channel, dependencies), deterministic.
//! * [`write`]: the filtered catalog in opm's `WriteJSON` order and form (`index.json`).
//! * [`images`]: the images of a filtered catalog, oc-mirror's destination naming (full source
//!   path, FNV-32a `%x` tags for digest-only sources), the rebuilt catalog's target name
//!   (`targetCatalog` / `targetName` / `targetTag`, 4.13+ rules) and the `CatalogSource`.

pub mod deps;
pub mod filter;
mod ignore;
pub mod images;
pub mod layers;
pub mod load;
pub mod model;
pub mod semver_range;
pub mod write;

pub use filter::{filter, BundleFilter, CatalogFilter, ChannelFilter, FilterResult, PackageFilter};
pub use load::{load_dir, load_files};
pub use model::Catalog;
pub use write::write_json;

/// Errors of catalog handling; each names the file/line/document, package, channel or bundle.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Invalid FBC content at a file position.
    #[error("invalid catalog at {at}: {detail}")]
    Invalid { at: String, detail: String },
    /// The filter configuration does not fit the catalog (unknown package/channel, empty range).
    #[error("{0}")]
    Config(String),
    /// The upgrade graph of a channel cannot be used (no or several heads).
    #[error("{0}")]
    Graph(String),
    /// The image is not a usable file-based catalog.
    #[error("{0}")]
    NotSupported(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl CatalogError {
    /// Prefix a message with the catalog it concerns.
    pub fn in_catalog(self, catalog: &str) -> ferry_types::Error {
        match self {
            CatalogError::Io { path, source } => ferry_types::Error::Io { path, source },
            other => ferry_types::Error::InvalidConfig(format!("catalog {catalog}: {other}")),
        }
    }
}

impl From<CatalogError> for ferry_types::Error {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Io { path, source } => ferry_types::Error::Io { path, source },
            other => ferry_types::Error::InvalidConfig(other.to_string()),
        }
    }
}
