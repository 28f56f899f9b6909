//! The transport traits for a registry host: thin delegations to the manifest and blob calls
//! (manifests.rs, blobs.rs), so each concern keeps its code in one file.

use crate::client::Registry;
use ferry_types::{BlobStream, Digest, ImageDestination, ImageSource, Manifest, Result};

#[async_trait::async_trait]
impl ImageSource for Registry {
    fn describe(&self) -> String {
        self.host().to_string()
    }

    async fn get_manifest(&self, repo: &str, reference: &str) -> Result<Manifest> {
        self.manifest_get(repo, reference).await
    }

    async fn get_blob(&self, repo: &str, digest: &Digest) -> Result<(Option<u64>, BlobStream)> {
        self.blob_get(repo, digest).await
    }
}

#[async_trait::async_trait]
impl ImageDestination for Registry {
    fn describe(&self) -> String {
        self.host().to_string()
    }

    async fn has_blob(&self, repo: &str, digest: &Digest) -> Result<bool> {
        self.blob_exists(repo, digest).await
    }

    async fn mount_blob(&self, repo: &str, from_repo: &str, digest: &Digest) -> Result<bool> {
        self.blob_mount(repo, from_repo, digest).await
    }

    /// Streaming upload, on connections chosen so a closed kept-alive one cannot lose it (see the crate docs).
    async fn put_blob(&self, repo: &str, digest: &Digest, size: Option<u64>, body: BlobStream) -> Result<()> {
        crate::retry_conn::put_blob(self, repo, digest, size, body).await
    }

    async fn manifest_digest(&self, repo: &str, reference: &str) -> Result<Option<Digest>> {
        self.manifest_head_digest(repo, reference).await
    }

    async fn put_manifest(&self, repo: &str, reference: &str, manifest: &Manifest) -> Result<()> {
        self.manifest_put(repo, reference, manifest).await
    }
}
