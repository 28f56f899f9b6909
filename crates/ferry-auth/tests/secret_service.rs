//! The credential store against the real Secret Service (gnome-keyring). Run through
//! `scripts/test-keyring.sh`, which starts a private D-Bus session with an unlocked keyring;
//! under plain `cargo test` there is no session and the test says it is skipped.
#![cfg(target_os = "linux")]

mod common;

use ferry_auth::{init_keyring, KeyringBackend};
use std::process::Command;

fn lookup(user: &str) -> Option<String> {
    let out = Command::new("secret-tool")
        .args(["lookup", "service", "ferry", "username", user])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    (out.status.success() && !out.stdout.is_empty()).then(|| String::from_utf8(out.stdout).unwrap())
}

#[test]
fn secret_service_store_round_trip() {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        assert!(
            !common::required(),
            "FERRY_REQUIRE_KEYRING=1 but there is no D-Bus session"
        );
        eprintln!("skipped: no Secret Service session (run scripts/test-keyring.sh)");
        return;
    }
    // Auto must pick the Secret Service when a session bus with a keyring answers.
    match init_keyring(Some(KeyringBackend::Auto)) {
        Ok(b) => assert_eq!(b, KeyringBackend::SecretService),
        Err(e) => {
            assert!(!common::required(), "Secret Service not usable: {e}");
            eprintln!("skipped: no Secret Service session (run scripts/test-keyring.sh): {e}");
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    common::scenario(dir.path(), &format!("ss{}", std::process::id()), &lookup);
}
