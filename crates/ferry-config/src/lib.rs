//! Ferry: ImageSetConfiguration (`mirror.openshift.io/v1alpha2`) parsing, defaults and validation.
//!
//! - [`parse_str`] / [`load`]: strict decode (unknown fields are errors naming their path, line
//!   and column) plus oc-mirror's validation; the result is the configuration *as written*.
//! - [`ImageSetConfiguration::with_defaults`]: the effective values (defaults live only in
//!   [`defaults`]).
//! - [`ImageSetConfiguration::to_yaml`]: lossless write-back.
//! - [`diagnostics`]: errors and warnings with positions for a live editor; never fails.
//! - [`template`]: the `ferry init` starting file.

pub mod defaults;
mod error;
mod locate;
mod parse;
mod template;
mod types;
pub mod validate;

pub use defaults::{DEFAULT_ARCHITECTURE, DEFAULT_ARCHIVE_SIZE_GIB};
pub use error::{ConfigError, Diagnostic, Severity};
pub use parse::{diagnostics, parse_documents, parse_str};
pub use template::{template, TemplateStorage};
pub use types::*;
pub use validate::catalog_unique_name;

use std::path::Path;

/// Read, parse and validate a configuration file. Errors name the file, line and column.
pub fn load(path: &Path) -> Result<ImageSetConfiguration, ConfigError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::single(
            &name,
            Diagnostic::error("", format!("cannot read the configuration file: {e}")),
        )
    })?;
    parse_str(&text, &name)
}

impl ImageSetConfiguration {
    /// The configuration as YAML, with only the fields that were written (no defaults added).
    pub fn to_yaml(&self) -> String {
        // Serializing plain structs of strings, numbers, bools and lists cannot fail.
        serde_yaml_ng::to_string(self).expect("ImageSetConfiguration serializes to YAML")
    }
}
