//! The editor's live validation with what a run would refuse before it starts: the syntax and
//! schema findings of [`crate::app_workflows::validate_image_set`], plus the findings of the
//! checks a run of the app applies to the image set as saved at `config_path`. Those checks are
//! the runs' own (`resolve_storage_path`, `helm::resolve_paths`), called here on a copy, so the
//! editor and the run can never disagree: a relative `storageConfig.local.path` or chart path
//! in an image set that is not saved yet is flagged at its line ("save the image set first, or
//! use an absolute path") instead of failing the run.

use crate::wire::{Diagnostic, Severity};
use std::path::Path;

/// The run-time checks over an image set at `config_path` (`None`: not saved to a file).
/// Each returns the field path its refusal is about and the message the run would give.
fn run_checks(cfg: &ferry_config::ImageSetConfiguration, config_path: Option<&Path>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut copy = cfg.clone();
    if let Err(e) = crate::app_workflows::resolve_storage_path(&mut copy, config_path) {
        out.push(("storageConfig.local.path".to_string(), message(&e)));
    }
    let mut copy = cfg.clone();
    if let Err(e) = crate::helm::resolve_paths(&mut copy, config_path) {
        let m = message(&e);
        // Its messages start with the field path (`mirror.helm.local[0].path "…" is relative`).
        let path = m.split_whitespace().next().unwrap_or("mirror.helm").to_string();
        out.push((path, m));
    }
    out
}

/// The engine's message without the error kind's prefix.
fn message(e: &ferry_types::Error) -> String {
    match e {
        ferry_types::Error::InvalidConfig(m) => m.clone(),
        e => e.to_string(),
    }
}

/// Live validation of the editor's text, for the image set saved at `config_path` (if any).
pub fn validate_image_set_at(yaml: &str, config_path: Option<&Path>) -> Vec<Diagnostic> {
    let mut out = crate::app_workflows::validate_image_set(yaml);
    if out.iter().any(|d| d.severity == Severity::Error) {
        return out;
    }
    let Ok(cfg) = ferry_config::parse_str(yaml, "the image set") else {
        return out;
    };
    for (path, message) in run_checks(&cfg, config_path) {
        let (line, column) = ferry_config::locate(yaml, &path).unwrap_or((1, 1));
        out.push(Diagnostic {
            path,
            line,
            column,
            message,
            // The set itself is fine; saving it (or an absolute path) makes it runnable.
            severity: Severity::Warning,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: ./metadata\nmirror:\n  additionalImages:\n  - name: quay.io/x/y:1\n";

    #[test]
    fn an_unsaved_set_with_a_relative_metadata_path_is_flagged_at_its_line() {
        let d = validate_image_set_at(YAML, None);
        let f = d
            .iter()
            .find(|d| d.path == "storageConfig.local.path")
            .unwrap_or_else(|| panic!("no finding: {d:?}"));
        assert_eq!((f.line, f.severity), (5, Severity::Warning), "{f:?}");
        assert!(
            f.message.contains("save it first") && f.message.contains("absolute path"),
            "{f:?}"
        );
        // Saved: the path resolves against the file's folder, nothing to flag.
        let saved = validate_image_set_at(YAML, Some(Path::new("/srv/sets/isc.yaml")));
        assert!(saved.iter().all(|d| d.path != "storageConfig.local.path"), "{saved:?}");
        // An absolute path needs no file.
        let abs = validate_image_set_at(&YAML.replace("./metadata", "/srv/meta"), None);
        assert!(abs.iter().all(|d| d.path != "storageConfig.local.path"), "{abs:?}");
    }

    #[test]
    fn the_apps_template_is_flagged_until_saved_and_clean_once_saved() {
        let t = crate::app_workflows::image_set_template();
        let unsaved = validate_image_set_at(&t, None);
        assert!(
            unsaved.iter().any(|d| d.path == "storageConfig.local.path"),
            "{unsaved:?}"
        );
        let saved = validate_image_set_at(&t, Some(Path::new("/srv/sets/isc.yaml")));
        assert!(saved.is_empty(), "the saved template has findings: {saved:?}");
    }

    #[test]
    fn relative_chart_paths_of_an_unsaved_set_are_flagged_too() {
        let yaml = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  helm:\n    local:\n    - name: podinfo\n      path: charts/podinfo-6.0.0.tgz\n";
        let d = validate_image_set_at(yaml, None);
        let f = d
            .iter()
            .find(|d| d.path.starts_with("mirror.helm.local[0]"))
            .unwrap_or_else(|| panic!("no finding: {d:?}"));
        assert_eq!(f.line, 7, "{f:?}");
        assert!(validate_image_set_at(yaml, Some(Path::new("/srv/isc.yaml")))
            .iter()
            .all(|d| !d.path.starts_with("mirror.helm")));
    }
}
