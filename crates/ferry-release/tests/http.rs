//! The graph client and the signature stores against small real HTTP servers on loopback that
//! serve the fixture graphs and the real 4.15.0 signature.

mod common {
    pub mod httpd;
}

use common::httpd::{Httpd, Request, Response};
use ferry_release::signature::Keyring;
use ferry_release::{GraphClient, HttpOptions, SignatureStores};
use ferry_types::{Digest, Error};
use std::sync::{Arc, Mutex};

const E2E: &str = "cincinnati/cincinnati/e2e/tests/testdata/134475077ed4eeaedf3c339f12915b9cdaf7d194";
const RH_SIG: &str = "signatures/oc-mirror/internal/e2e/signatures/signature-1";
const RH_DIGEST: &str = "sha256:0da6316466d60a3a4535d5fed3589feb0391989982fba59d47d4c729912d6363";

fn query(target: &str) -> Vec<(String, String)> {
    let q = target.split_once('?').map(|x| x.1).unwrap_or("");
    url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

#[tokio::test]
async fn graph_client_sends_one_query_accept_json_and_caches() {
    let Some(dir) = ferry_testkit::fixture("cincinnati") else {
        return;
    };
    let seen: Arc<Mutex<Vec<Request>>> = Default::default();
    let s2 = seen.clone();
    let srv = Httpd::start(move |r: Request| {
        let s2 = s2.clone();
        let dir = dir.clone();
        async move {
            s2.lock().unwrap().push(r.clone());
            let q = query(&r.target);
            let get = |k: &str| {
                q.iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            let f = dir.join(format!(
                "{}_{}_{}_v1.json",
                E2E.strip_prefix("cincinnati/").unwrap(),
                get("channel"),
                get("arch")
            ));
            match std::fs::read(&f) {
                Ok(b) => Response::bytes(200, b).header("Content-Type", "application/json"),
                Err(_) => Response::new(200, r#"{"version":1,"nodes":[],"edges":[],"conditionalEdges":[]}"#),
            }
        }
    })
    .await;
    // The upstream carries its own query parameter, and a stale `channel` that must be replaced.
    let up = format!("http://{}/api/upgrades_info/v1/graph?channel=stale&keep=1", srv.host());
    let c = GraphClient::with_upstreams(&HttpOptions::default(), &up, &up).unwrap();
    let g = c.fetch(false, "stable-4.9", "s390x").await.unwrap();
    assert_eq!(g.nodes.len(), 90);
    let again = c.fetch(false, "stable-4.9", "s390x").await.unwrap();
    assert!(Arc::ptr_eq(&g, &again), "cached per (channel, arch)");
    c.fetch(false, "stable-4.9", "amd64").await.unwrap();
    assert_eq!(c.requests(), 2);
    let reqs = seen.lock().unwrap().clone();
    assert_eq!(reqs.len(), 2);
    let r = &reqs[0];
    assert_eq!(r.method, "GET");
    assert!(r.target.starts_with("/api/upgrades_info/v1/graph?"), "{}", r.target);
    assert_eq!(r.headers.get("accept").map(String::as_str), Some("application/json"));
    let mut keys: Vec<String> = query(&r.target).into_iter().map(|(k, _)| k).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["arch", "channel", "id", "keep"],
        "each parameter exactly once: {}",
        r.target
    );
    let q = query(&r.target);
    assert!(q.contains(&("channel".into(), "stable-4.9".into())) && q.contains(&("arch".into(), "s390x".into())));
    let id = q.iter().find(|(k, _)| k == "id").unwrap().1.clone();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "id is a UUID: {id}");
    assert!(query(&reqs[1].target).contains(&("id".into(), id)), "one id per run");
}

#[tokio::test]
async fn update_url_override_and_errors_name_the_service() {
    let srv = Httpd::start(|_r: Request| async { Response::new(503, "maintenance") }).await;
    // SAFETY of set_var: nextest runs every test in its own process.
    std::env::set_var("UPDATE_URL_OVERRIDE", format!("http://{}/graph", srv.host()));
    let c = GraphClient::new(&HttpOptions::default()).unwrap();
    std::env::remove_var("UPDATE_URL_OVERRIDE");
    assert_eq!(c.upstream(false).as_str(), format!("http://{}/graph", srv.host()));
    assert_eq!(
        c.upstream(true),
        c.upstream(false),
        "the override replaces the OKD upstream too"
    );
    let e = c.fetch(false, "stable-4.14", "amd64").await.unwrap_err();
    assert!(matches!(e, Error::Registry { status: 503, .. }), "{e:?}");
    let e = e.to_string();
    assert!(
        e.contains("stable-4.14") && e.contains("amd64") && e.contains("maintenance"),
        "{e}"
    );
    // An unreachable upstream.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = GraphClient::with_upstreams(
        &HttpOptions::default(),
        &format!("http://127.0.0.1:{dead}/graph"),
        OKD_URL,
    )
    .unwrap();
    let e = c.fetch(false, "stable-4.14", "amd64").await.unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains("update service 127.0.0.1"), "{e}");
}

const OKD_URL: &str = "https://origin-release.ci.openshift.org/graph";

async fn store(sig: Vec<u8>, hex: String, status_first: u16) -> (Httpd, Arc<Mutex<Vec<String>>>) {
    let hits: Arc<Mutex<Vec<String>>> = Default::default();
    let h2 = hits.clone();
    let srv = Httpd::start(move |r: Request| {
        let (sig, hex, h2) = (sig.clone(), hex.clone(), h2.clone());
        async move {
            h2.lock().unwrap().push(r.target.clone());
            if r.target == format!("/sigs/sha256={hex}/signature-1") {
                if status_first != 200 {
                    return Response::new(status_first, "no");
                }
                return Response::bytes(200, sig);
            }
            if r.target == format!("/sigs/sha256={hex}/signature-2") && status_first != 200 {
                return Response::bytes(200, sig);
            }
            Response::new(404, "not found")
        }
    })
    .await;
    (srv, hits)
}

#[tokio::test]
async fn signature_store_finds_verifies_and_stops_at_404() {
    let Some(p) = ferry_testkit::fixture(RH_SIG) else {
        return;
    };
    let sig = std::fs::read(p).unwrap();
    let digest = Digest::parse(RH_DIGEST).unwrap();
    let (srv, hits) = store(sig.clone(), digest.hex().to_string(), 200).await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    // The first store is down; the second answers.
    let stores = SignatureStores::with_stores(
        &HttpOptions::default(),
        &[
            &format!("http://127.0.0.1:{dead}/sigs"),
            &format!("http://{}/sigs/", srv.host()),
        ],
    )
    .unwrap();
    let got = stores
        .fetch_verified(&Keyring::redhat(), &digest, "4.15.0 (x86_64)")
        .await
        .unwrap();
    assert_eq!(got.bytes, sig);
    assert_eq!(
        got.verified.identity,
        "quay.io/openshift-release-dev/ocp-release:4.15.0-x86_64"
    );
    assert_eq!(
        hits.lock().unwrap().as_slice(),
        [format!("/sigs/sha256={}/signature-1", digest.hex())]
    );

    // A 500 on signature-1 is skipped, signature-2 is tried.
    let (srv, hits) = store(sig.clone(), digest.hex().to_string(), 500).await;
    let stores =
        SignatureStores::with_stores(&HttpOptions::default(), &[&format!("http://{}/sigs", srv.host())]).unwrap();
    stores
        .fetch_verified(&Keyring::redhat(), &digest, "4.15.0")
        .await
        .unwrap();
    assert_eq!(hits.lock().unwrap().len(), 2);

    // OCP_SIGNATURE_URL replaces the Red Hat stores.
    std::env::set_var("OCP_SIGNATURE_URL", format!("http://{}/sigs", srv.host()));
    let s = SignatureStores::new(&HttpOptions::default()).unwrap();
    std::env::remove_var("OCP_SIGNATURE_URL");
    assert_eq!(s.stores(), [format!("http://{}/sigs", srv.host())]);
}

#[tokio::test]
async fn bad_signature_missing_signature_and_store_down_are_clear_errors() {
    let Some(p) = ferry_testkit::fixture(RH_SIG) else {
        return;
    };
    let sig = std::fs::read(p).unwrap();
    // The real signature served for another digest: it does not verify for that digest.
    let other = Digest::of(b"another payload");
    let (srv, hits) = store(sig.clone(), other.hex().to_string(), 200).await;
    let stores =
        SignatureStores::with_stores(&HttpOptions::default(), &[&format!("http://{}/sigs", srv.host())]).unwrap();
    let e = stores
        .fetch_verified(&Keyring::redhat(), &other, "4.99.0 (x86_64)")
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert!(
        msg.contains("4.99.0 (x86_64)") && msg.contains(&other.to_string()) && msg.contains(RH_DIGEST),
        "{msg}"
    );
    assert!(msg.contains("--skip-verification"), "{msg}");
    assert_eq!(
        hits.lock().unwrap().len(),
        2,
        "signature-1 (bad), then signature-2 (404) ends the search"
    );

    // No signature at all.
    let e = stores
        .fetch_verified(&Keyring::redhat(), &Digest::of(b"x"), "4.1.0")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("not found"), "{e}");

    // Every store down.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let stores =
        SignatureStores::with_stores(&HttpOptions::default(), &[&format!("http://127.0.0.1:{dead}/s")]).unwrap();
    let e = stores
        .fetch_verified(&Keyring::redhat(), &other, "4.99.0")
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains("OCP_SIGNATURE_URL"), "{e}");
}

#[tokio::test]
async fn oversized_signature_is_refused() {
    let big = vec![b'x'; 60 * 1024];
    let d = Digest::of(b"big");
    let (srv, _) = store(big, d.hex().to_string(), 200).await;
    let stores =
        SignatureStores::with_stores(&HttpOptions::default(), &[&format!("http://{}/sigs", srv.host())]).unwrap();
    let e = stores
        .fetch_verified(&Keyring::redhat(), &d, "4.2.0")
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("larger than 51200 bytes"), "{e}");
}

#[tokio::test]
async fn stores_are_asked_at_once_and_the_first_verifying_answer_wins() {
    let Some(p) = ferry_testkit::fixture(RH_SIG) else {
        return;
    };
    let sig = std::fs::read(p).unwrap();
    let digest = Digest::parse(RH_DIGEST).unwrap();
    // The first store hangs for a minute on every request; asked one after the other, the
    // search would wait for it (the client's timeout is ten minutes).
    let slow = Httpd::start(|_r: Request| async {
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        Response::new(404, "late")
    })
    .await;
    let (fast, hits) = store(sig.clone(), digest.hex().to_string(), 200).await;
    let stores = SignatureStores::with_stores(
        &HttpOptions::default(),
        &[
            &format!("http://{}/sigs", slow.host()),
            &format!("http://{}/sigs", fast.host()),
        ],
    )
    .unwrap();
    let started = std::time::Instant::now();
    let got = stores
        .fetch_verified(&Keyring::redhat(), &digest, "4.15.0 (x86_64)")
        .await
        .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(got.bytes, sig);
    assert!(
        got.url.starts_with(&format!("http://{}/sigs/", fast.host())),
        "{}",
        got.url
    );
    assert_eq!(hits.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn graph_data_download_streams_to_the_file_and_refuses_what_is_not_gzip() {
    let Some(p) = ferry_testkit::fixture("cincinnati/oc-mirror/tests/unit/testdata/graph-assets/graph-data.tar.gz")
    else {
        return;
    };
    let tarball = std::fs::read(p).unwrap();
    let tb = tarball.clone();
    let srv = Httpd::start(move |r: Request| {
        let tb = tb.clone();
        async move {
            match r.target.as_str() {
                "/api/upgrades_info/graph-data" => Response::bytes(200, tb),
                "/login" => Response::new(200, "<html>sign in</html>"),
                _ => Response::new(404, "not found"),
            }
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("cincinnati/cincinnati-graph-data.tar.gz");
    let url = format!("http://{}/api/upgrades_info/graph-data", srv.host());
    let got = ferry_release::download_graph_data(&HttpOptions::default(), &url, &dest)
        .await
        .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), tarball);
    assert_eq!(got.digest, Digest::of(&tarball));
    assert_eq!(got.size, tarball.len() as u64);

    let login = format!("http://{}/login", srv.host());
    let e = ferry_release::download_graph_data(&HttpOptions::default(), &login, &dir.path().join("x.tgz"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains(&login) && e.contains("not a gzip tarball"), "{e}");
    assert!(
        !dir.path().join("x.tgz").exists(),
        "nothing half-written is left as the tarball"
    );
    let missing = format!("http://{}/nope", srv.host());
    let e = ferry_release::download_graph_data(&HttpOptions::default(), &missing, &dir.path().join("y.tgz"))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("404") && e.contains("FERRY_GRAPH_DATA_URL"), "{e}");
}
