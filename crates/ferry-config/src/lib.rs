//! Ferry: ImageSetConfiguration (`mirror.openshift.io/v1alpha2`) parsing, defaults and validation.
//!
//! - [`parse_str`] / [`load`]: strict decode (unknown fields are errors naming their path, line
//!   and column, with a "did you mean" and, for v1alpha1/v2alpha1 fields, a migration hint) plus
//!   validation, like oc-mirror's `ReadConfig`; the result is the configuration *as written*.
//!   [`parse_documents`] reads a multi-document file (oc-mirror silently used the first only;
//!   [`parse_str`] refuses such a file).
//! - [`ImageSetConfiguration::validate`]: findings with field paths; [`diagnostics`] adds
//!   line/column and never fails (the desktop editor's live check).
//! - [`ImageSetConfiguration::with_defaults`], [`ImageSetConfiguration::archive_size_bytes`]:
//!   the effective values. Defaults live only in [`defaults`].
//! - [`ImageSetConfiguration::to_yaml`]: lossless write-back (no defaults added).
//! - [`template`]: the `ferry init` starting file.
//!
//! Compatibility decisions, field by field, are documented on the types
//! ([`Mirror`], [`Operator`], [`IncludePackage`], [`Chart`], [`ReleaseChannel`]). In short:
//! every v1alpha2 field of oc-mirror v1 (including the later `targetCatalog`, `defaultChannel`,
//! `imagePaths`) is supported; deprecated `targetName`/`originalRef` and the unimplemented
//! `samples` are accepted with a warning; v2alpha1-only fields (`bundles`, `release`,
//! `kubeVirtContainer`, `targetRepo`, `targetCatalogSourceTemplate`, `delete`) and kinds
//! (`DeleteImageSetConfiguration`) are refused with a clear message. Where oc-mirror is silently
//! lenient and that leads to wrong runs (unknown channel `type` treated as ocp, both storage
//! backends set, any key case accepted), Ferry reports it instead.
//! One Ferry extension: helm charts take `valuesFiles` and `values` (merged over the chart's
//! defaults before its images are found); oc-mirror refuses these keys.

pub mod defaults;
mod error;
mod locate;
mod parse;
mod template;
mod types;
pub mod validate;

pub use defaults::{DEFAULT_ARCHITECTURE, DEFAULT_ARCHIVE_SIZE_GIB};
pub use error::{ConfigError, Diagnostic, Severity};
pub use parse::{diagnostics, parse_documents, parse_str, parse_str_with_warnings};
pub use template::{template, TemplateStorage};
pub use types::*;
pub use validate::catalog_unique_name;

use std::path::Path;

/// Read, parse and validate a configuration file. Errors name the file, line and column.
pub fn load(path: &Path) -> Result<ImageSetConfiguration, ConfigError> {
    load_with_warnings(path).map(|(cfg, _)| cfg)
}

/// [`load`], also returning the warnings; print them as `FILE:` + [`Diagnostic`]'s `Display`.
pub fn load_with_warnings(path: &Path) -> Result<(ImageSetConfiguration, Vec<Diagnostic>), ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::single(
            &name,
            Diagnostic::error("", format!("cannot read the configuration file: {e}")),
        )
    })?;
    parse_str_with_warnings(&text, &name)
}

impl ImageSetConfiguration {
    /// The configuration as YAML, with only the fields that were written (no defaults added).
    pub fn to_yaml(&self) -> String {
        // Serializing plain structs of strings, numbers, bools and lists cannot fail.
        serde_yaml_ng::to_string(self).expect("ImageSetConfiguration serializes to YAML")
    }
}

/// 1-based (line, column) of the field at `path` (`storageConfig.local.path`,
/// `mirror.operators[0].catalog`) in a one-document file, or of its nearest enclosing field
/// that can be found: where the desktop editor pins a finding the facade makes about a field.
pub fn locate(yaml: &str, path: &str) -> Option<(u32, u32)> {
    locate::Locator::new(yaml, 0).locate_nearest(path)
}
