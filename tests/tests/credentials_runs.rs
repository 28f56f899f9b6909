//! Which credentials and trust a real mirror run uses, through the facade against real
//! `docker-registry` processes (TLS with per-registry test CAs, htpasswd): a stored login whose
//! keyring secret vanished does not fail the run, an explicit `--authfile` wins over a stored
//! login, and a run's `--ca-bundle` adds to a registry's stored CA instead of replacing it.
//! The store lives in a per-test folder (`FERRY_CONFIG_DIR`; nextest runs each test in its own
//! process) with keyring-core's in-memory mock as the keyring.

use ferry_api::credentials::{self, init_keyring, CredentialStore, KeyringBackend, RegistryTrust, Secret};
use ferry_api::mirror::{mirror_to_mirror, ImageSelection, MirrorOptions};
use ferry_api::registry::RegistrySettings;
use ferry_api::{no_progress, CancellationToken, Destination};
use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::path::Path;

fn config_dir() -> tempfile::TempDir {
    init_keyring(Some(KeyringBackend::Mock)).unwrap();
    let d = tempfile::tempdir().unwrap();
    std::env::set_var("FERRY_CONFIG_DIR", d.path());
    d
}

fn registry(tls: bool, auth: bool) -> RegistryServer {
    RegistryServer::start(RegistryOpts {
        tls,
        auth: auth.then(|| ("mirroruser".to_string(), "Corr3ct-Horse".to_string())),
        delete_enabled: false,
    })
}

async fn seed(src: &RegistryServer) -> ferry_testkit::PushedImage {
    push_image(
        src,
        "apps/a",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec {
                size: 32 << 10,
                seed: 11,
            }],
            platforms: vec![],
        },
    )
    .await
}

async fn mirror(
    src: &RegistryServer,
    dst: &RegistryServer,
    ws: &Path,
    settings: RegistrySettings,
) -> ferry_api::Result<ferry_api::mirror::MirrorReport> {
    let sel = ImageSelection {
        additional: vec![format!("{}/apps/a:v1", src.host())],
        ..Default::default()
    };
    let dest = Destination::parse(&format!("docker://{}/m", dst.host())).unwrap();
    let opts = MirrorOptions {
        registry: settings,
        workspace: ws.to_path_buf(),
        ..Default::default()
    };
    mirror_to_mirror(&sel, &dest, &opts, no_progress(), CancellationToken::new()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vanished_keyring_secret_does_not_fail_a_run_the_authfile_serves() {
    let cfg = config_dir();
    let (src, dst) = (registry(false, false), registry(false, true));
    let img = seed(&src).await;
    // A stored login for the target whose secret the keyring forgot (keyutils after a reboot).
    let mut st = CredentialStore::open(cfg.path()).unwrap();
    credentials::save_login(&mut st, &dst.host(), "mirroruser", Secret::new("Corr3ct-Horse"), None).unwrap();
    ferry_auth_delete(&dst.host());
    let ws = tempfile::tempdir().unwrap();
    let auth = ws.path().join("auth.json");
    dst.write_auth_file(&auth);
    let settings = RegistrySettings {
        source_use_http: true,
        dest_use_http: true,
        authfile: Some(auth),
        ..Default::default()
    };
    let r = mirror(&src, &dst, ws.path(), settings.clone()).await.unwrap();
    assert_eq!(r.images_copied, 1);
    assert_eq!(manifest_digest(&dst, "m/apps/a", "v1").await, Some(img.digest));

    // Without the auth file the run needs the vanished login: the 401 says how to recover.
    let e = mirror(
        &src,
        &dst,
        ws.path(),
        RegistrySettings {
            authfile: None,
            ..settings
        },
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains(&format!("ferry login {}", dst.host())), "{e}");
}

/// The keyring entry of `key`, removed behind the store's back (as keyutils forgets at reboot).
fn ferry_auth_delete(key: &str) {
    assert!(ferry_auth::keystore::delete_secret(key).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_authfile_wins_over_a_stored_login() {
    let cfg = config_dir();
    let (src, dst) = (registry(false, false), registry(false, true));
    seed(&src).await;
    let mut st = CredentialStore::open(cfg.path()).unwrap();
    credentials::save_login(&mut st, &dst.host(), "mirroruser", Secret::new("stale-password"), None).unwrap();
    let ws = tempfile::tempdir().unwrap();
    let auth = ws.path().join("auth.json");
    dst.write_auth_file(&auth);
    let settings = RegistrySettings {
        source_use_http: true,
        dest_use_http: true,
        ..Default::default()
    };
    // The stored (stale) login alone is refused...
    let e = mirror(&src, &dst, ws.path(), settings.clone()).await.unwrap_err();
    assert_eq!(e.code(), ferry_api::ErrorCode::Unauthorized, "{e}");
    // ...and the --authfile given for this run is used instead of it.
    let r = mirror(
        &src,
        &dst,
        ws.path(),
        RegistrySettings {
            authfile: Some(auth),
            ..settings
        },
    )
    .await
    .unwrap();
    assert_eq!(r.images_copied, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_ca_bundle_adds_to_the_stored_ca() {
    let cfg = config_dir();
    // Two TLS registries, each with its own CA: the target's is stored, the source's is given
    // for this run.
    let (src, dst) = (registry(true, false), registry(true, false));
    let img = seed(&src).await;
    let mut st = CredentialStore::open(cfg.path()).unwrap();
    st.set_trust(
        &dst.host(),
        RegistryTrust {
            ca_bundle: dst.ca_pem_path(),
            ..Default::default()
        },
    )
    .unwrap();
    let ws = tempfile::tempdir().unwrap();
    let settings = RegistrySettings {
        ca_bundle: src.ca_pem_path(),
        ..Default::default()
    };
    let r = mirror(&src, &dst, ws.path(), settings).await.unwrap();
    assert_eq!(r.images_copied, 1);
    assert_eq!(manifest_digest(&dst, "m/apps/a", "v1").await, Some(img.digest));
}
