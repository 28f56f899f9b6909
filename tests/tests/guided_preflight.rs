//! The guided flow's checks before a run (`ferry_api::preflight`), against real `docker-registry`
//! processes: a plain loopback source, and a TLS + htpasswd registry as source and target. The
//! credential store is the default one in a private config folder (the plan reads it too);
//! secrets go to keyring-core's in-memory mock.

use ferry_api::preflight::{preflight_with, CheckState, FixAction, PreflightReport, PreflightRequest};
use ferry_api::wire::JobKind;
use ferry_auth::{init_keyring, CredentialStore, KeyringBackend, RegistryTrust, Secret};
use ferry_testkit::{push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};

fn private_store() -> (tempfile::TempDir, CredentialStore) {
    init_keyring(Some(KeyringBackend::Mock)).unwrap();
    let d = tempfile::tempdir().unwrap();
    // One process per test (nextest): the plan and the checks read this store.
    std::env::set_var("FERRY_CONFIG_DIR", d.path().join("config"));
    let s = CredentialStore::open_default().unwrap();
    (d, s)
}

async fn seeded(reg: &RegistryServer) -> String {
    let img = push_image(
        reg,
        "apps/web",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec {
                size: 256 << 10,
                seed: 7,
            }],
            platforms: vec![],
        },
    )
    .await;
    format!("{}/{}:{}", reg.host(), img.repo, img.tag)
}

fn image_set(image: &str, metadata: &std::path::Path) -> String {
    format!(
        "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\narchiveSize: 1\nstorageConfig:\n  local:\n    path: {}\nmirror:\n  additionalImages:\n    - name: {image}\n",
        metadata.display()
    )
}

fn state(r: &PreflightReport, id: &str) -> CheckState {
    r.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {:?}", r.checks))
        .state
}

fn m2d(yaml: &str, folder: &str) -> PreflightRequest {
    PreflightRequest {
        kind: JobKind::MirrorToDisk,
        yaml: Some(yaml.into()),
        folder: Some(folder.into()),
        registry: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_checks_pass_and_fail_with_their_fixes() {
    let (dir, mut store) = private_store();
    let src = RegistryServer::start(RegistryOpts::default());
    store
        .set_trust(
            &src.host(),
            RegistryTrust {
                plain_http: true,
                ..Default::default()
            },
        )
        .unwrap();
    let image = seeded(&src).await;
    let media = dir.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    let yaml = image_set(&image, &dir.path().join("metadata"));

    let ok = preflight_with(&store, &m2d(&yaml, media.to_str().unwrap())).await;
    assert!(ok.ready, "{:#?}", ok.checks);
    for id in ["image-set", "plan", "credentials", "destination", "space", "filesystem"] {
        assert_eq!(state(&ok, id), CheckState::Ok, "{id}: {:#?}", ok.checks);
    }
    let plan = ok.plan.as_ref().unwrap();
    assert_eq!(plan.groups[0].images.len(), 1);
    assert!(plan.total_bytes > 256 << 10);
    assert_eq!(ok.registries.len(), 1);
    assert_eq!(ok.registries[0].registry, src.host());
    assert_eq!(
        ok.registries[0].credential_source, None,
        "the loopback source needs no login"
    );
    let dest = ok.destination.as_ref().unwrap();
    assert!(dest.folder.writable && dest.folder.free_bytes > 0);
    assert_ne!(dest.fs_type, "unknown");

    // A folder that is not there: the destination check fails, offers another folder.
    let gone = preflight_with(&store, &m2d(&yaml, "/does/not/exist/ferry-media")).await;
    assert!(!gone.ready);
    let c = gone.checks.iter().find(|c| c.id == "destination").unwrap();
    assert_eq!((c.state, c.fix), (CheckState::Error, Some(FixAction::PickDestination)));
    assert!(c.title.contains("/does/not/exist/ferry-media"), "{}", c.title);

    // An invalid image set is reported at its line before anything is planned.
    let bad = yaml.replace("archiveSize: 1", "archiveSize: -1");
    let r = preflight_with(&store, &m2d(&bad, media.to_str().unwrap())).await;
    assert!(!r.ready && r.plan.is_none());
    let c = &r.checks[0];
    assert_eq!(
        (c.id.as_str(), c.state, c.fix),
        ("image-set", CheckState::Error, Some(FixAction::EditImageSet))
    );
    assert!(c.detail.contains("line 3"), "{}", c.detail);

    // An image the source does not have fails the plan, naming it.
    let missing = yaml.replace("apps/web:v1", "apps/web:nope");
    let r = preflight_with(&store, &m2d(&missing, media.to_str().unwrap())).await;
    assert!(!r.ready);
    assert!(
        r.checks
            .iter()
            .any(|c| c.state == CheckState::Error && c.detail.contains("apps/web:nope")),
        "{:#?}",
        r.checks
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_that_needs_a_login_is_caught_before_the_run_and_the_target_login_tested() {
    let (dir, mut store) = private_store();
    let reg = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some(("mirroruser".into(), "Corr3ct-Horse".into())),
        delete_enabled: false,
    });
    store
        .set_trust(
            &reg.host(),
            RegistryTrust {
                ca_bundle: reg.ca_pem_path(),
                ..Default::default()
            },
        )
        .unwrap();
    let image = seeded(&reg).await;
    let media = dir.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    let yaml = image_set(&image, &dir.path().join("metadata"));

    // No login stored: the plan's 401 becomes a credentials check with the fix.
    let r = preflight_with(&store, &m2d(&yaml, media.to_str().unwrap())).await;
    assert!(!r.ready);
    let c = r
        .checks
        .iter()
        .find(|c| c.id == "credentials")
        .expect("a credentials check");
    assert_eq!(
        (c.state, c.fix),
        (CheckState::Error, Some(FixAction::OpenCredentials)),
        "{}",
        c.detail
    );
    assert!(c.detail.contains(&reg.host()), "{}", c.detail);

    // The target login is tested with a push probe: refused without a login ...
    let d2m = |folder: &str| PreflightRequest {
        kind: JobKind::DiskToMirror,
        yaml: None,
        folder: Some(folder.into()),
        registry: Some(format!("{}/ocp", reg.host())),
    };
    let r = preflight_with(&store, &d2m(media.to_str().unwrap())).await;
    assert_eq!(state(&r, "media"), CheckState::Error, "an empty folder holds no part");
    assert_eq!(state(&r, "target"), CheckState::Error);

    // ... and with the login saved both pass, naming where the credential comes from.
    store
        .set_login(&reg.host(), "mirroruser", Secret::new("Corr3ct-Horse"))
        .unwrap();
    let r = preflight_with(&store, &m2d(&yaml, media.to_str().unwrap())).await;
    assert!(r.ready, "{:#?}", r.checks);
    assert!(r.registries[0].credential_source.is_some());
    std::fs::write(media.join("mirror_seq1_000000.tar"), b"").unwrap();
    let r = preflight_with(&store, &d2m(media.to_str().unwrap())).await;
    assert!(r.ready, "{:#?}", r.checks);
    assert_eq!(r.registries[0].role, "target");
}
