//! Shared by the real-keyring test binaries (`secret_service`, `keyutils`): one scenario run
//! against whichever store the binary selected.

use base64::Engine as _;
use ferry_auth::{CredentialResolver, CredentialStore, Secret};
use std::path::Path;

/// `scripts/test-keyring.sh` sets this so that a missing session fails instead of skipping.
pub fn required() -> bool {
    std::env::var_os("FERRY_REQUIRE_KEYRING").is_some_and(|v| v == "1")
}

/// Import a pull secret, add a mirror login, reopen the store as a later run would, resolve,
/// export, remove. `probe(user)` reads the secret back through the store's own tool
/// (`secret-tool`, `keyctl`), independent of our code; it returns `None` when absent.
pub fn scenario(dir: &Path, tag: &str, probe: &dyn Fn(&str) -> Option<String>) {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let pull_host = format!("pull-{tag}.example");
    let mirror_key = format!("mirror-{tag}.example:8443/ocp");
    let ps_pw = format!("ps-pw-{tag}-Zq9");
    let text = format!(
        r#"{{"auths":{{"{pull_host}":{{"auth":"{}","email":"x@example.com"}}}}}}"#,
        b64(&format!("psuser:{ps_pw}"))
    );

    let mut store = CredentialStore::open(dir).unwrap();
    store.import_pull_secret(&text, "pasted pull secret").unwrap();
    store
        .set_login(&mirror_key, "admin", Secret::new(format!("mirror-pw-{tag}")))
        .unwrap();
    drop(store);

    assert_eq!(
        probe(&pull_host).as_deref(),
        Some(ps_pw.as_str()),
        "the OS store holds the pull secret"
    );
    assert_eq!(probe(&mirror_key), Some(format!("mirror-pw-{tag}")));

    let store = CredentialStore::open(dir).unwrap();
    let r = store.resolver().unwrap();
    let got = r.resolve(&pull_host, "ns/app").unwrap();
    assert!(
        matches!(&got.credential, ferry_auth::Credential::Basic{username, password} if username == "psuser" && *password.expose() == ps_pw)
    );
    let m = r.resolve(&format!("mirror-{tag}.example:8443"), "ocp/release").unwrap();
    assert_eq!(m.credential.username(), Some("admin"));

    let index = std::fs::read_to_string(dir.join("credentials.json")).unwrap();
    assert!(!index.contains(&ps_pw) && !index.contains(&b64(&format!("psuser:{ps_pw}"))));

    let out = dir.join("auth.json");
    assert_eq!(store.export_auth_json(&out).unwrap(), 2);
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .contains(&b64(&format!("psuser:{ps_pw}"))));

    let mut store = store;
    assert!(store.remove(&pull_host).unwrap());
    assert!(store.remove(&mirror_key).unwrap());
    assert_eq!(probe(&pull_host), None, "removed from the OS store");
    assert_eq!(probe(&mirror_key), None);
}
