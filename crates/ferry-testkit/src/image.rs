//! Realistic images generated in code and pushed with plain reqwest calls (never with
//! ferry-registry, so a bug there cannot hide itself in the fixtures).
//!
//! Layers are gzip tars of deterministic pseudo-random bytes: the same [`LayerSpec`] always gives
//! the same digest, which is how tests build shared base layers. Layer bytes go through a temp
//! file and are streamed to the registry, so a 1 GiB layer never sits in memory.

use crate::server::RegistryServer;
use ferry_types::{Digest, Sha256Hasher};
use serde_json::json;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::{Mutex, OnceLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    DockerV2S2,
    Oci,
}

/// One layer: `size` bytes of pseudo-random content (incompressible, so the gzip blob is
/// `size` plus a little), determined entirely by `seed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LayerSpec {
    pub size: u64,
    pub seed: u64,
}

/// An image to generate. More than one platform makes an OCI index / Docker manifest list whose
/// children differ per platform (config and layer content); none means a single linux/amd64 image.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    pub format: ImageFormat,
    pub layers: Vec<LayerSpec>,
    pub platforms: Vec<(String, String)>,
}

/// What was pushed: the top manifest (by `tag`), the child manifests of an index, and every
/// blob (configs and layers, unique, with their sizes).
#[derive(Debug, Clone)]
pub struct PushedImage {
    pub repo: String,
    pub tag: String,
    pub digest: Digest,
    pub media_type: String,
    pub children: Vec<Digest>,
    pub blobs: Vec<(Digest, u64)>,
}

const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const ACCEPT_ALL: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// Layers from this size on are gzipped without compression (see `generate_layer`).
const BIG_LAYER: u64 = 64 << 20;

/// splitmix64: fast, deterministic, good enough to defeat gzip.
struct PseudoRandom {
    state: u64,
    remaining: u64,
}

impl Read for PseudoRandom {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.remaining) as usize;
        for chunk in buf[..n].chunks_mut(8) {
            self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

/// Hashes (and counts) everything written through it.
struct HashWriter<W> {
    inner: W,
    hasher: Sha256Hasher,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[derive(Debug, Clone)]
struct LayerInfo {
    digest: Digest,
    diff_id: Digest,
    size: u64,
}

/// Digests of layers generated earlier in this process: a registry that already holds the blob
/// needs no regeneration (saves seconds per shared 200 MiB base layer).
fn layer_cache() -> &'static Mutex<HashMap<LayerSpec, LayerInfo>> {
    static CACHE: OnceLock<Mutex<HashMap<LayerSpec, LayerInfo>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Writes the gzip tar for `spec` to a temp file (deleted when dropped).
fn generate_layer(spec: LayerSpec) -> (tempfile::NamedTempFile, LayerInfo) {
    let file = tempfile::Builder::new()
        .prefix("ferry-layer-")
        .tempfile()
        .expect("layer temp file");
    let out = HashWriter {
        inner: std::io::BufWriter::with_capacity(1 << 20, file.reopen().expect("reopen layer file")),
        hasher: Sha256Hasher::new(),
    };
    // The content is incompressible anyway: real deflate (level 1) for ordinary layers, stored
    // deflate blocks (still a valid gzip stream) for big ones, where only volume matters and
    // level 1 would double the generation time.
    let level = if spec.size >= BIG_LAYER {
        flate2::Compression::none()
    } else {
        flate2::Compression::fast()
    };
    let gz = flate2::GzBuilder::new().mtime(0).write(out, level);
    let tar_hash = HashWriter {
        inner: gz,
        hasher: Sha256Hasher::new(),
    };
    let mut tar = tar::Builder::new(tar_hash);
    let mut header = tar::Header::new_gnu();
    header.set_size(spec.size);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(1_700_000_000);
    header.set_entry_type(tar::EntryType::Regular);
    let data = PseudoRandom {
        state: spec.seed ^ 0xF3AA_77C1_5EED_0001,
        remaining: spec.size,
    };
    tar.append_data(&mut header, format!("ferry-layer-{}/data.bin", spec.seed), data)
        .expect("write layer tar");
    let tar_hash = tar.into_inner().expect("finish tar");
    let diff_id = tar_hash.hasher.finish();
    let mut out = tar_hash.inner.finish().expect("finish gzip");
    out.flush().expect("flush layer");
    let size = out.hasher.len();
    let digest = out.hasher.finish();
    (file, LayerInfo { digest, diff_id, size })
}

fn http_client(server: &RegistryServer) -> reqwest::Client {
    let mut b = reqwest::Client::builder().pool_max_idle_per_host(4);
    if let Some(ca) = server.ca_pem_path() {
        let pem = std::fs::read(&ca).expect("read test CA");
        b = b.add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("parse test CA"));
    }
    b.build().expect("reqwest client")
}

/// Plain blob and manifest pushes and reads (basic auth and the test CA when the server has
/// them); the catalog and release builders push through it too.
pub(crate) struct Pusher<'a> {
    server: &'a RegistryServer,
    http: reqwest::Client,
    base: String,
}

impl<'a> Pusher<'a> {
    pub(crate) fn new(server: &'a RegistryServer) -> Self {
        Pusher {
            server,
            http: http_client(server),
            base: server.base_url(),
        }
    }

    fn req(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, url);
        match self.server.credentials() {
            Some((u, p)) => r.basic_auth(u, Some(p)),
            None => r,
        }
    }

    async fn has_blob(&self, repo: &str, digest: &Digest) -> bool {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        let resp = self.req(reqwest::Method::HEAD, &url).send().await.expect("HEAD blob");
        resp.status().is_success()
    }

    async fn upload(&self, repo: &str, digest: &Digest, size: u64, body: reqwest::Body) {
        let url = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let resp = self.req(reqwest::Method::POST, &url).send().await.expect("POST upload");
        assert_eq!(
            resp.status().as_u16(),
            202,
            "start upload to {repo}: {}",
            resp.text().await.unwrap_or_default()
        );
        let loc = resp.headers()["location"].to_str().expect("location").to_string();
        let mut put = reqwest::Url::parse(&self.base)
            .unwrap()
            .join(&loc)
            .expect("upload location");
        put.query_pairs_mut().append_pair("digest", &digest.to_string());
        let resp = self
            .req(reqwest::Method::PUT, put.as_str())
            .header("content-type", "application/octet-stream")
            .header("content-length", size)
            .body(body)
            .send()
            .await
            .expect("PUT blob");
        assert_eq!(
            resp.status().as_u16(),
            201,
            "upload {digest} to {repo}: {}",
            resp.text().await.unwrap_or_default()
        );
    }

    pub(crate) async fn push_bytes(&self, repo: &str, bytes: Vec<u8>) -> (Digest, u64) {
        let digest = Digest::of(&bytes);
        let size = bytes.len() as u64;
        if !self.has_blob(repo, &digest).await {
            self.upload(repo, &digest, size, bytes.into()).await;
        }
        (digest, size)
    }

    async fn push_layer(&self, repo: &str, spec: LayerSpec) -> LayerInfo {
        let cached = layer_cache().lock().unwrap().get(&spec).cloned();
        if let Some(info) = &cached {
            if self.has_blob(repo, &info.digest).await {
                return info.clone();
            }
        }
        let (file, info) = tokio::task::spawn_blocking(move || generate_layer(spec))
            .await
            .expect("generate layer");
        layer_cache().lock().unwrap().insert(spec, info.clone());
        if !self.has_blob(repo, &info.digest).await {
            let f = tokio::fs::File::open(file.path()).await.expect("open layer file");
            // Big reads: each tokio file read is a blocking-pool hop.
            let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(f, 1 << 20));
            self.upload(repo, &info.digest, info.size, body).await;
        }
        info
    }

    pub(crate) async fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, bytes: &[u8]) {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let resp = self
            .req(reqwest::Method::PUT, &url)
            .header("content-type", media_type)
            .body(bytes.to_vec())
            .send()
            .await
            .expect("PUT manifest");
        assert_eq!(
            resp.status().as_u16(),
            201,
            "push manifest {repo}:{reference}: {}",
            resp.text().await.unwrap_or_default()
        );
    }

    /// Pushes one single-platform image; returns (manifest bytes, digest, blobs).
    async fn push_single(
        &self,
        repo: &str,
        format: ImageFormat,
        layers: &[LayerSpec],
        os: &str,
        arch: &str,
    ) -> (Vec<u8>, Vec<(Digest, u64)>) {
        let (manifest_type, config_type, layer_type) = match format {
            ImageFormat::DockerV2S2 => (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER),
            ImageFormat::Oci => (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER),
        };
        let mut infos = Vec::new();
        for l in layers {
            infos.push(self.push_layer(repo, *l).await);
        }
        let history: Vec<_> = infos
            .iter()
            .enumerate()
            .map(|(i, _)| json!({"created": "2024-01-01T00:00:00Z", "created_by": format!("ferry-testkit layer {i}")}))
            .collect();
        let config = json!({
            "architecture": arch,
            "os": os,
            "created": "2024-01-01T00:00:00Z",
            "config": {
                "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                "Cmd": ["/bin/sh"],
                "Labels": {"io.ferry.testkit": repo}
            },
            "rootfs": {"type": "layers", "diff_ids": infos.iter().map(|i| i.diff_id.to_string()).collect::<Vec<_>>()},
            "history": history,
        });
        let (config_digest, config_size) = self.push_bytes(repo, serde_json::to_vec(&config).unwrap()).await;
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": manifest_type,
            "config": {"mediaType": config_type, "digest": config_digest.to_string(), "size": config_size},
            "layers": infos.iter().map(|i| json!({"mediaType": layer_type, "digest": i.digest.to_string(), "size": i.size})).collect::<Vec<_>>(),
        });
        if format == ImageFormat::Oci {
            manifest["annotations"] = json!({"org.opencontainers.image.title": repo});
        }
        let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
        let mut blobs = vec![(config_digest, config_size)];
        blobs.extend(infos.iter().map(|i| (i.digest.clone(), i.size)));
        (bytes, blobs)
    }
}

/// Generates `spec` and pushes it to `server` as `repo:tag` (children of an index are pushed by
/// digest first). Panics with the registry's answer on any failure: fixtures must not half-exist.
pub async fn push_image(server: &RegistryServer, repo: &str, tag: &str, spec: &ImageSpec) -> PushedImage {
    let p = Pusher::new(server);
    let platforms = if spec.platforms.is_empty() {
        vec![("linux".to_string(), "amd64".to_string())]
    } else {
        spec.platforms.clone()
    };
    let mut all_blobs: Vec<(Digest, u64)> = Vec::new();
    let add = |blobs: Vec<(Digest, u64)>, all: &mut Vec<(Digest, u64)>| {
        for b in blobs {
            if !all.iter().any(|(d, _)| *d == b.0) {
                all.push(b);
            }
        }
    };
    if platforms.len() == 1 {
        let (os, arch) = &platforms[0];
        let (bytes, blobs) = p.push_single(repo, spec.format, &spec.layers, os, arch).await;
        let media_type = match spec.format {
            ImageFormat::DockerV2S2 => DOCKER_MANIFEST,
            ImageFormat::Oci => OCI_MANIFEST,
        };
        p.put_manifest(repo, tag, media_type, &bytes).await;
        add(blobs, &mut all_blobs);
        return PushedImage {
            repo: repo.to_string(),
            tag: tag.to_string(),
            digest: Digest::of(&bytes),
            media_type: media_type.to_string(),
            children: vec![],
            blobs: all_blobs,
        };
    }
    let (child_type, index_type) = match spec.format {
        ImageFormat::DockerV2S2 => (DOCKER_MANIFEST, DOCKER_LIST),
        ImageFormat::Oci => (OCI_MANIFEST, OCI_INDEX),
    };
    let mut children = Vec::new();
    let mut descriptors = Vec::new();
    for (i, (os, arch)) in platforms.iter().enumerate() {
        // Platform 0 keeps the spec's seeds (so it shares layers with single-platform images);
        // the others get their own content, as real per-architecture builds do.
        let layers: Vec<LayerSpec> = spec
            .layers
            .iter()
            .map(|l| LayerSpec {
                size: l.size,
                seed: l.seed.wrapping_add((i as u64).wrapping_mul(0x1000_0000_0000_0001)),
            })
            .collect();
        let (bytes, blobs) = p.push_single(repo, spec.format, &layers, os, arch).await;
        let digest = Digest::of(&bytes);
        p.put_manifest(repo, &digest.to_string(), child_type, &bytes).await;
        add(blobs, &mut all_blobs);
        descriptors.push(json!({
            "mediaType": child_type,
            "digest": digest.to_string(),
            "size": bytes.len(),
            "platform": {"architecture": arch, "os": os},
        }));
        children.push(digest);
    }
    let index = json!({"schemaVersion": 2, "mediaType": index_type, "manifests": descriptors});
    let bytes = serde_json::to_vec_pretty(&index).unwrap();
    p.put_manifest(repo, tag, index_type, &bytes).await;
    PushedImage {
        repo: repo.to_string(),
        tag: tag.to_string(),
        digest: Digest::of(&bytes),
        media_type: index_type.to_string(),
        children,
        blobs: all_blobs,
    }
}

/// The digest of the manifest at `repo:reference` (HEAD, `Docker-Content-Digest`), or `None`
/// when the registry answers 404. Panics on any other answer.
pub async fn manifest_digest(server: &RegistryServer, repo: &str, reference: &str) -> Option<Digest> {
    let p = Pusher::new(server);
    let url = format!("{}/v2/{repo}/manifests/{reference}", p.base);
    let resp = p
        .req(reqwest::Method::HEAD, &url)
        .header("accept", ACCEPT_ALL)
        .send()
        .await
        .expect("HEAD manifest");
    match resp.status().as_u16() {
        200 => {
            let d = resp
                .headers()
                .get("docker-content-digest")
                .expect("registry sent no Docker-Content-Digest")
                .to_str()
                .unwrap();
            Some(Digest::parse(d).expect("registry digest"))
        }
        404 => None,
        s => panic!("HEAD {url}: unexpected HTTP {s}"),
    }
}

/// GETs a manifest's raw bytes and content type (for byte-exact assertions).
pub async fn get_manifest(server: &RegistryServer, repo: &str, reference: &str) -> Option<(Vec<u8>, String)> {
    let p = Pusher::new(server);
    let url = format!("{}/v2/{repo}/manifests/{reference}", p.base);
    let resp = p
        .req(reqwest::Method::GET, &url)
        .header("accept", ACCEPT_ALL)
        .send()
        .await
        .expect("GET manifest");
    match resp.status().as_u16() {
        200 => {
            let ct = resp
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            Some((resp.bytes().await.expect("manifest body").to_vec(), ct))
        }
        404 => None,
        s => panic!("GET {url}: unexpected HTTP {s}"),
    }
}

/// Streams a blob and returns its sha256 and length (never held in memory), or `None` on 404.
pub async fn blob_digest(server: &RegistryServer, repo: &str, digest: &Digest) -> Option<(Digest, u64)> {
    let p = Pusher::new(server);
    let url = format!("{}/v2/{repo}/blobs/{digest}", p.base);
    let mut resp = p.req(reqwest::Method::GET, &url).send().await.expect("GET blob");
    match resp.status().as_u16() {
        200 => {
            let mut h = Sha256Hasher::new();
            while let Some(chunk) = resp.chunk().await.expect("blob body") {
                h.update(&chunk);
            }
            let len = h.len();
            Some((h.finish(), len))
        }
        404 => None,
        s => panic!("GET {url}: unexpected HTTP {s}"),
    }
}

/// GETs a (small) blob's bytes, panicking with the URL on anything but 200. For configs and
/// small layers a test reads back; big blobs go through [`blob_digest`].
pub async fn get_blob(server: &RegistryServer, repo: &str, digest: &str) -> Vec<u8> {
    let p = Pusher::new(server);
    let url = format!("{}/v2/{repo}/blobs/{digest}", p.base);
    let resp = p.req(reqwest::Method::GET, &url).send().await.expect("GET blob");
    assert_eq!(resp.status().as_u16(), 200, "GET {url}");
    resp.bytes().await.expect("blob body").to_vec()
}
