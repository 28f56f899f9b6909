//! Manifests read once per run (issue 8 item 18). Planning resolves a tag with a `GET`, then
//! mirror-to-disk's planning pass, the copy engine and the metadata step each want the same
//! manifest again by digest. A manifest named by its digest cannot change, so the client keeps
//! every manifest it received (or pushed) under `(host, repository, digest)` and answers later
//! `GET`s by digest from memory. Tags are never cached: a tag can move, and `HEAD` checks of a
//! destination always ask the registry. The key includes the repository, so a manifest is never
//! served to a repository the registry did not serve it from (its access rules stay in force).
//!
//! Bounded: at most [`MAX_CACHED_BYTES`] of manifest bytes (manifests are small, a few KiB; a
//! release of 190 images with children is well under 2 MiB); the oldest entries go first.

use bytes::Bytes;
use ferry_types::{Digest, Manifest};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Upper bound on the manifest bytes kept per client.
pub const MAX_CACHED_BYTES: usize = 32 << 20;

type Key = (String, String, String);

#[derive(Default)]
struct Entries {
    map: HashMap<Key, (Bytes, String)>,
    order: VecDeque<Key>,
    bytes: usize,
}

pub(crate) struct ManifestCache {
    limit: usize,
    inner: Mutex<Entries>,
}

impl Default for ManifestCache {
    fn default() -> Self {
        ManifestCache::new(MAX_CACHED_BYTES)
    }
}

fn key(host: &str, repo: &str, digest: &str) -> Key {
    (host.to_string(), repo.to_string(), digest.to_string())
}

impl ManifestCache {
    pub fn new(limit: usize) -> Self {
        ManifestCache {
            limit,
            inner: Mutex::new(Entries::default()),
        }
    }

    /// The manifest `reference` names, when `reference` is a digest and it was seen before.
    pub fn get(&self, host: &str, repo: &str, reference: &str) -> Option<Manifest> {
        let d = Digest::parse(reference).ok()?;
        let e = self.inner.lock().expect("manifest cache");
        let (bytes, media_type) = e.map.get(&key(host, repo, reference))?;
        Some(Manifest {
            bytes: bytes.clone(),
            media_type: media_type.clone(),
            digest: d,
        })
    }

    /// Remember a manifest by its digest (whatever reference it was fetched or pushed under).
    pub fn put(&self, host: &str, repo: &str, m: &Manifest) {
        let n = m.bytes.len();
        if n > self.limit {
            return;
        }
        let k = key(host, repo, &m.digest.to_string());
        let mut e = self.inner.lock().expect("manifest cache");
        if e.map.contains_key(&k) {
            return;
        }
        while e.bytes + n > self.limit {
            let Some(old) = e.order.pop_front() else { break };
            if let Some((b, _)) = e.map.remove(&old) {
                e.bytes -= b.len();
            }
        }
        e.map.insert(k.clone(), (m.bytes.clone(), m.media_type.clone()));
        e.order.push_back(k);
        e.bytes += n;
    }

    /// Forget a manifest the registry no longer holds (deleted by pruning).
    pub fn remove(&self, host: &str, repo: &str, digest: &Digest) {
        let k = key(host, repo, &digest.to_string());
        let mut e = self.inner.lock().expect("manifest cache");
        if let Some((b, _)) = e.map.remove(&k) {
            e.bytes -= b.len();
            e.order.retain(|x| x != &k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Manifest {
        Manifest::new(Bytes::from(s.to_string()), "application/vnd.oci.image.manifest.v1+json")
    }

    #[test]
    fn by_digest_only_per_repository_and_bounded() {
        let c = ManifestCache::new(40);
        let a = m(r#"{"schemaVersion":2,"a":1}"#);
        c.put("h", "ns/a", &a);
        let d = a.digest.to_string();
        assert_eq!(c.get("h", "ns/a", &d), Some(a.clone()));
        assert_eq!(c.get("h", "ns/b", &d), None, "another repository is asked");
        assert_eq!(c.get("other", "ns/a", &d), None, "another host is asked");
        assert_eq!(c.get("h", "ns/a", "latest"), None, "tags are never answered");
        let b = m(r#"{"schemaVersion":2,"bb":22}"#);
        c.put("h", "ns/a", &b);
        assert_eq!(
            c.get("h", "ns/a", &d),
            None,
            "the oldest entry went to stay under the bound"
        );
        assert!(c.get("h", "ns/a", &b.digest.to_string()).is_some());
        c.remove("h", "ns/a", &b.digest);
        assert!(c.get("h", "ns/a", &b.digest.to_string()).is_none());
    }
}
