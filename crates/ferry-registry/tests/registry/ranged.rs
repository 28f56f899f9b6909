//! Ranged parallel downloads of big blobs against a real docker-registry, seen through a
//! loopback front that records every blob GET (its `Range` header and the registry's status) and,
//! for the fallback, drops `Range` on the way in as some proxies do (the registry then answers
//! every GET with the whole blob, still advertising `Accept-Ranges: bytes`).

use super::{hash_stream, http_policy};
use ferry_registry::{ClientOptions, RangedDownloads, RegistryClient};
use ferry_testkit::httpd::{Httpd, Response};
use ferry_testkit::{push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use ferry_types::{Digest, ImageSource};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MIB: u64 = 1 << 20;

/// One blob GET the front forwarded: the `Range` it carried to the registry and the answer.
#[derive(Debug, Clone)]
struct Get {
    range: Option<String>,
    status: u16,
}

/// A front for `registry` that forwards GETs; `drop_range` removes the `Range` header.
async fn front(registry: &RegistryServer, drop_range: bool) -> (Httpd, Arc<Mutex<Vec<Get>>>) {
    let base = registry.base_url();
    let log = Arc::new(Mutex::new(Vec::new()));
    let log_in = log.clone();
    let http = reqwest::Client::new();
    let httpd = Httpd::start(move |req| {
        let (base, log, http) = (base.clone(), log_in.clone(), http.clone());
        async move {
            let mut r = http.get(format!("{base}{}", req.target));
            let range = req.headers.get("range").cloned().filter(|_| !drop_range);
            if let Some(v) = &range {
                r = r.header("range", v);
            }
            let Ok(resp) = r.send().await else {
                return Response::new(502, "registry unreachable");
            };
            let status = resp.status().as_u16();
            let keep: Vec<(String, String)> = resp
                .headers()
                .iter()
                .filter(|(k, _)| matches!(k.as_str(), "accept-ranges" | "content-range" | "docker-content-digest"))
                .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
                .collect();
            let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            if req.target.contains("/blobs/") {
                log.lock().unwrap().push(Get { range, status });
            }
            let mut out = Response::bytes(status, body);
            for (k, v) in keep {
                out = out.header(&k, &v);
            }
            out
        }
    })
    .await;
    (httpd, log)
}

fn ranged_client(ranged: RangedDownloads, max_per_registry: usize) -> RegistryClient {
    let opts = ClientOptions {
        default_tls: http_policy(),
        max_per_registry,
        retry_base_delay: Duration::from_millis(10),
        ranged,
        ..Default::default()
    };
    RegistryClient::new(Arc::new(ferry_auth::Anonymous), opts).expect("client")
}

/// A registry holding one image with a layer of about `size` bytes; returns the layer's
/// digest and exact size.
async fn big_layer(reg: &RegistryServer, size: u64) -> (Digest, u64) {
    let spec = ImageSpec {
        format: ImageFormat::Oci,
        layers: vec![LayerSpec { size, seed: 77 }],
        platforms: vec![],
    };
    let img = push_image(reg, "ns/big", "v1", &spec).await;
    img.blobs
        .iter()
        .max_by_key(|(_, s)| *s)
        .cloned()
        .expect("the big layer")
}

const OPTS: RangedDownloads = RangedDownloads {
    min_size: 4 * MIB,
    chunk: MIB,
    connections: 4,
    max_blobs: 1,
    // Always ranges: the front answers loopback-fast, which would keep one connection.
    keep_single_from: 0,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_blobs_are_fetched_by_ranges_and_handed_on_in_order() {
    let reg = RegistryServer::start(RegistryOpts::default());
    let (digest, size) = big_layer(&reg, 10 * MIB + 12_345).await;
    assert!(size > 10 * MIB && size <= 11 * MIB, "{size}");
    let (front, log) = front(&reg, false).await;

    let c = ranged_client(OPTS, 6);
    let (announced, stream) = c.registry(&front.host()).get_blob("ns/big", &digest).await.unwrap();
    assert_eq!(announced, Some(size));
    // The digest of the stream as handed on proves the order: any chunk out of place changes it.
    assert_eq!(hash_stream(stream).await, (digest.clone(), size));

    let gets = log.lock().unwrap().clone();
    assert_eq!(gets[0].range, None, "the first GET is a plain one: {gets:?}");
    assert_eq!(gets[0].status, 200);
    let mut ranges: Vec<(u64, u64)> = gets[1..]
        .iter()
        .map(|g| {
            assert_eq!(g.status, 206, "{gets:?}");
            let r = g
                .range
                .as_deref()
                .and_then(|r| r.strip_prefix("bytes="))
                .expect("a Range header");
            let (a, b) = r.split_once('-').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    ranges.sort();
    // Chunks of 1 MiB after the first one (which the plain GET delivered), covering the rest once.
    let expected: Vec<(u64, u64)> = (1..=10).map(|k| (k * MIB, ((k + 1) * MIB).min(size) - 1)).collect();
    assert_eq!(ranges, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_ignoring_range_gets_one_stream_for_the_rest() {
    let reg = RegistryServer::start(RegistryOpts::default());
    let (digest, size) = big_layer(&reg, 6 * MIB + 7).await;
    let (front, log) = front(&reg, true).await;

    // One download slot for the host: the only range request runs on the blob's own slot once
    // the first answer delivered its chunk, so exactly one is tried before the fallback.
    let c = ranged_client(OPTS, 1);
    let (announced, stream) = c.registry(&front.host()).get_blob("ns/big", &digest).await.unwrap();
    assert_eq!(announced, Some(size));
    assert_eq!(hash_stream(stream).await, (digest.clone(), size));

    let gets = log.lock().unwrap().clone();
    assert!(gets.iter().all(|g| g.status == 200 && g.range.is_none()), "{gets:?}");
    // The plain GET, then one range request answered 200: its answer became the rest of the
    // stream (the bytes already handed on skipped) and no more range requests were sent.
    assert_eq!(gets.len(), 2, "the first GET and one range attempt: {gets:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_blobs_and_ranged_downloads_turned_off_use_one_get() {
    let reg = RegistryServer::start(RegistryOpts::default());
    let (digest, size) = big_layer(&reg, 5 * MIB).await;
    let (front, log) = front(&reg, false).await;

    for opts in [
        RangedDownloads {
            min_size: 8 * MIB,
            ..OPTS
        },
        RangedDownloads { min_size: 0, ..OPTS },
    ] {
        log.lock().unwrap().clear();
        let c = ranged_client(opts.clone(), 6);
        let (_, stream) = c.registry(&front.host()).get_blob("ns/big", &digest).await.unwrap();
        assert_eq!(hash_stream(stream).await, (digest.clone(), size));
        let gets = log.lock().unwrap().clone();
        assert_eq!(gets.len(), 1, "{opts:?}: {gets:?}");
        assert_eq!(gets[0].status, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fast_first_chunk_keeps_the_blob_on_one_connection() {
    let reg = RegistryServer::start(RegistryOpts::default());
    let (digest, size) = big_layer(&reg, 9 * MIB + 3).await;
    let (front, log) = front(&reg, false).await;

    let fetch = |keep_single_from: u64| {
        let (front, log, digest) = (&front, &log, &digest);
        async move {
            log.lock().unwrap().clear();
            let opts = RangedDownloads {
                keep_single_from,
                ..OPTS
            };
            let (_, stream) = ranged_client(opts, 6)
                .registry(&front.host())
                .get_blob("ns/big", digest)
                .await
                .unwrap();
            assert_eq!(hash_stream(stream).await, (digest.clone(), size));
            log.lock().unwrap().clone()
        }
    };

    // 1 byte per second: every first chunk is fast enough, so the first GET carries the blob.
    let gets = fetch(1).await;
    assert_eq!(gets.len(), 1, "one plain GET and no range request: {gets:?}");
    assert_eq!((gets[0].range.as_deref(), gets[0].status), (None, 200));

    // Nothing is that fast: the first chunk is timed and the ranges start after it.
    let gets = fetch(u64::MAX).await;
    assert_eq!(gets.len(), 10, "the first GET and 9 ranges of 1 MiB: {gets:?}");
    assert!(
        gets[1..].iter().all(|g| g.status == 206 && g.range.is_some()),
        "{gets:?}"
    );
}
