//! credHelpers / credsStore with a real helper program: a tiny shell script that speaks the
//! docker-credential-helpers protocol, written into a temp dir put first on PATH (own test binary
//! because PATH is process-wide).
#![cfg(unix)]

use ferry_auth::{AuthFileResolver, Credential, CredentialResolver};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn write_helper(dir: &Path, name: &str, body: &str) {
    let p = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn helpers_answer_per_registry_and_store() {
    let bin = tempfile::tempdir().unwrap();
    let log = bin.path().join("calls.log");
    // Records each server URL it was asked about, answers for two hosts, "not found" otherwise.
    write_helper(
        bin.path(),
        "ferrytest",
        &format!(
            r#"[ "$1" = get ] || exit 3
read -r server
echo "$server" >> {log}
case "$server" in
  helped.example:5000) echo '{{"ServerURL":"helped.example:5000","Username":"helperuser","Secret":"helper-secret-1"}}' ;;
  https://index.docker.io/v1/) echo '{{"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"hub-refresh-token"}}' ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac"#,
            log = log.display()
        ),
    );
    write_helper(bin.path(), "broken", r#"echo "cannot reach the vault" >&2; exit 2"#);
    let path = format!("{}:{}", bin.path().display(), std::env::var("PATH").unwrap_or_default());
    // SAFETY: this test binary has no other threads touching the environment.
    unsafe { std::env::set_var("PATH", path) };

    let cfg = bin.path().join("config.json");
    std::fs::write(
        &cfg,
        r#"{"auths":{"plain.example":{"auth":"cGxhaW46cHc="},"store.example":{}},
            "credHelpers":{"helped.example:5000":"ferrytest","docker.io":"ferrytest","vault.example":"broken",
                           "nohelper.example":"doesnotexist"},
            "credsStore":"ferrytest"}"#,
    )
    .unwrap();
    let r = AuthFileResolver::load(std::slice::from_ref(&cfg)).unwrap();

    let got = r.resolve("helped.example:5000", "ns/app").unwrap();
    assert!(
        matches!(&got.credential, Credential::Basic{username, password} if username == "helperuser" && password.expose() == "helper-secret-1")
    );
    assert!(got.source.contains("docker-credential-ferrytest"), "{}", got.source);
    // Asked again: served from the cache, the helper ran once.
    r.resolve("helped.example:5000", "ns/other").unwrap();
    let hub = r.resolve("docker.io", "library/busybox").unwrap();
    assert!(matches!(&hub.credential, Credential::IdentityToken(t) if t.expose() == "hub-refresh-token"));
    // auths entry beats credsStore; credsStore answers "not found" → anonymous.
    assert_eq!(
        r.resolve("plain.example", "x").unwrap().credential.username(),
        Some("plain")
    );
    assert!(r.resolve("store.example", "x").is_none());
    // A failing or missing helper does not break resolution (it is logged), it yields nothing.
    assert!(r.resolve("vault.example", "x").is_none());

    let calls = std::fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(
        calls.iter().filter(|c| **c == "helped.example:5000").count(),
        1,
        "{calls:?}"
    );
    assert!(calls.contains(&"https://index.docker.io/v1/"));
    assert!(calls.contains(&"store.example"), "credsStore consulted: {calls:?}");

    let e = ferry_auth::helpers::helper_get("broken", "vault.example").unwrap_err();
    assert!(
        e.contains("docker-credential-broken") && e.contains("cannot reach the vault"),
        "{e}"
    );
    let e = ferry_auth::helpers::helper_get("doesnotexist", "nohelper.example").unwrap_err();
    assert!(e.contains("not on PATH"), "{e}");
    assert!(ferry_auth::helpers::helper_get("../x", "h").is_err());

    // The real shape from containers/image's fixtures: credHelpers only.
    if let Some(fx) = ferry_testkit::fixture("registry-auth/image/pkg/docker/config/testdata/config.json") {
        let text = std::fs::read_to_string(&fx).unwrap();
        let parsed = ferry_auth::parse_auth_json(&text, "config.json").unwrap();
        assert_eq!(
            parsed.cred_helpers.get("registry-no-creds.com").map(String::as_str),
            Some("helper-registry")
        );
        assert!(parsed.entries.is_empty());
    }
}
