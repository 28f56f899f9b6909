//! Login tests and registry trust through `ferry_api::credentials`, against real `docker-registry`
//! processes (TLS with a test CA, htpasswd) and, for the refusal a htpasswd registry cannot
//! produce (authenticated but no push), a tiny real HTTP server. Secrets go to keyring-core's
//! in-memory mock here; the real OS stores are tested in ferry-auth under scripts/test-keyring.sh.

use ferry_api::credentials::{
    self, init_keyring, Credential, CredentialStore, KeyringBackend, LoginOutcome, RegistryTrust, Secret,
};
use ferry_testkit::{RegistryOpts, RegistryServer};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

fn tls_auth_registry() -> RegistryServer {
    RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some(("mirroruser".into(), "Corr3ct-Horse".into())),
        delete_enabled: false,
    })
}

fn basic(u: &str, p: &str) -> Option<Credential> {
    Some(Credential::Basic {
        username: u.into(),
        password: Secret::new(p),
    })
}

fn ca(reg: &RegistryServer) -> Option<RegistryTrust> {
    Some(RegistryTrust {
        ca_bundle: reg.ca_pem_path(),
        ..Default::default()
    })
}

fn store() -> (tempfile::TempDir, CredentialStore) {
    init_keyring(Some(KeyringBackend::Mock)).unwrap();
    let d = tempfile::tempdir().unwrap();
    let s = CredentialStore::open(d.path()).unwrap();
    (d, s)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_outcomes_against_a_real_tls_htpasswd_registry() {
    let reg = tls_auth_registry();
    let host = reg.host();
    let (_d, st) = store();

    let ok = credentials::test_login(&st, &host, basic("mirroruser", "Corr3ct-Horse"), ca(&reg), true)
        .await
        .unwrap();
    assert_eq!(ok.outcome, LoginOutcome::Ok, "{}", ok.message);
    assert_eq!(ok.push_repository.as_deref(), Some("oc-mirror"));
    assert!(ok.warning.is_none());

    // A namespace login probes under the namespace, as oc-mirror does.
    let ns = credentials::test_login(
        &st,
        &format!("{host}/ocp4"),
        basic("mirroruser", "Corr3ct-Horse"),
        ca(&reg),
        true,
    )
    .await
    .unwrap();
    assert_eq!(ns.outcome, LoginOutcome::Ok, "{}", ns.message);
    assert_eq!(ns.push_repository.as_deref(), Some("ocp4/oc-mirror"));

    let wrong = credentials::test_login(&st, &host, basic("mirroruser", "wrong-pass-XYZ"), ca(&reg), true)
        .await
        .unwrap();
    assert_eq!(wrong.outcome, LoginOutcome::WrongCredentials, "{}", wrong.message);
    assert!(!wrong.message.contains("wrong-pass-XYZ"));

    let none = credentials::test_login(&st, &host, None, ca(&reg), true).await.unwrap();
    assert_eq!(none.outcome, LoginOutcome::NoCredentials, "{}", none.message);
    assert!(
        none.message.contains(&format!("ferry login {host}")),
        "{}",
        none.message
    );

    let untrusted = credentials::test_login(&st, &host, basic("mirroruser", "Corr3ct-Horse"), None, true)
        .await
        .unwrap();
    assert_eq!(
        untrusted.outcome,
        LoginOutcome::UntrustedCertificate,
        "{}",
        untrusted.message
    );
    assert!(untrusted.message.contains("--ca-bundle"), "{}", untrusted.message);

    let skip = credentials::test_login(
        &st,
        &host,
        basic("mirroruser", "Corr3ct-Horse"),
        Some(RegistryTrust {
            skip_verify: true,
            ..Default::default()
        }),
        true,
    )
    .await
    .unwrap();
    assert_eq!(skip.outcome, LoginOutcome::Ok, "{}", skip.message);
    assert!(skip.warning.unwrap().contains("verification is OFF"));

    // Nothing listens on a port we just released.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let gone = credentials::test_login(&st, &format!("127.0.0.1:{port}"), basic("u", "p"), None, false)
        .await
        .unwrap();
    assert_eq!(gone.outcome, LoginOutcome::Unreachable, "{}", gone.message);
}

/// Answers `GET /v2/` only with Basic credentials, and refuses every upload with 403: a registry
/// where the account may pull but not push.
fn read_only_registry() -> (String, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    let h = std::thread::spawn(move || {
        // Bounded: the test makes a handful of requests.
        for stream in l.incoming().take(8) {
            let Ok(mut s) = stream else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            if r.read_line(&mut line).is_err() || line.is_empty() {
                continue;
            }
            let mut authed = false;
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
                if h.to_ascii_lowercase().starts_with("authorization: basic ") {
                    authed = true;
                }
            }
            let resp = if !authed {
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"ro\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
            } else if line.starts_with("GET /v2/ ") {
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
                    .to_string()
            } else {
                let body = r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#;
                format!("HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            };
            let _ = s.write_all(resp.as_bytes());
        }
    });
    (addr, h)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_push_permission_is_reported_as_such() {
    let (addr, _h) = read_only_registry();
    let (_d, st) = store();
    let http = Some(RegistryTrust {
        plain_http: true,
        ..Default::default()
    });
    let pull = credentials::test_login(&st, &addr, basic("reader", "pw"), http.clone(), false)
        .await
        .unwrap();
    assert_eq!(pull.outcome, LoginOutcome::Ok, "{}", pull.message);
    let push = credentials::test_login(&st, &format!("{addr}/ocp"), basic("reader", "pw"), http, true)
        .await
        .unwrap();
    assert_eq!(push.outcome, LoginOutcome::NoPushPermission, "{}", push.message);
    assert!(push.message.contains("ocp/oc-mirror"), "{}", push.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_login_and_trust_serve_a_later_run() {
    let reg = tls_auth_registry();
    let host = reg.host();
    let (dir, mut st) = store();
    credentials::save_login(&mut st, &host, "mirroruser", Secret::new("Corr3ct-Horse"), ca(&reg)).unwrap();

    // A later run: reopen from disk; the login test uses the stored credential and trust.
    let st = CredentialStore::open(dir.path()).unwrap();
    let r = credentials::test_login(&st, &host, None, None, true).await.unwrap();
    assert_eq!(r.outcome, LoginOutcome::Ok, "{}", r.message);
    assert!(r.credential_source.unwrap().contains("keyring"));

    // The engine's client built from the store (resolver + per-registry trust) reaches the
    // registry: authenticated and TLS-verified against the stored CA.
    assert_eq!(credentials::tls_policies(&st)[&host].ca_bundle, reg.ca_pem_path());
    let client = credentials::engine_client(&st, None).unwrap();
    client.check_push_permission(&host, "team/app").await.unwrap();
    let img = ferry_testkit::push_image(
        &reg,
        "team/app",
        "v1",
        &ferry_testkit::ImageSpec {
            format: ferry_testkit::ImageFormat::Oci,
            layers: vec![ferry_testkit::LayerSpec { size: 4096, seed: 7 }],
            platforms: vec![],
        },
    )
    .await;
    assert_eq!(
        client.list_tags(&host, "team/app").await.unwrap(),
        vec![img.tag.clone()]
    );

    // Export for oc/podman: 0600 and the real credential.
    let (path, n) = credentials::export_auth_json(&st, Some(&dir.path().join("out/auth.json"))).unwrap();
    assert_eq!(n, 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(v["auths"][&host]["auth"].is_string());
}
