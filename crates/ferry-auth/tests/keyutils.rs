//! The credential store against the kernel keyutils store (headless servers). Run through
//! `scripts/test-keyring.sh` (`keyctl session - ...` gives the test a session keyring); without
//! a usable session keyring the test says it is skipped.
#![cfg(target_os = "linux")]

mod common;

use ferry_auth::{init_keyring, KeyringBackend};
use std::process::Command;

fn keyctl(args: &[&str]) -> Option<String> {
    let out = Command::new("keyctl")
        .args(args)
        .output()
        .expect("keyctl (keyutils) is installed");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `keyctl` finds the key by its description (`keyring:<user>@<service>`) in the session keyring.
fn lookup(user: &str) -> Option<String> {
    let id = keyctl(&["search", "@s", "user", &format!("keyring:{user}@ferry")])?;
    keyctl(&["pipe", &id])
}

#[test]
fn keyutils_store_round_trip() {
    match init_keyring(Some(KeyringBackend::Keyutils)) {
        Ok(b) => assert_eq!(b, KeyringBackend::Keyutils),
        Err(e) => {
            assert!(!common::required(), "keyutils not usable: {e}");
            eprintln!("skipped: no keyutils session keyring (run scripts/test-keyring.sh): {e}");
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    common::scenario(dir.path(), &format!("ku{}", std::process::id()), &lookup);
}
