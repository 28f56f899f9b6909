//! Mirror-to-mirror through the facade, against two real `docker-registry` processes.

use ferry_api::mirror::{mirror_to_mirror, ImageSelection, MirrorOptions};
use ferry_api::registry::RegistrySettings;
use ferry_api::{no_progress, CancellationToken, Destination, ErrorCode, ProgressEvent};
use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::sync::{Arc, Mutex};

fn layer(size: u64, seed: u64) -> LayerSpec {
    LayerSpec { size, seed }
}

fn http_settings() -> RegistrySettings {
    RegistrySettings {
        source_use_http: true,
        dest_use_http: true,
        ..Default::default()
    }
}

fn selection(images: &[String], blocked: &[&str]) -> ImageSelection {
    ImageSelection {
        additional: images.to_vec(),
        blocked: blocked.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mirrors_additional_images_and_writes_results() {
    let src = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let dst = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let base = layer(3 << 20, 1);
    let a = push_image(
        &src,
        "apps/web",
        "v1",
        &ImageSpec {
            format: ImageFormat::DockerV2S2,
            layers: vec![base, layer(1 << 20, 2)],
            platforms: vec![],
        },
    )
    .await;
    let b = push_image(
        &src,
        "apps/api",
        "v2",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![base, layer(512 << 10, 3)],
            platforms: vec![],
        },
    )
    .await;
    let multi = push_image(
        &src,
        "tools/multi",
        "latest",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(256 << 10, 4)],
            platforms: vec![("linux".into(), "amd64".into()), ("linux".into(), "arm64".into())],
        },
    )
    .await;
    let blocked = push_image(
        &src,
        "apps/forbidden",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(1000, 5)],
            platforms: vec![],
        },
    )
    .await;

    let h = src.host();
    let images = vec![
        format!("{h}/apps/web:v1"),
        format!("{h}/apps/api:v2"),
        format!("{h}/tools/multi:latest"),
        format!("{h}/apps/forbidden:v1"),
        // digest-only source: gets a synthetic 6-hex tag
        format!("{h}/apps/web@{}", a.digest),
    ];
    let ws = tempfile::tempdir().unwrap();
    let opts = MirrorOptions {
        registry: http_settings(),
        workspace: ws.path().to_path_buf(),
        ..Default::default()
    };
    let dest = Destination::parse(&format!("docker://{}/mirror", dst.host())).unwrap();
    let sel = selection(&images, &["forbidden"]);

    // Dry run: mapping only, nothing copied.
    let dry = MirrorOptions {
        dry_run: true,
        ..opts.clone()
    };
    let report = mirror_to_mirror(&sel, &dest, &dry, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    let mapping = std::fs::read_to_string(&report.mapping_file).unwrap();
    assert_eq!(mapping.lines().count(), 4, "{mapping}");
    assert!(
        mapping.contains(&format!("{h}/apps/web@{}={}/mirror/apps/web:v1", a.digest, dst.host())),
        "{mapping}"
    );
    assert!(
        mapping.contains(&format!("={}/mirror/apps/web:{}", dst.host(), &a.digest.hex()[..6])),
        "{mapping}"
    );
    assert!(!mapping.contains("forbidden"));
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/web", "v1").await,
        None,
        "dry run must copy nothing"
    );

    // Real run.
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let events = events.clone();
        Arc::new(move |e: ProgressEvent| events.lock().unwrap().push(e))
    };
    let report = mirror_to_mirror(&sel, &dest, &opts, sink, CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.images_copied, 4);
    assert_eq!(report.plan.blocked.len(), 1);
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/web", "v1").await,
        Some(a.digest.clone())
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/apps/api", "v2").await,
        Some(b.digest.clone())
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/tools/multi", "latest").await,
        Some(multi.digest.clone())
    );
    for child in &multi.children {
        assert_eq!(
            manifest_digest(&dst, "mirror/tools/multi", &child.to_string()).await,
            Some(child.clone())
        );
    }
    assert_eq!(manifest_digest(&dst, "mirror/apps/forbidden", "v1").await, None);
    let _ = blocked;
    // The shared base layer travelled once from the source.
    let base_digest = &a.blobs.iter().find(|(_, s)| *s > (2 << 20)).unwrap().0;
    let started = events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, ProgressEvent::BlobStarted { digest, .. } if digest == base_digest))
        .count();
    assert_eq!(started, 1, "the shared base layer must be copied once");

    let results = report.results_dir.clone();
    assert!(results.file_name().unwrap().to_str().unwrap().starts_with("results-"));
    let icsp = std::fs::read_to_string(results.join("imageContentSourcePolicy.yaml")).unwrap();
    assert!(
        icsp.contains("kind: ImageContentSourcePolicy") && icsp.contains(&format!("source: {h}/apps")),
        "{icsp}"
    );
    assert!(icsp.contains(&format!("- {}/mirror/apps", dst.host())), "{icsp}");
    let idms = std::fs::read_to_string(results.join("imageDigestMirrorSet.yaml")).unwrap();
    assert!(idms.contains("kind: ImageDigestMirrorSet"));
    assert_eq!(std::fs::read_to_string(results.join("mapping.txt")).unwrap(), mapping);

    // A re-run with nothing new is a quick no-op.
    let again = mirror_to_mirror(&sel, &dest, &opts, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(again.images_copied, 0);
    assert_eq!(again.images_up_to_date, 4);
    assert_eq!(again.bytes_copied, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_auth_destination() {
    let src = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let dst = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some(("mirror-user".into(), "s3cret-pass".into())),
        delete_enabled: false,
    });
    let img = push_image(
        &src,
        "ns/app",
        "1.0",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![layer(4096, 9)],
            platforms: vec![],
        },
    )
    .await;
    let ws = tempfile::tempdir().unwrap();
    let sel = selection(&[format!("{}/ns/app:1.0", src.host())], &[]);
    let dest = Destination::parse(&format!("docker://{}/m", dst.host())).unwrap();

    // Without the CA: a TLS error that says how to trust it.
    let empty_auth = ws.path().join("empty.json");
    std::fs::write(&empty_auth, "{\"auths\":{}}").unwrap();
    let base = RegistrySettings {
        source_use_http: true,
        authfile: Some(empty_auth.clone()),
        ..Default::default()
    };
    let opts = MirrorOptions {
        registry: base.clone(),
        workspace: ws.path().to_path_buf(),
        ..Default::default()
    };
    let err = mirror_to_mirror(&sel, &dest, &opts, no_progress(), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Tls, "{err}");
    assert!(err.to_string().contains("--ca-bundle"), "{err}");

    // With the CA but no credentials: 401 naming the registry and the credential source tried.
    let with_ca = RegistrySettings {
        ca_bundle: src_ca(&dst),
        ..base.clone()
    };
    let opts = MirrorOptions {
        registry: with_ca.clone(),
        ..opts
    };
    let err = mirror_to_mirror(&sel, &dest, &opts, no_progress(), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized, "{err}");
    assert!(err.to_string().contains(&dst.host()), "{err}");
    assert!(err.to_string().contains("empty.json"), "{err}");

    // With credentials from --authfile: mirrored.
    let auth = ws.path().join("auth.json");
    dst.write_auth_file(&auth);
    let opts = MirrorOptions {
        registry: RegistrySettings {
            authfile: Some(auth),
            ..with_ca
        },
        ..opts
    };
    let report = mirror_to_mirror(&sel, &dest, &opts, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.images_copied, 1);
    assert_eq!(manifest_digest(&dst, "m/ns/app", "1.0").await, Some(img.digest));
}

fn src_ca(s: &RegistryServer) -> Option<std::path::PathBuf> {
    s.ca_pem_path()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_image_fails_clearly_unless_skipped() {
    let src = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let dst = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let ws = tempfile::tempdir().unwrap();
    let sel = selection(&[format!("{}/nope/missing:1", src.host())], &[]);
    let dest = Destination::parse(&format!("docker://{}", dst.host())).unwrap();
    let opts = MirrorOptions {
        registry: http_settings(),
        workspace: ws.path().to_path_buf(),
        ..Default::default()
    };
    let err = mirror_to_mirror(&sel, &dest, &opts, no_progress(), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound, "{err}");
    assert!(err.to_string().contains("nope/missing:1"), "{err}");

    let skip = MirrorOptions {
        skip_missing: true,
        ..opts
    };
    let report = mirror_to_mirror(&sel, &dest, &skip, no_progress(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(report.plan.failures.len(), 1);
    assert_eq!(report.images_copied, 0);
}
