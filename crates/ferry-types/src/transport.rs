//! The two sides of every copy, in the style of containers/image's ImageSource and
//! ImageDestination: a registry implements both, a removable-media archive writer is a
//! destination, an archive reader is a source. The copy engine only sees these traits.
//!
//! Repositories are plain paths (`ns/app`) on the transport's own host; references are a tag
//! or a `sha256:` digest string.

use crate::digest::Digest;
use crate::error::Result;
use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use std::pin::Pin;

/// A blob body: a stream of chunks, never the whole blob in memory.
pub type BlobStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// A manifest exactly as the registry served it (bytes are never re-serialised, so the
/// digest is preserved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub bytes: Bytes,
    pub media_type: String,
    pub digest: Digest,
}

impl Manifest {
    pub fn new(bytes: Bytes, media_type: impl Into<String>) -> Self {
        let digest = Digest::of(&bytes);
        Manifest {
            bytes,
            media_type: media_type.into(),
            digest,
        }
    }
}

#[async_trait]
pub trait ImageSource: Send + Sync {
    /// Human-readable name for messages (`quay.io`, `archive /media/usb`).
    fn describe(&self) -> String;
    /// Fetch a manifest by tag or digest. Implementations verify a digest reference against
    /// the bytes received.
    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<Manifest>;
    /// Open a blob. Returns its size if known and the body stream (the caller hashes it).
    async fn get_blob(&self, repo: &str, digest: &Digest) -> Result<(Option<u64>, BlobStream)>;
}

#[async_trait]
pub trait ImageDestination: Send + Sync {
    fn describe(&self) -> String;
    /// Whether the destination already holds this blob for `repo` (HEAD on a registry).
    async fn has_blob(&self, repo: &str, digest: &Digest) -> Result<bool>;
    /// Try a cross-repository mount of a blob the destination holds in `from_repo`.
    /// Returns false when the destination does not support it or refused.
    async fn mount_blob(&self, _repo: &str, _from_repo: &str, _digest: &Digest) -> Result<bool> {
        Ok(false)
    }
    /// True when `put_blob` hashes the body itself and stores nothing unless the digest and size
    /// match, failing with [`Error::DigestMismatch`](crate::Error::DigestMismatch) otherwise (the
    /// archive writer). The copy engine then checks only sizes as the bytes flow, instead of
    /// hashing every byte a second time on the task that writes them.
    fn checks_digests(&self) -> bool {
        false
    }
    /// Store a blob. `body` is verified by the caller as it flows (unless [`Self::checks_digests`]); implementations must not
    /// make the blob visible unless the whole body arrived (registries check the digest too).
    async fn put_blob(&self, repo: &str, digest: &Digest, size: Option<u64>, body: BlobStream) -> Result<()>;
    /// Digest of the manifest currently at `reference`, if any.
    async fn manifest_digest(&self, repo: &str, reference: &str) -> Result<Option<Digest>>;
    /// Store a manifest under a tag or its digest.
    async fn put_manifest(&self, repo: &str, reference: &str, manifest: &Manifest) -> Result<()>;
}
