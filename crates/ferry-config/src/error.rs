//! Errors and diagnostics. Every message names the file, the field path and (when known) the
//! line and column, because the desktop app underlines them in its YAML editor and the CLI
//! prints them as `FILE:LINE:COL: message`.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about a configuration: where (field path like `mirror.operators[0].catalog`,
/// 1-based line/column) and what is wrong, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub path: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub message: String,
    pub severity: Severity,
}

impl Diagnostic {
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, message)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    /// `LINE:COL: message` (no file; [`ConfigError`] adds it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{l}:{c}: ")?,
            (Some(l), None) => write!(f, "{l}: ")?,
            _ => {}
        }
        if self.severity == Severity::Warning {
            f.write_str("warning: ")?;
        }
        f.write_str(&self.message)
    }
}

/// A configuration that cannot be used: unreadable file, bad YAML, unknown fields, wrong
/// apiVersion/kind, or validation errors. `Display` gives one `FILE:LINE:COL: message` line
/// per problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: String,
    /// Never empty. Only errors (warnings do not make a configuration unusable).
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigError {
    pub fn new(file: impl Into<String>, diagnostics: Vec<Diagnostic>) -> Self {
        ConfigError {
            file: file.into(),
            diagnostics,
        }
    }

    pub fn single(file: impl Into<String>, diagnostic: Diagnostic) -> Self {
        ConfigError::new(file, vec![diagnostic])
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.diagnostics.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            if d.line.is_some() {
                write!(f, "{}:{d}", self.file)?;
            } else {
                write!(f, "{}: {d}", self.file)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for ferry_types::Error {
    fn from(e: ConfigError) -> Self {
        ferry_types::Error::InvalidConfig(e.to_string())
    }
}
