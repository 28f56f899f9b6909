//! The credential store against keyring-core's in-memory mock store (its own test binary: the
//! keyring store is process-wide). Each test uses its own registry names, so they can run in
//! parallel on the one mock store.

use base64::Engine as _;
use ferry_auth::{
    init_keyring, CredentialKind, CredentialResolver, CredentialStore, EntryOrigin, KeyringBackend, RegistryTrust,
    Secret,
};
use std::path::{Path, PathBuf};

fn mock() {
    assert_eq!(init_keyring(Some(KeyringBackend::Mock)).unwrap(), KeyringBackend::Mock);
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn fixtures() -> Option<PathBuf> {
    ferry_testkit::fixtures()
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn import_list_resolve_remove_and_nothing_secret_on_disk() {
    mock();
    let dir = tempfile::tempdir().unwrap();
    let secret_pw = "PullSecretPassw0rd-imp";
    let token = "identity-token-value-imp";
    let text = format!(
        r#"{{"auths":{{"cloud.imp.example":{{"auth":"{}","email":"me@example.com"}},"registry.imp.example":{{"auth":"{}","identitytoken":"{token}"}}}}}}"#,
        b64(&format!("pulluser:{secret_pw}")),
        b64("tokenuser:unused")
    );
    let mut store = CredentialStore::open(dir.path()).unwrap();
    let report = store.import_pull_secret(&text, "pasted pull secret").unwrap();
    assert_eq!(report.imported.len(), 2);
    assert!(report.skipped.is_empty());

    // A later run opens the store afresh: the index plus the keyring serve it.
    let store = CredentialStore::open(dir.path()).unwrap();
    let list = store.list();
    assert_eq!(
        list.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(),
        vec!["cloud.imp.example", "registry.imp.example"]
    );
    assert_eq!(list[0].username.as_deref(), Some("pulluser"));
    assert_eq!(list[0].email.as_deref(), Some("me@example.com"));
    assert_eq!(list[0].origin, EntryOrigin::PullSecret);
    assert_eq!(list[1].kind, CredentialKind::IdentityToken);
    let r = store.resolver().unwrap();
    let got = r.resolve("cloud.imp.example", "ns/app").unwrap();
    match got.credential {
        ferry_auth::Credential::Basic { username, password } => {
            assert_eq!(username, "pulluser");
            assert_eq!(password.expose(), secret_pw);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(got.source.contains("keyring"), "{}", got.source);
    assert!(!format!("{r:?} {:?}", r.resolve("registry.imp.example", "x")).contains(token));

    // Nothing secret in clear (nor base64) in the config folder.
    for f in all_files(dir.path()) {
        let body = std::fs::read_to_string(&f).unwrap();
        for needle in [secret_pw, token, &b64(&format!("pulluser:{secret_pw}"))] {
            assert!(!body.contains(needle), "{} contains a secret", f.display());
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&f).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }

    let mut store = store;
    assert!(store.remove("https://cloud.imp.example/").unwrap());
    assert!(!store.remove("cloud.imp.example").unwrap());
    assert!(ferry_auth::keystore::get_secret("cloud.imp.example").unwrap().is_none());
    assert_eq!(store.list().len(), 1);
}

#[test]
fn mirror_login_add_edit_merge_and_export() {
    mock();
    let dir = tempfile::tempdir().unwrap();
    let mut store = CredentialStore::open(dir.path()).unwrap();
    let ps = format!(
        r#"{{"auths":{{"quay.merge.example":{{"auth":"{}"}},"mirror.merge.example:8443":{{"auth":"{}"}}}}}}"#,
        b64("ps:pspw"),
        b64("old:oldpw")
    );
    store
        .set_login("mirror.merge.example:8443/ocp", "admin", Secret::new("first"))
        .unwrap();
    // Edit = set again.
    let s = store
        .set_login("mirror.merge.example:8443/ocp", "admin2", Secret::new("second"))
        .unwrap();
    assert_eq!(s.origin, EntryOrigin::Mirror);
    store
        .set_login("mirror.merge.example:8443", "hostwide", Secret::new("hw"))
        .unwrap();
    // The pull secret's entry for the mirror host must not overwrite the typed login.
    let rep = store.import_pull_secret(&ps, "ps.json").unwrap();
    assert_eq!(rep.imported.len(), 1);
    assert_eq!(rep.skipped.len(), 1, "{:?}", rep.skipped);

    let r = store.resolver().unwrap();
    let ns = r.resolve("mirror.merge.example:8443", "ocp/release").unwrap();
    assert_eq!(ns.credential.username(), Some("admin2"));
    let host = r.resolve("mirror.merge.example:8443", "other/x").unwrap();
    assert_eq!(host.credential.username(), Some("hostwide"));
    assert_eq!(
        r.resolve("quay.merge.example", "a/b").unwrap().credential.username(),
        Some("ps")
    );

    // Merged with an auth file: the keyring wins for the same host, the file fills the rest.
    let authfile = dir.path().join("other.json");
    std::fs::write(
        &authfile,
        format!(
            r#"{{"auths":{{"quay.merge.example":{{"auth":"{}"}},"file-only.merge.example":{{"auth":"{}"}}}}}}"#,
            b64("fromfile:x"),
            b64("fileuser:y")
        ),
    )
    .unwrap();
    let files = ferry_auth::AuthFileResolver::load(std::slice::from_ref(&authfile)).unwrap();
    let merged = store.merged_resolver(None, files).unwrap();
    assert_eq!(
        merged.resolve("quay.merge.example", "a").unwrap().credential.username(),
        Some("ps")
    );
    let f = merged.resolve("file-only.merge.example", "a").unwrap();
    assert_eq!(f.credential.username(), Some("fileuser"));
    assert_eq!(f.source, authfile.display().to_string());

    // The same file given as --authfile wins over the stored login for the hosts it covers;
    // hosts it does not cover still get the stored login.
    let explicit = ferry_auth::AuthFileResolver::load(std::slice::from_ref(&authfile)).unwrap();
    let files = ferry_auth::AuthFileResolver::load(&[]).unwrap();
    let run = store.merged_resolver(Some(explicit), files).unwrap();
    let q = run.resolve("quay.merge.example", "a").unwrap();
    assert_eq!(q.credential.username(), Some("fromfile"));
    assert_eq!(q.source, authfile.display().to_string());
    assert_eq!(
        run.resolve("mirror.merge.example:8443", "other/x")
            .unwrap()
            .credential
            .username(),
        Some("hostwide")
    );
    assert!(
        run.sources().starts_with(&authfile.display().to_string()),
        "{}",
        run.sources()
    );

    // Export: mode 0600, parses back to the same set.
    let out = dir.path().join("export/auth.json");
    assert_eq!(store.export_auth_json(&out).unwrap(), 3);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let back = ferry_auth::parse_auth_json(&std::fs::read_to_string(&out).unwrap(), "export").unwrap();
    let keys: Vec<_> = back.entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            "mirror.merge.example:8443",
            "mirror.merge.example:8443/ocp",
            "quay.merge.example"
        ]
    );
    let e = back.entries.iter().find(|e| e.key.ends_with("/ocp")).unwrap();
    assert!(
        matches!(&e.credential, ferry_auth::Credential::Basic{username, password} if username == "admin2" && password.expose() == "second")
    );
}

#[test]
fn bad_input_is_rejected_with_the_entry_named() {
    mock();
    let dir = tempfile::tempdir().unwrap();
    let mut store = CredentialStore::open(dir.path()).unwrap();
    let e = store
        .import_pull_secret(r#"{"auths":{"bad.example":{"auth":"!!!"}}}"#, "pasted pull secret")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("pasted pull secret") && e.contains("\"bad.example\"") && e.contains("base64"),
        "{e}"
    );
    let e = store.import_pull_secret("{}", "empty.json").unwrap_err().to_string();
    assert!(e.contains("no registry credentials"), "{e}");
    // Nothing half-imported, no index written.
    assert!(store.list().is_empty());
    assert!(!dir.path().join("credentials.json").exists());

    for bad in ["", "https://", "host:port", "quay.io/ns:tag", "a b", "quay.io//x"] {
        assert!(store.set_login(bad, "u", Secret::new("p")).is_err(), "{bad:?} accepted");
    }
    assert!(store.set_login("ok.example", "u:x", Secret::new("p")).is_err());
    assert!(store.set_login("ok.example", "u", Secret::new("")).is_err());

    // An index entry without its keyring secret (keyutils after a reboot) does not fail the
    // set: the other entries still resolve, the vanished one resolves to nothing, and the
    // sources a 401 message lists say how to recover. An export refuses the partial set.
    store.set_login("keep.example", "k", Secret::new("kp")).unwrap();
    store.set_login("vanish.example", "u", Secret::new("p")).unwrap();
    ferry_auth::keystore::delete_secret("vanish.example").unwrap();
    let r = store.resolver().unwrap();
    assert!(r.resolve("vanish.example", "x").is_none());
    assert_eq!(r.resolve("keep.example", "x").unwrap().credential.username(), Some("k"));
    let src = r.sources();
    assert!(
        src.contains("vanish.example") && src.contains("ferry login vanish.example"),
        "{src}"
    );
    let e = store
        .export_auth_json(&dir.path().join("out.json"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("ferry login vanish.example"), "{e}");
    assert!(!dir.path().join("out.json").exists());
}

#[test]
fn trust_settings_round_trip() {
    mock();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").unwrap();
    let mut store = CredentialStore::open(dir.path()).unwrap();
    store
        .set_trust(
            "mirror.trust.example:8443",
            RegistryTrust {
                ca_bundle: Some(ca.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    store
        .set_trust(
            "insecure.trust.example",
            RegistryTrust {
                skip_verify: true,
                ..Default::default()
            },
        )
        .unwrap();
    let store = CredentialStore::open(dir.path()).unwrap();
    assert_eq!(
        store.trust("mirror.trust.example:8443").unwrap().ca_bundle.as_deref(),
        Some(ca.as_path())
    );
    let t = store.trust("insecure.trust.example").unwrap();
    assert!(t
        .warning("insecure.trust.example")
        .unwrap()
        .contains("verification is OFF"));
    let mut store = store;
    store
        .set_trust("insecure.trust.example", RegistryTrust::default())
        .unwrap();
    assert!(store.trust("insecure.trust.example").is_none());
    assert_eq!(store.trust_map().len(), 1);

    let notpem = dir.path().join("x.pem");
    std::fs::write(&notpem, "hello").unwrap();
    let e = store
        .set_trust(
            "a.example",
            RegistryTrust {
                ca_bundle: Some(notpem),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("no PEM certificate"), "{e}");
    assert!(store
        .set_trust(
            "a.example/ns",
            RegistryTrust {
                plain_http: true,
                ..Default::default()
            }
        )
        .is_err());
}

#[test]
fn keyring_mock_failure_surfaces_as_a_clear_error() {
    mock();
    let dir = tempfile::tempdir().unwrap();
    let mut store = CredentialStore::open(dir.path()).unwrap();
    store.set_login("fail.example", "u", Secret::new("pw")).unwrap();
    let entry = keyring_core::Entry::new(ferry_auth::keystore::SERVICE, "fail.example").unwrap();
    let m: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
    m.set_error(keyring_core::Error::NoStorageAccess(Box::new(std::io::Error::other(
        "collection is locked",
    ))));
    // The refusal does not fail a run by itself; it is named where a 401 would list sources.
    let r = store.resolver().unwrap();
    assert!(r.resolve("fail.example", "x").is_none());
    let e = r.sources();
    assert!(e.contains("fail.example") && e.contains("collection is locked"), "{e}");
    assert!(!e.contains("pw"), "{e}");
}

#[test]
fn real_auth_file_fixtures_parse() {
    let Some(fx) = fixtures() else { return };
    let dir = fx.join("registry-auth/image/pkg/docker/config/testdata");
    let full = ferry_auth::AuthFileResolver::load(&[dir.join("full.json")]).unwrap();
    // "index.docker.io" and "docker.io" both normalise to docker.io; the first listed wins.
    let d = full.resolve("docker.io", "library/busybox").unwrap();
    assert!(matches!(d.credential.username(), Some("index") | Some("docker")));
    assert_eq!(
        full.resolve("localhost:5000", "x").unwrap().credential.username(),
        Some("local")
    );
    assert_eq!(
        full.resolve("normalize.example.org", "x")
            .unwrap()
            .credential
            .username(),
        Some("normalize")
    );
    assert_eq!(
        full.resolve("10.10.30.45:5000", "x").unwrap().credential.username(),
        Some("10.10")
    );

    let refpath = ferry_auth::AuthFileResolver::load(&[dir.join("refpath.json")]).unwrap();
    assert_eq!(
        refpath
            .resolve("docker.io", "library/busybox")
            .unwrap()
            .credential
            .username(),
        Some("library")
    );
    assert_eq!(
        refpath
            .resolve("docker.io", "library/busybox")
            .map(|r| match r.credential {
                ferry_auth::Credential::Basic { password, .. } => password.expose().to_string(),
                _ => String::new(),
            }),
        Some("busybox".to_string())
    );
    assert_eq!(
        refpath
            .resolve("docker.io", "library/alpine")
            .unwrap()
            .credential
            .username(),
        Some("library")
    );
    assert_eq!(
        refpath.resolve("docker.io", "vendor/x").unwrap().credential.username(),
        Some("first")
    );
    assert_eq!(
        refpath.resolve("docker.io", "other/x").unwrap().credential.username(),
        Some("top")
    );
    assert_eq!(
        refpath.resolve("example.org", "repo").unwrap().credential.username(),
        Some("example")
    );

    let legacy = ferry_auth::AuthFileResolver::load(&[dir.join("legacy.json")]).unwrap();
    assert_eq!(
        legacy.resolve("docker.io", "x").unwrap().credential.username(),
        Some("docker")
    );
    assert_eq!(
        legacy.resolve("localhost", "x").unwrap().credential.username(),
        Some("local")
    );

    let tok = ferry_auth::AuthFileResolver::load(&[dir.join("example_identitytoken.json")]).unwrap();
    assert!(matches!(
        tok.resolve("example.org", "x").unwrap().credential,
        ferry_auth::Credential::IdentityToken(t) if t.expose() == "some very long identity token"
    ));
    let abnormal = ferry_auth::AuthFileResolver::load(&[dir.join("abnormal.json")]).unwrap();
    assert_eq!(
        abnormal.resolve("127.0.0.1:5000", "x").unwrap().credential.username(),
        Some("127.0")
    );
    assert_eq!(
        abnormal.resolve("localhost:5001", "x").unwrap().credential.username(),
        Some("local")
    );
    let empty = ferry_auth::AuthFileResolver::load(&[dir.join("empty.json")]).unwrap();
    assert!(empty.resolve("example.org", "x").is_none());

    // Importing a real-shaped file as a pull secret stores every entry.
    mock();
    let cfgdir = tempfile::tempdir().unwrap();
    let mut store = CredentialStore::open(cfgdir.path()).unwrap();
    let rep = store.import_pull_secret_file(&dir.join("example.json")).unwrap();
    assert_eq!(rep.imported[0].key, "example.org");
    assert_eq!(rep.imported[0].username.as_deref(), Some("example"));
}
