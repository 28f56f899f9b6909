//! The app's release views through the facade (`ferry_api::release_browse`, the dry run's
//! `plan_summary`) against real parts: a loopback HTTP update service serving the real
//! stable-4.13 Cincinnati graph of the shared fixtures (through `UPDATE_URL_OVERRIDE`, as the
//! app gets it), and for the plan a real `docker-registry` holding a generated, signed release.
//! nextest runs each test in its own process, so the environment variables set here reach only
//! that test.

mod release_support;

use ferry_api::registry::RegistrySettings;
use ferry_api::release_browse::{channel_graph, channels, graph_settings, results_signatures};
use ferry_api::wire::{ReleaseGraphRequest, SignatureState, TrustSettings};
use ferry_testkit::{RegistryOpts, RegistryServer};
use release_support::httpd::{Httpd, Request, Response};
use release_support::*;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

const STABLE_413: &str =
    "cincinnati/oc-mirror/tests/unit/testdata/working-dir-fake/hold-release/cincinnati-graph-data/amd64-stable-4.13.json";

fn config_dir() -> tempfile::TempDir {
    ferry_api::credentials::init_keyring(Some(ferry_api::credentials::KeyringBackend::Mock)).unwrap();
    let d = tempfile::tempdir().unwrap();
    std::env::set_var("FERRY_CONFIG_DIR", d.path());
    d
}

/// The update service: stable-4.13/amd64 from the fixture, an empty graph for anything else
/// (what Cincinnati answers for an unknown channel). Records every query.
async fn graph_server(body: Vec<u8>, queries: Arc<Mutex<Vec<String>>>) -> Httpd {
    let body = Arc::new(body);
    let h = Httpd::start(move |r: Request| {
        let (body, queries) = (body.clone(), queries.clone());
        async move {
            queries.lock().unwrap().push(r.target.clone());
            if r.target.contains("channel=stable-4.13") && r.target.contains("arch=amd64") {
                Response::bytes(200, body.to_vec()).header("Content-Type", "application/json")
            } else {
                Response::new(200, r#"{"version":1,"nodes":[],"edges":[],"conditionalEdges":[]}"#)
            }
        }
    })
    .await;
    std::env::set_var("UPDATE_URL_OVERRIDE", format!("http://{}/graph", h.host()));
    h
}

fn request(min: Option<&str>, max: Option<&str>, shortest: bool) -> ReleaseGraphRequest {
    ReleaseGraphRequest {
        channel: "stable-4.13".into(),
        okd: false,
        arch: "amd64".into(),
        min_version: min.map(Into::into),
        max_version: max.map(Into::into),
        shortest_path: shortest,
        full: false,
    }
}

fn triple(v: &str) -> (u64, u64, u64) {
    let p: Vec<u64> = v.split('.').map(|x| x.parse().unwrap()).collect();
    (p[0], p[1], p[2])
}

/// Hop count of a shortest path over `edges` (BFS), to check the engine's path is minimal.
fn bfs_len(n: usize, edges: &[(u32, u32)], from: usize, to: usize) -> Option<usize> {
    let mut adj = vec![Vec::new(); n];
    for &(f, t) in edges {
        adj[f as usize].push(t as usize);
    }
    let mut dist = vec![usize::MAX; n];
    dist[from] = 0;
    let mut q = VecDeque::from([from]);
    while let Some(c) = q.pop_front() {
        for &nb in &adj[c] {
            if dist[nb] == usize::MAX {
                dist[nb] = dist[c] + 1;
                q.push_back(nb);
            }
        }
    }
    (dist[to] != usize::MAX).then_some(dist[to])
}

#[tokio::test]
async fn channel_graph_of_the_real_stable_4_13_with_the_engine_path() {
    let Some(file) = ferry_testkit::fixture(STABLE_413) else {
        return;
    };
    let _cfg = config_dir();
    let queries: Arc<Mutex<Vec<String>>> = Default::default();
    let srv = graph_server(std::fs::read(file).unwrap(), queries.clone()).await;
    let settings = RegistrySettings::default();

    let v = channel_graph(&settings, 0, &request(Some("4.12.48"), Some("4.13.37"), true))
        .await
        .unwrap();
    assert_eq!(v.upstream, format!("http://{}/graph", srv.host()));
    assert_eq!((v.nodes.len(), v.edges.len(), v.conditional.len()), (98, 1171, 37));
    // Semver order, not string order (4.12.9 before 4.12.10).
    let ord: Vec<(u64, u64, u64)> = v.nodes.iter().map(|n| triple(&n.version)).collect();
    assert!(ord.windows(2).all(|w| w[0] < w[1]), "nodes ascending by semver");
    assert_eq!(v.nodes[0].version, "4.12.0");
    assert_eq!(v.nodes.last().unwrap().version, "4.13.43");
    assert!(v.nodes.iter().all(|n| n
        .payload
        .starts_with("quay.io/openshift-release-dev/ocp-release@sha256:")));
    // Conditional edges keep their risks (names and URLs) for the drawing.
    let risk_names: Vec<&str> = v
        .conditional
        .iter()
        .flat_map(|c| c.risks.iter().map(|r| r.name.as_str()))
        .collect();
    assert!(risk_names.contains(&"CephCapDropPanic"), "{risk_names:?}");
    assert!(v
        .conditional
        .iter()
        .all(|c| c.risks.iter().all(|r| r.url.starts_with("https://"))));

    let sel = v
        .selection
        .as_ref()
        .unwrap_or_else(|| panic!("{:?}", v.selection_error));
    assert!(sel.shortest_path && !sel.heads_only);
    let path: Vec<&str> = sel
        .releases
        .iter()
        .map(|&i| v.nodes[i as usize].version.as_str())
        .collect();
    // oc-mirror's breadth-first search, neighbours highest first, across the minor.
    assert_eq!(path, ["4.12.48", "4.13.33", "4.13.36", "4.13.37"]);
    // Every hop is an unconditional edge, and no shorter path exists.
    for w in sel.releases.windows(2) {
        assert!(v.edges.contains(&(w[0], w[1])), "hop {:?} is an update edge", w);
    }
    let (a, b) = (sel.releases[0] as usize, *sel.releases.last().unwrap() as usize);
    assert_eq!(Some(sel.releases.len() - 1), bfs_len(v.nodes.len(), &v.edges, a, b));
    // The query: channel, arch and id exactly once each.
    for q in queries.lock().unwrap().iter() {
        for k in ["channel=", "arch=", "id="] {
            assert_eq!(q.matches(k).count(), 1, "{q}");
        }
    }

    // Range (no shortestPath): every release min..max, ascending; heads-only: the head alone.
    let v = channel_graph(&settings, 0, &request(Some("4.13.0"), Some("4.13.5"), false))
        .await
        .unwrap();
    let range: Vec<&str> = v
        .selection
        .as_ref()
        .unwrap()
        .releases
        .iter()
        .map(|&i| v.nodes[i as usize].version.as_str())
        .collect();
    assert_eq!(range, ["4.13.0", "4.13.1", "4.13.2", "4.13.3", "4.13.4", "4.13.5"]);
    let v = channel_graph(&settings, 0, &request(None, None, false)).await.unwrap();
    let s = v.selection.unwrap();
    assert!(s.heads_only);
    assert_eq!(s.releases, vec![97]);
}

#[tokio::test]
async fn bad_versions_unknown_channels_and_a_dead_upstream_say_what_to_do() {
    let Some(file) = ferry_testkit::fixture(STABLE_413) else {
        return;
    };
    let _cfg = config_dir();
    let srv = graph_server(std::fs::read(file).unwrap(), Default::default()).await;
    let settings = RegistrySettings::default();

    // Selection errors come with the graph (the app still draws it).
    let v = channel_graph(&settings, 2, &request(Some("4.1.0"), None, false))
        .await
        .unwrap();
    assert!(v.selection.is_none());
    let e = v.selection_error.unwrap();
    assert!(
        e.contains("minVersion 4.1.0 is not in channel stable-4.13 for architecture amd64"),
        "{e}"
    );
    let v = channel_graph(&settings, 2, &request(Some("4.13.10"), Some("4.13.2"), false))
        .await
        .unwrap();
    let e = v.selection_error.unwrap();
    assert!(
        e.contains("mirror.platform.channels[2]") && e.contains("above maxVersion 4.13.2"),
        "{e}"
    );
    // In the real graph 4.12.20 reaches 4.13.10 only over conditional edges: no path, said so.
    let v = channel_graph(&settings, 0, &request(Some("4.12.20"), Some("4.13.10"), true))
        .await
        .unwrap();
    let e = v.selection_error.unwrap();
    assert!(
        e.contains("no upgrade path from 4.12.20 to 4.13.10 in channel stable-4.13") && e.contains("conditional edges"),
        "{e}"
    );
    let v = channel_graph(&settings, 0, &request(Some("4.13.43"), Some("4.13.43"), true))
        .await
        .unwrap();
    assert_eq!(v.selection.unwrap().releases, vec![97], "a path of one release");

    let mut unknown = request(None, None, false);
    unknown.channel = "stable-4.99".into();
    let e = channel_graph(&settings, 0, &unknown).await.unwrap_err();
    assert!(
        e.to_string().contains("channel stable-4.99 for architecture amd64"),
        "{e}"
    );
    let mut bad_arch = request(None, None, false);
    bad_arch.arch = "x86_64".into();
    let e = channel_graph(&settings, 0, &bad_arch).await.unwrap_err();
    assert!(e.to_string().contains("\"x86_64\" is not one of amd64"), "{e}");

    let port = srv.port;
    drop(srv);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let e = channel_graph(&settings, 0, &request(None, None, false))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ferry_api::ErrorCode::Unreachable, "{e}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
}

#[tokio::test]
async fn channel_list_and_stored_trust_for_the_update_service() {
    let Some(file) = ferry_testkit::fixture(STABLE_413) else {
        return;
    };
    let cfg = config_dir();
    let srv = graph_server(std::fs::read(file).unwrap(), Default::default()).await;
    let settings = RegistrySettings::default();
    let list = channels(&settings, false, "4.13", "amd64").await.unwrap();
    for c in ["candidate-4.13", "fast-4.13", "stable-4.13", "eus-4.14"] {
        assert!(list.contains(&c.to_string()), "{c} in {list:?}");
    }
    assert!(
        !list.iter().any(|c| c.ends_with("-4.12")),
        "only channels of 4.13 releases: {list:?}"
    );

    // The trust saved for the update service's host (Credentials screen) applies to it.
    assert_eq!(graph_settings(&settings, false).unwrap().ca_bundle, None);
    // A real CA file (set_trust checks it): the test CA of a TLS docker-registry.
    let tls = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: None,
        delete_enabled: false,
    });
    let ca = tls.ca_pem_path().unwrap();
    let _ = &cfg;
    ferry_api::app_workflows::set_trust(&TrustSettings {
        registry: srv.host(),
        ca_bundle: Some(ca.display().to_string()),
        skip_tls_verify: true,
        plain_http: false,
    })
    .unwrap();
    let s = graph_settings(&settings, false).unwrap();
    assert_eq!(s.ca_bundle.as_deref(), Some(ca.as_path()));
    assert!(s.source_skip_tls);
}

type Sigs = Arc<Mutex<HashMap<String, Vec<u8>>>>;

/// The dry run lists the release with its measured size and the key that verified it; the
/// results of a mirror run show the signature verified again, and a missing or broken file is
/// never reported as verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_lists_releases_with_sizes_and_results_show_signatures() {
    if ferry_testkit::fixtures().is_none() {
        return;
    }
    let _cfg = config_dir();
    let src = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let h = src.host();
    let repo = "openshift-release-dev/ocp-v4.0-art-dev";
    let mut comps = Vec::new();
    for n in ["etcd", "cli", "installer"] {
        let d = push_component(&src, repo, n, "4.12.0").await;
        comps.push((n.to_string(), format!("{h}/{repo}@{d}")));
    }
    let rel = push_release(&src, "4.12.0", &comps).await;
    let payload = format!("{h}/openshift-release-dev/ocp-release@{rel}");
    let (key, armored) = test_key();
    let keydir = tempfile::tempdir().unwrap();
    let keyfile = keydir.path().join("pk.asc");
    std::fs::write(&keyfile, armored).unwrap();
    let sigs: Sigs = Default::default();
    sigs.lock().unwrap().insert(
        rel.trim_start_matches("sha256:").to_string(),
        sign_release(
            &key,
            &rel,
            &format!("{h}/openshift-release-dev/ocp-release:4.12.0-x86_64"),
        ),
    );
    let graph_body = serde_json::to_vec(&serde_json::json!({"version": 1,
        "nodes": [{"version": "4.12.0", "payload": payload, "metadata": {}}], "edges": [], "conditionalEdges": []}))
    .unwrap();
    let graph = Httpd::start(move |r: Request| {
        let b = graph_body.clone();
        async move {
            if r.target.contains("channel=stable-4.12") {
                Response::bytes(200, b)
            } else {
                Response::new(200, r#"{"nodes":[],"edges":[]}"#)
            }
        }
    })
    .await;
    let s2 = sigs.clone();
    let sigsrv = Httpd::start(move |r: Request| {
        let sigs = s2.clone();
        async move {
            for (hex, sig) in sigs.lock().unwrap().iter() {
                if r.target == format!("/sigs/sha256={hex}/signature-1") {
                    return Response::bytes(200, sig.clone());
                }
            }
            Response::new(404, "not found")
        }
    })
    .await;
    std::env::set_var("UPDATE_URL_OVERRIDE", format!("http://{}/graph", graph.host()));
    std::env::set_var("OCP_SIGNATURE_URL", format!("http://{}/sigs", sigsrv.host()));
    std::env::set_var("OCP_SIGNATURE_VERIFICATION_PK", &keyfile);
    // The app talks to the loopback registries over plain HTTP through their stored trust.
    let dst = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    for reg in [h.clone(), dst.host()] {
        ferry_api::app_workflows::set_trust(&TrustSettings {
            registry: reg,
            ca_bundle: None,
            skip_tls_verify: false,
            plain_http: true,
        })
        .unwrap();
    }

    let yaml = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  platform:\n    channels:\n    - name: stable-4.12\n";
    let plan = ferry_api::app_workflows::plan_summary(yaml, None).await.unwrap();
    assert_eq!(plan.releases.len(), 1, "{:?}", plan.releases);
    let r = &plan.releases[0];
    assert_eq!(
        (r.version.as_str(), r.arch.as_str(), r.channel.as_str()),
        ("4.12.0", "amd64", "stable-4.12")
    );
    assert_eq!(r.components, 3);
    assert_eq!(r.destination, "openshift/release-images:4.12.0-x86_64");
    assert_eq!(r.source, payload);
    let group: u64 = plan
        .groups
        .iter()
        .flat_map(|g| g.images.iter())
        .map(|i| i.bytes.unwrap())
        .sum();
    let bytes = r.bytes.expect("measured before any download");
    // Release image + three components; the release's own count equals the plan's total here
    // (no other content), and never exceeds the per-image sum.
    assert!(bytes > 0 && bytes <= group, "{bytes} vs {group}");
    assert_eq!(bytes, plan.total_bytes);
    assert_eq!(r.signature.state, SignatureState::Verified, "{:?}", r.signature);
    let fpr = r.signature.key.clone().unwrap();
    assert_eq!(fpr.len(), 40, "a v4 fingerprint: {fpr}");
    assert!(r.signature.identity.as_deref().unwrap().ends_with(":4.12.0-x86_64"));

    // Mirror it, then read the results folder as the Results screen does.
    let ws = tempfile::tempdir().unwrap();
    let cfg = ferry_api::config::parse_str(yaml, "isc.yaml").unwrap();
    let sel = ferry_api::mirror::ImageSelection::from_config(&cfg).unwrap();
    let opts = ferry_api::mirror::MirrorOptions {
        registry: RegistrySettings {
            source_use_http: true,
            dest_use_http: true,
            ..Default::default()
        },
        workspace: ws.path().to_path_buf(),
        ..Default::default()
    };
    let dest = ferry_api::Destination::parse(&format!("docker://{}/mirror", dst.host())).unwrap();
    let rep = ferry_api::mirror::mirror_to_mirror(
        &sel,
        &dest,
        &opts,
        ferry_api::no_progress(),
        ferry_api::CancellationToken::new(),
    )
    .await
    .unwrap();
    let rows = results_signatures(&rep.results_dir).unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].digest, rel);
    assert!(
        rows[0]
            .image
            .ends_with("/mirror/openshift/release-images:4.12.0-x86_64"),
        "{}",
        rows[0].image
    );
    assert_eq!(
        rows[0].signature.state,
        SignatureState::Verified,
        "{:?}",
        rows[0].signature
    );
    assert_eq!(rows[0].signature.key.as_deref(), Some(fpr.as_str()));

    // Checked again with another keyring: the file no longer verifies, and says why.
    std::env::remove_var("OCP_SIGNATURE_VERIFICATION_PK");
    let rows = results_signatures(&rep.results_dir).unwrap();
    assert_eq!(rows[0].signature.state, SignatureState::NotVerified);
    assert!(
        rows[0]
            .signature
            .detail
            .as_deref()
            .unwrap()
            .contains("built-in Red Hat release keys"),
        "{:?}",
        rows[0].signature
    );
    // Without the file: missing, never verified.
    std::fs::remove_file(rep.results_dir.join(rows[0].file.as_ref().unwrap())).unwrap();
    let rows = results_signatures(&rep.results_dir).unwrap();
    assert_eq!(rows[0].signature.state, SignatureState::Missing);
}
