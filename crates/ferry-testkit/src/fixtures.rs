//! Where the shared real-world fixtures live, and what a test does when they are absent.
//!
//! The fixtures (`../shared/fixtures` beside the repository, or `$FERRY_FIXTURES`) are others'
//! public data and are never copied into the repository. On a user's clone they are absent:
//! a test that needs them reports itself skipped and says why. In CI (`CI=true`) the fixtures
//! are present by contract, so their absence is a failure: a CI run can never pass without
//! running the fixture tests.

use std::path::PathBuf;

/// The fixtures directory, if present. When it is absent: with `CI=true` this panics (the
/// test fails, naming the path it looked at); otherwise it prints why the test is skipped and
/// returns `None`, so the caller returns early.
pub fn fixtures() -> Option<PathBuf> {
    let p = std::env::var_os("FERRY_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(beside_the_repository);
    if p.is_dir() {
        return Some(p);
    }
    let ci = std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false);
    if ci {
        panic!(
            "fixtures not found at {} and CI=true: CI must run the fixture tests (set FERRY_FIXTURES)",
            p.display()
        );
    }
    eprintln!(
        "SKIPPED: fixtures not found at {} (set FERRY_FIXTURES or put shared/fixtures beside the repository)",
        p.display()
    );
    None
}

/// A file under the fixtures directory (see [`fixtures`] for the absent case).
pub fn fixture(rel: &str) -> Option<PathBuf> {
    fixtures().map(|d| d.join(rel))
}

/// `shared/fixtures` beside the repository. Found from the running test's own package folder
/// (cargo and nextest set `CARGO_MANIFEST_DIR` when they run a test), walking up to the folder
/// that holds `shared/`: the path compiled into this crate can be stale when the same target
/// folder served a checkout elsewhere.
fn beside_the_repository() -> PathBuf {
    let compiled = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or(compiled.clone());
    start
        .ancestors()
        .map(|a| a.join("shared/fixtures"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| compiled.join("../../../shared/fixtures"))
}
