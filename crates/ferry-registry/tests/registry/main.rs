//! The registry client against real registries: Debian's docker-registry (started per test by
//! ferry-testkit in HTTP, TLS and htpasswd modes) and a tiny HTTP server for retries, bearer
//! tokens and the concurrency bound.

mod httpd;
mod ranged;

use bytes::Bytes;
use ferry_auth::{AuthFileResolver, CredentialResolver};
use ferry_registry::{ClientOptions, RegistryClient, TlsPolicy};
use ferry_testkit::{
    blob_digest, get_manifest, manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, PushedImage,
    RegistryOpts, RegistryServer,
};
use ferry_types::{Digest, Error, ErrorCode, ImageDestination, ImageSource, Manifest, Sha256Hasher};
use futures::StreamExt;
use httpd::{Httpd, Response};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn http_policy() -> TlsPolicy {
    TlsPolicy {
        plain_http: true,
        ..Default::default()
    }
}

fn client_with(creds: Arc<dyn CredentialResolver>, tls: TlsPolicy) -> RegistryClient {
    let opts = ClientOptions {
        default_tls: tls,
        retry_base_delay: Duration::from_millis(10),
        ..Default::default()
    };
    RegistryClient::new(creds, opts).expect("client")
}

fn anon_http() -> RegistryClient {
    client_with(Arc::new(ferry_auth::Anonymous), http_policy())
}

fn resolver(path: &Path) -> Arc<dyn CredentialResolver> {
    Arc::new(AuthFileResolver::load(&[path.to_path_buf()]).expect("auth file"))
}

async fn image(reg: &RegistryServer, repo: &str, format: ImageFormat, seed: u64) -> PushedImage {
    let spec = ImageSpec {
        format,
        layers: vec![
            LayerSpec { size: 2 << 20, seed },
            LayerSpec {
                size: 10_000,
                seed: seed + 1,
            },
        ],
        platforms: vec![],
    };
    push_image(reg, repo, "v1", &spec).await
}

async fn hash_stream(mut s: ferry_types::BlobStream) -> (Digest, u64) {
    let mut h = Sha256Hasher::new();
    while let Some(c) = s.next().await {
        h.update(&c.expect("blob chunk"));
    }
    let n = h.len();
    (h.finish(), n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_round_trip_byte_exact() {
    let reg = RegistryServer::start(RegistryOpts::default());
    let client = anon_http();
    let r = client.registry(&reg.host());
    client.ping(&reg.host()).await.unwrap();
    for (repo, format, mt) in [
        ("src/docker", ImageFormat::DockerV2S2, ferry_types::media::DOCKER_V2S2),
        ("src/oci", ImageFormat::Oci, ferry_types::media::OCI_MANIFEST),
    ] {
        let img = image(&reg, repo, format, 1).await;
        let m = r.get_manifest(repo, "v1").await.unwrap();
        assert_eq!(m.digest, img.digest);
        assert_eq!(m.media_type, mt);
        let (raw, _) = get_manifest(&reg, repo, "v1").await.unwrap();
        assert_eq!(m.bytes, raw, "bytes exactly as served");
        // By digest too (verified against the reference).
        assert_eq!(r.get_manifest(repo, &img.digest.to_string()).await.unwrap(), m);
        assert_eq!(r.manifest_digest(repo, "v1").await.unwrap(), Some(img.digest.clone()));
        assert_eq!(r.manifest_digest(repo, "nope").await.unwrap(), None);

        // Push the same bytes elsewhere (blobs first, as the registry requires).
        let dst = format!("copy/{repo}");
        for (d, _) in &img.blobs {
            assert!(r.mount_blob(&dst, repo, d).await.unwrap(), "mount {d}");
        }
        r.put_manifest(&dst, "t1", &m).await.unwrap();
        let (raw2, ct) = get_manifest(&reg, &dst, "t1").await.unwrap();
        assert_eq!(raw2, raw);
        assert_eq!(ct, mt);
        assert_eq!(manifest_digest(&reg, &dst, "t1").await, Some(img.digest.clone()));
    }

    // A multi-arch index keeps its type and bytes.
    let spec = ImageSpec {
        format: ImageFormat::Oci,
        layers: vec![LayerSpec { size: 1000, seed: 9 }],
        platforms: vec![("linux".into(), "amd64".into()), ("linux".into(), "s390x".into())],
    };
    let idx = push_image(&reg, "src/multi", "v1", &spec).await;
    let m = r.get_manifest("src/multi", "v1").await.unwrap();
    assert_eq!(m.media_type, ferry_types::media::OCI_INDEX);
    assert_eq!(m.digest, idx.digest);

    // Missing manifests name the image.
    let err = r.get_manifest("src/oci", "missing").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    assert!(
        err.to_string().contains(&format!("{}/src/oci:missing", reg.host())),
        "{err}"
    );
    // The registry refuses a manifest whose blobs it lacks: a clear registry error.
    let bogus = Manifest::new(
        Bytes::from(
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":2},"layers":[]}"#,
        ),
        ferry_types::media::OCI_MANIFEST,
    );
    let err = r.put_manifest("other/repo", "x", &bogus).await.unwrap_err();
    assert!(matches!(err, Error::Registry { status: 400, .. }), "{err}");
    assert!(err.to_string().contains("MANIFEST_BLOB_UNKNOWN"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_head_get_upload_mount() {
    let reg = RegistryServer::start(RegistryOpts::default());
    let client = anon_http();
    let r = client.registry(&reg.host());
    let img = image(&reg, "a/src", ImageFormat::Oci, 5).await;
    let (big, big_size) = img.blobs.iter().max_by_key(|(_, s)| *s).cloned().unwrap();

    assert!(r.has_blob("a/src", &big).await.unwrap());
    assert!(!r.has_blob("b/dst", &big).await.unwrap());
    let unknown = Digest::of(b"never pushed");
    assert!(!r.has_blob("a/src", &unknown).await.unwrap());

    // Download streams with the registry's size.
    let (size, stream) = r.get_blob("a/src", &big).await.unwrap();
    assert_eq!(size, Some(big_size));
    assert_eq!(hash_stream(stream).await, (big.clone(), big_size));
    let err = r.get_blob("a/src", &unknown).await.err().unwrap();
    assert_eq!(err.code(), ErrorCode::NotFound);

    // Upload the stream of one registry repo into another.
    let (size, stream) = r.get_blob("a/src", &big).await.unwrap();
    r.put_blob("b/dst", &big, size, stream).await.unwrap();
    assert!(r.has_blob("b/dst", &big).await.unwrap());
    assert_eq!(blob_digest(&reg, "b/dst", &big).await, Some((big.clone(), big_size)));

    // Chunked upload (size unknown) of a body made of many small chunks.
    let chunks: Vec<std::io::Result<Bytes>> = (0..100u8).map(|i| Ok(Bytes::from(vec![i; 1000]))).collect();
    let mut h = Sha256Hasher::new();
    for c in &chunks {
        h.update(c.as_ref().unwrap());
    }
    let d = h.finish();
    r.put_blob("b/dst", &d, None, Box::pin(futures::stream::iter(chunks)))
        .await
        .unwrap();
    assert_eq!(blob_digest(&reg, "b/dst", &d).await, Some((d.clone(), 100_000)));

    // A body whose content does not match the digest is refused and not stored.
    let lie = Digest::of(b"something else");
    let body = futures::stream::iter(vec![Ok(Bytes::from_static(b"actual content"))]);
    let err = r.put_blob("b/dst", &lie, Some(14), Box::pin(body)).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DigestMismatch, "{err}");
    assert!(!r.has_blob("b/dst", &lie).await.unwrap());

    // Cross-repository mount: 201 for a known blob, false for an unknown one.
    assert!(r.mount_blob("c/mounted", "a/src", &big).await.unwrap());
    assert!(r.has_blob("c/mounted", &big).await.unwrap());
    assert!(!r.mount_blob("c/mounted", "a/src", &unknown).await.unwrap());

    client.check_push_permission(&reg.host(), "c/probe").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_and_delete() {
    let reg = RegistryServer::start(RegistryOpts {
        delete_enabled: true,
        ..Default::default()
    });
    let client = anon_http();
    let img = image(&reg, "ns/app", ImageFormat::DockerV2S2, 20).await;
    let m = client.registry(&reg.host()).get_manifest("ns/app", "v1").await.unwrap();
    for t in ["v2", "latest", "1.0.0"] {
        client
            .registry(&reg.host())
            .put_manifest("ns/app", t, &m)
            .await
            .unwrap();
    }
    let mut tags = client.list_tags(&reg.host(), "ns/app").await.unwrap();
    tags.sort();
    assert_eq!(tags, vec!["1.0.0", "latest", "v1", "v2"]);
    let err = client.list_tags(&reg.host(), "ns/none").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound, "{err}");

    assert!(client
        .delete_manifest(&reg.host(), "ns/app", &img.digest)
        .await
        .unwrap());
    assert_eq!(manifest_digest(&reg, "ns/app", "v1").await, None);
    // Every tag of the digest went with it.
    assert_eq!(manifest_digest(&reg, "ns/app", "latest").await, None);
    // Already gone (404) counts as done, reported as "was not there".
    assert!(!client
        .delete_manifest(&reg.host(), "ns/app", &img.digest)
        .await
        .unwrap());

    // A registry without delete support says so, and what to change.
    let nodel = RegistryServer::start(RegistryOpts::default());
    let img = image(&nodel, "ns/app", ImageFormat::Oci, 21).await;
    let err = client
        .delete_manifest(&nodel.host(), "ns/app", &img.digest)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Registry { status: 405, .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&nodel.host()) && msg.contains("ns/app"), "{msg}");
    assert!(
        msg.contains("REGISTRY_STORAGE_DELETE_ENABLED=true") && msg.contains("without --prune"),
        "{msg}"
    );
    assert_eq!(manifest_digest(&nodel, "ns/app", "v1").await, Some(img.digest));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_without_rights_is_explained() {
    // htpasswd registry with deletes on: an anonymous client gets 401 and is told about rights.
    let reg = RegistryServer::start(RegistryOpts {
        auth: Some(("alice".into(), "correct horse".into())),
        delete_enabled: true,
        ..Default::default()
    });
    let img = image(&reg, "team/app", ImageFormat::DockerV2S2, 50).await;
    let err = anon_http()
        .delete_manifest(&reg.host(), "team/app", &img.digest)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Registry { status: 401, .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&reg.host()) && msg.contains("delete rights on team/app") && msg.contains("without --prune"),
        "{msg}"
    );
    assert_eq!(manifest_digest(&reg, "team/app", "v1").await, Some(img.digest.clone()));

    // A registry that authenticates but forbids deletion (403): denied, naming the action.
    let server = Httpd::start(|req| async move {
        match req.method.as_str() {
            "DELETE" => Response::new(
                403,
                r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#,
            ),
            _ => Response::new(200, "{}"),
        }
    })
    .await;
    let err = anon_http()
        .delete_manifest(&server.host(), "team/app", &img.digest)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Denied, "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&server.host()) && msg.contains("team/app") && msg.contains("delete"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_ca_without_ca_and_skip_verify() {
    let reg = RegistryServer::start(RegistryOpts {
        tls: true,
        ..Default::default()
    });
    let img = image(&reg, "ns/tls", ImageFormat::Oci, 30).await;
    let anon: Arc<dyn CredentialResolver> = Arc::new(ferry_auth::Anonymous);

    // Verified by default: the test CA is unknown, so a TLS error saying how to trust it.
    let strict = client_with(anon.clone(), TlsPolicy::default());
    let err = strict
        .registry(&reg.host())
        .get_manifest("ns/tls", "v1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Tls, "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&reg.host()) && msg.contains("--ca-bundle"), "{msg}");
    assert!(msg.contains("certificate"), "{msg}");

    // With the CA bundle.
    let with_ca = client_with(
        anon.clone(),
        TlsPolicy {
            ca_bundle: reg.ca_pem_path(),
            ..Default::default()
        },
    );
    let m = with_ca
        .registry(&reg.host())
        .get_manifest("ns/tls", "v1")
        .await
        .unwrap();
    assert_eq!(m.digest, img.digest);

    // A bundle of several certificates (another CA first) works too.
    let other = RegistryServer::start(RegistryOpts {
        tls: true,
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.pem");
    let text = std::fs::read_to_string(other.ca_pem_path().unwrap()).unwrap()
        + &std::fs::read_to_string(reg.ca_pem_path().unwrap()).unwrap();
    std::fs::write(&bundle, text).unwrap();
    let multi = client_with(
        anon.clone(),
        TlsPolicy {
            ca_bundle: Some(bundle),
            ..Default::default()
        },
    );
    multi.ping(&reg.host()).await.unwrap();
    multi.ping(&other.host()).await.unwrap();

    // Skip verification.
    let skip = client_with(
        anon.clone(),
        TlsPolicy {
            skip_verify: true,
            ..Default::default()
        },
    );
    assert_eq!(
        skip.registry(&reg.host())
            .manifest_digest("ns/tls", "v1")
            .await
            .unwrap(),
        Some(img.digest.clone())
    );

    // Per-registry policy overrides the default.
    let mut per = HashMap::new();
    per.insert(
        reg.host(),
        TlsPolicy {
            skip_verify: true,
            ..Default::default()
        },
    );
    let c = RegistryClient::new(
        anon.clone(),
        ClientOptions {
            per_registry: per,
            ..Default::default()
        },
    )
    .unwrap();
    c.ping(&reg.host()).await.unwrap();
    assert_eq!(c.ping(&other.host()).await.unwrap_err().code(), ErrorCode::Tls);

    // Plain HTTP against a TLS registry, and TLS against a plain one: both explained.
    let err = client_with(anon.clone(), http_policy())
        .ping(&reg.host())
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Tls, "{err}");
    assert!(err.to_string().contains("use-http"), "{err}");
    let plain = RegistryServer::start(RegistryOpts::default());
    let err = strict.ping(&plain.host()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Tls, "{err}");
    assert!(err.to_string().contains("use-http"), "{err}");

    // A broken CA bundle fails when the client is built, naming the file.
    let bad = dir.path().join("bad.pem");
    std::fs::write(&bad, "not a certificate").unwrap();
    let err = RegistryClient::new(
        anon,
        ClientOptions {
            default_tls: TlsPolicy {
                ca_bundle: Some(bad.clone()),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("bad.pem"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn htpasswd_basic_auth() {
    let reg = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: Some(("alice".into(), "correct horse".into())),
        delete_enabled: false,
    });
    let img = image(&reg, "team/app", ImageFormat::DockerV2S2, 40).await;
    let dir = tempfile::tempdir().unwrap();

    // Right credentials from an auth file.
    let good = dir.path().join("good.json");
    reg.write_auth_file(&good);
    let c = client_with(resolver(&good), http_policy());
    let r = c.registry(&reg.host());
    assert_eq!(r.get_manifest("team/app", "v1").await.unwrap().digest, img.digest);
    c.check_push_permission(&reg.host(), "team/other").await.unwrap();
    let (size, s) = r.get_blob("team/app", &img.blobs[1].0).await.unwrap();
    r.put_blob("team/other", &img.blobs[1].0, size, s).await.unwrap();

    // Wrong password: Unauthorized naming the registry and the file that served the credential.
    let wrong = dir.path().join("wrong.json");
    let token = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode("alice:wrong")
    };
    std::fs::write(
        &wrong,
        format!(r#"{{"auths":{{"{}":{{"auth":"{token}"}}}}}}"#, reg.host()),
    )
    .unwrap();
    let c = client_with(resolver(&wrong), http_policy());
    let err = c
        .registry(&reg.host())
        .get_manifest("team/app", "v1")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized, "{err}");
    let msg = err.to_string();
    assert!(msg.contains(&reg.host()) && msg.contains("wrong.json"), "{msg}");
    assert!(
        !msg.contains("alice:wrong") && !msg.contains(&token),
        "no secret in messages: {msg}"
    );
    let err = c.check_push_permission(&reg.host(), "team/app").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized, "{err}");

    // No credentials at all: the sources consulted are named.
    let empty = dir.path().join("empty.json");
    std::fs::write(&empty, r#"{"auths":{}}"#).unwrap();
    let c = client_with(resolver(&empty), http_policy());
    let err = c.ping(&reg.host()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized, "{err}");
    assert!(err.to_string().contains("empty.json"), "{err}");
}

#[tokio::test]
async fn unreachable_port() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let opts = ClientOptions {
        default_tls: http_policy(),
        retries: 1,
        retry_base_delay: Duration::from_millis(5),
        ..Default::default()
    };
    let c = RegistryClient::new(Arc::new(ferry_auth::Anonymous), opts).unwrap();
    let err = c.registry(&host).get_manifest("a/b", "v1").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unreachable, "{err}");
    assert!(err.is_transient());
    assert!(err.to_string().contains(&host), "{err}");
}

#[tokio::test]
async fn retries_5xx_and_429_then_gives_up() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let server = Httpd::start(move |req| {
        let n = h.fetch_add(1, Ordering::SeqCst);
        async move {
            match (req.target.as_str(), n) {
                ("/v2/", 0) => Response::new(503, "busy"),
                ("/v2/", 1) => Response::new(429, "slow down").header("Retry-After", "0"),
                ("/v2/", _) => Response::new(200, "{}"),
                _ => Response::new(502, "bad gateway"),
            }
        }
    })
    .await;
    let opts = ClientOptions {
        default_tls: http_policy(),
        retries: 3,
        retry_base_delay: Duration::from_millis(5),
        ..Default::default()
    };
    let c = RegistryClient::new(Arc::new(ferry_auth::Anonymous), opts).unwrap();
    c.ping(&server.host()).await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 3, "503, 429, then 200");

    // Always 502: one try plus three retries, then a transient registry error.
    hits.store(100, Ordering::SeqCst);
    let err = c
        .registry(&server.host())
        .has_blob("x/y", &Digest::of(b"z"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Registry { status: 502, .. }), "{err}");
    assert!(err.is_transient());
    assert_eq!(hits.load(Ordering::SeqCst), 104);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_flow_and_cache() {
    // A registry that wants bearer tokens from its own /token endpoint (as Quay and Docker Hub).
    let token_requests = Arc::new(Mutex::new(Vec::<(String, Option<String>)>::new()));
    let port_cell = Arc::new(std::sync::OnceLock::<u16>::new());
    let (tr, pc) = (token_requests.clone(), port_cell.clone());
    let server = Httpd::start(move |req| {
        let (tr, pc) = (tr.clone(), pc.clone());
        async move {
            let port = *pc.get().unwrap();
            if req.target.starts_with("/token") {
                assert_eq!(req.method, "GET", "basic credentials fetch tokens with GET");
                tr.lock()
                    .unwrap()
                    .push((req.target.clone(), req.headers.get("authorization").cloned()));
                return match req.headers.get("authorization").map(String::as_str) {
                    // bob:builder
                    Some("Basic Ym9iOmJ1aWxkZXI=") => Response::new(200, r#"{"token":"tok-123","expires_in":300}"#),
                    _ => Response::new(401, "{}"),
                };
            }
            let challenge = format!(
                r#"Bearer realm="http://127.0.0.1:{port}/token",service="fake-registry",scope="repository:ns/app:pull""#
            );
            match req.headers.get("authorization").map(String::as_str) {
                Some("Bearer tok-123") if req.target.starts_with("/v2/ns/app/tags/list") => {
                    Response::new(200, r#"{"name":"ns/app","tags":["a","b"]}"#)
                }
                _ => Response::new(401, r#"{"errors":[{"code":"UNAUTHORIZED","message":"auth"}]}"#)
                    .header("WWW-Authenticate", &challenge),
            }
        }
    })
    .await;
    port_cell.set(server.port).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.json");
    std::fs::write(
        &auth,
        format!(r#"{{"auths":{{"{}":{{"auth":"Ym9iOmJ1aWxkZXI="}}}}}}"#, server.host()),
    )
    .unwrap();
    let c = client_with(resolver(&auth), http_policy());
    assert_eq!(c.list_tags(&server.host(), "ns/app").await.unwrap(), vec!["a", "b"]);
    assert_eq!(c.list_tags(&server.host(), "ns/app").await.unwrap(), vec!["a", "b"]);
    let reqs = token_requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1, "token cached per scope: {reqs:?}");
    assert!(reqs[0].0.contains("service=fake-registry"), "{reqs:?}");
    assert!(reqs[0].0.contains("scope=repository%3Ans%2Fapp%3Apull"), "{reqs:?}");

    // Token endpoint refuses: Unauthorized naming the credential source.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        format!(r#"{{"auths":{{"{}":{{"auth":"Ym9iOm5vcGU="}}}}}}"#, server.host()),
    )
    .unwrap();
    let err = client_with(resolver(&bad), http_policy())
        .list_tags(&server.host(), "ns/app")
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized, "{err}");
    assert!(
        err.to_string().contains("bad.json") && err.to_string().contains(&server.host()),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_bounded_per_registry() {
    let current = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (cur, pk) = (current.clone(), peak.clone());
    let server = Httpd::start(move |_req| {
        let (cur, pk) = (cur.clone(), pk.clone());
        async move {
            let now = cur.fetch_add(1, Ordering::SeqCst) + 1;
            pk.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(80)).await;
            cur.fetch_sub(1, Ordering::SeqCst);
            Response::new(404, "")
        }
    })
    .await;
    let opts = ClientOptions {
        default_tls: http_policy(),
        max_per_registry: 2,
        ..Default::default()
    };
    let c = RegistryClient::new(Arc::new(ferry_auth::Anonymous), opts).unwrap();
    let r = c.registry(&server.host());
    let futs = (0..8u8).map(|i| {
        let r = r.clone();
        async move { r.has_blob("x/y", &Digest::of(&[i])).await.unwrap() }
    });
    let results = futures::future::join_all(futs).await;
    assert!(results.iter().all(|present| !present));
    assert_eq!(peak.load(Ordering::SeqCst), 2, "max_per_registry = 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_token_is_exchanged_with_post() {
    let forms = Arc::new(Mutex::new(Vec::<String>::new()));
    let port_cell = Arc::new(std::sync::OnceLock::<u16>::new());
    let (f, pc) = (forms.clone(), port_cell.clone());
    let server = Httpd::start(move |req| {
        let (f, pc) = (f.clone(), pc.clone());
        async move {
            let port = *pc.get().unwrap();
            if req.target.starts_with("/oauth2/token") {
                assert_eq!(req.method, "POST", "refresh tokens are exchanged with POST");
                let body = String::from_utf8(req.body.clone()).unwrap();
                f.lock().unwrap().push(body.clone());
                return if body.contains("refresh_token=refresh-abc") {
                    Response::new(200, r#"{"access_token":"acc-1","expires_in":120}"#)
                } else {
                    Response::new(401, "{}")
                };
            }
            match req.headers.get("authorization").map(String::as_str) {
                Some("Bearer acc-1") if req.method == "POST" => {
                    Response::new(202, "").header("Location", "/v2/ns/app/blobs/uploads/session-1")
                }
                Some("Bearer acc-1") if req.method == "DELETE" => Response::new(204, ""),
                _ => Response::new(401, "").header(
                    "WWW-Authenticate",
                    &format!(r#"Bearer realm="http://127.0.0.1:{port}/oauth2/token",service="svc""#),
                ),
            }
        }
    })
    .await;
    port_cell.set(server.port).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let auth = dir.path().join("auth.json");
    std::fs::write(
        &auth,
        format!(
            r#"{{"auths":{{"{}":{{"identitytoken":"refresh-abc"}}}}}}"#,
            server.host()
        ),
    )
    .unwrap();
    let c = client_with(resolver(&auth), http_policy());
    c.registry(&server.host())
        .check_push_permission("ns/app")
        .await
        .unwrap();
    let forms = forms.lock().unwrap().clone();
    assert_eq!(forms.len(), 1, "{forms:?}");
    let form = &forms[0];
    assert!(
        form.contains("grant_type=refresh_token") && form.contains("service=svc"),
        "{form}"
    );
    assert!(form.contains("scope=repository%3Ans%2Fapp%3Apull%2Cpush"), "{form}");
}

#[tokio::test]
async fn dropped_connections_are_retried_and_blob_redirects_followed() {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let content = b"blob content behind a redirect".to_vec();
    let digest = Digest::of(&content);
    let d = digest.to_string();
    let server = Httpd::start(move |req| {
        let n = h.fetch_add(1, Ordering::SeqCst);
        let (content, d) = (content.clone(), d.clone());
        async move {
            if req.target == format!("/v2/ns/app/blobs/{d}") {
                if n == 0 {
                    return Response::new(0, ""); // dropped without an answer
                }
                return Response::new(307, "").header("Location", "/storage/blob-data");
            }
            if req.target == "/storage/blob-data" {
                return Response {
                    status: 200,
                    headers: vec![],
                    body: content,
                };
            }
            Response::new(404, "")
        }
    })
    .await;
    let c = client_with(Arc::new(ferry_auth::Anonymous), http_policy());
    let (size, stream) = c.registry(&server.host()).get_blob("ns/app", &digest).await.unwrap();
    assert_eq!(size, Some(30));
    assert_eq!(hash_stream(stream).await, (digest, 30));
    assert_eq!(hits.load(Ordering::SeqCst), 3, "dropped, redirected, served");
}
