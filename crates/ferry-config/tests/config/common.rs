//! Shared by the integration tests: where the shared oc-mirror fixtures are.

use std::path::{Path, PathBuf};

/// `$FERRY_FIXTURES`, else `<repo>/../shared/fixtures`. `None` (after printing why) when absent,
/// so the calling test can skip instead of failing on a machine without the fixture set.
pub fn fixtures_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("FERRY_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"));
    if dir.join("oc-mirror").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: fixtures not found at {} (set FERRY_FIXTURES to the shared fixtures folder)",
            dir.display()
        );
        None
    }
}

/// Every `*.yaml`/`*.yml` under `dir`, sorted, whose text declares an ImageSetConfiguration kind.
pub fn config_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read fixtures dir") {
            let p = entry.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                if text
                    .lines()
                    .any(|l| l.trim_start().starts_with("kind:") && l.contains("ImageSetConfiguration"))
                {
                    out.push(p);
                }
            }
        }
    }
    out.sort();
    out
}
