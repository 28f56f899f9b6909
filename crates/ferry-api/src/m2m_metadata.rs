//! Workspace metadata of a mirror-to-mirror run, as oc-mirror keeps it (reference §2):
//!
//! - the `storageConfig` backend (`local.path` or `registry.imageURL`) holds the workspace's
//!   `publish/.metadata.json`: uid, last sequence and `pastAssociations`;
//! - the target holds a copy as the image `<registry>/<ns>/oc-mirror:<uid>`; a run checks its
//!   sequence against that copy (oc-mirror PR #473), so two workspaces or a restored backup
//!   cannot silently interleave on one target;
//! - images whose manifest the target already got from this workspace (same destination, tag
//!   and digest in `pastAssociations`) are not copied again, unless `--ignore-history`;
//! - heads-only release channels are remembered in `pastMirror.platforms`
//!   (`{"channel", "minVersion"}`), so the next run mirrors from that head to the new one and,
//!   with the history above, copies only the new release's images.
//!
//! Without a `storageConfig` the run is single-use, as in oc-mirror: no metadata is read or
//! written and no sequence is checked.

use crate::disk::{metadata_store, MetadataStore};
use ferry_metadata::{Association, ImageBackend, Metadata, TARGET_METADATA_REPO};
use ferry_registry::RegistryClient;
use ferry_types::{Error, ImageSource, Result};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The metadata side of one mirror-to-mirror run.
pub(crate) struct RunMetadata {
    store: MetadataStore,
    target: ImageBackend,
    /// The backend's metadata before this run (or a fresh one with a new uid).
    pub base: Metadata,
    /// The target's `oc-mirror:<uid>` copy before this run.
    pub current: Option<Metadata>,
    /// The sequence this run records.
    pub sequence: u32,
}

/// `registry/repository` as oc-mirror records the path of a mirror-to-mirror association.
pub(crate) fn full_path(registry: &str, repository: &str) -> String {
    format!("{registry}/{repository}")
}

impl RunMetadata {
    /// Read the backend and the target copy and check the sequence (unless
    /// `skip_metadata_check`). `None` for a single-use run (no `storageConfig`).
    pub async fn open(
        storage: Option<&ferry_config::StorageConfig>,
        client: &RegistryClient,
        registry: &str,
        namespace: Option<&str>,
        skip_metadata_check: bool,
    ) -> Result<Option<RunMetadata>> {
        let cfg = ferry_config::ImageSetConfiguration {
            storage_config: storage.cloned(),
            ..Default::default()
        };
        let store = metadata_store(&cfg, client)?;
        if matches!(store, MetadataStore::None) {
            return Ok(None);
        }
        let previous = store.read().await?;
        let base = previous.unwrap_or_else(|| Metadata::new(false));
        let prefix = crate::disk::ns_prefix(namespace);
        let handle = Arc::new(client.registry(registry));
        let target = ImageBackend {
            source: handle.clone(),
            dest: handle,
            repo: format!("{prefix}{TARGET_METADATA_REPO}"),
            tag: base.uid.clone(),
        };
        let current = target.read().await?;
        let sequence = base.sequence() + 1;
        if !skip_metadata_check {
            let want = current.as_ref().map(|c| c.sequence() + 1).unwrap_or(1);
            if sequence != want {
                let holds = match &current {
                    Some(c) => format!("it holds sequence {} of this workspace", c.sequence()),
                    None => "it holds no sequence of this workspace".into(),
                };
                return Err(Error::Sequence(format!(
                    "invalid mirror sequence order: the target {registry}/{}:{} expects sequence {want} next, but the \
                     storageConfig metadata says this run is sequence {sequence} ({holds}). The metadata and the \
                     target are out of step (another workspace, a restored backup, or a deleted target). Run again \
                     with --skip-metadata-check to mirror anyway, adding --ignore-history to copy every image again",
                    target.repo, target.tag
                )));
            }
        }
        Ok(Some(RunMetadata {
            store,
            target,
            base,
            current,
            sequence,
        }))
    }

    /// `(full destination path, tag, manifest digest)` of every top-level image earlier runs of
    /// this workspace mirrored.
    pub fn mirrored(&self) -> BTreeSet<(String, String, String)> {
        self.base
            .past_associations
            .iter()
            .filter(|a| !a.is_child())
            .map(|a| (a.path.clone(), a.tag_symlink.clone(), a.id.clone()))
            .collect()
    }

    /// The earlier associations of one image (its top manifest and its children), kept for an
    /// image this run did not copy again.
    pub fn kept(&self, path: &str, tag: &str, digest: &str) -> Vec<Association> {
        let past = &self.base.past_associations;
        let Some(top) = past
            .iter()
            .find(|a| !a.is_child() && a.path == path && a.tag_symlink == tag && a.id == digest)
        else {
            return Vec::new();
        };
        let mut out = vec![top.clone()];
        out.extend(
            past.iter()
                .filter(|a| a.is_child() && a.path == path && top.manifest_digests.contains(&a.id))
                .cloned(),
        );
        out
    }

    /// Record this run: the target copy first (it is what the next run checks against), then
    /// the backend. `platforms` is `pastMirror.platforms` (the heads-only release channels and
    /// their remembered minimum, oc-mirror's form; see [`crate::release::platforms_metadata`]).
    /// Returns the metadata written and the digest of the target image.
    pub async fn record(
        &self,
        timestamp: i64,
        mirror_section: serde_json::Value,
        associations: Vec<Association>,
        platforms: Vec<serde_json::Value>,
        operators: Vec<serde_json::Value>,
    ) -> Result<(Metadata, String)> {
        let mut next = self.base.next_run(timestamp, mirror_section, associations);
        next.past_mirror.platforms = platforms;
        // `pastMirror.operators`: see crate::operators::past_operators.
        next.past_mirror.operators = operators;
        let digest = self.target.write(&next).await?;
        self.store.write(&next).await?;
        Ok((next, digest.to_string()))
    }
}

/// The associations of an image now in the destination, read back from there (so the
/// metadata only ever claims manifests the target really holds).
pub(crate) async fn associations_in_target(
    dest: &Arc<dyn ImageSource>,
    name: &str,
    registry: &str,
    repository: &str,
    tag: &str,
    kind: ferry_types::ImageKind,
    digest: &str,
) -> Result<Vec<Association>> {
    let what = format!("{registry}/{repository}@{digest}");
    let tree = crate::image_tree::ImageTree::fetch(dest.as_ref(), repository, digest, &what).await?;
    ferry_metadata::associations_for(
        name,
        &full_path(registry, repository),
        Some(tag),
        kind,
        &tree.top,
        &tree.children,
    )
}
