//! Removable media: mirror-to-disk (`ferry mirror --config isc.yaml file://DIR`), disk-to-mirror
//! (`ferry mirror --from DIR|TAR docker://host/ns`), `ferry verify` and `ferry describe`.
//!
//! - [`m2d`]: mirror-to-disk in two passes. First every planned image's manifests are fetched
//!   (they are small) to build the oc-mirror associations and the exact list of blobs with
//!   sizes; from that the run knows, before writing a byte, whether anything is new ("No updates
//!   detected", no tar), whether it fits (pre-flight free-space check), how many parts it takes,
//!   and whether a blob is too large for `--strict-archive`. A dry run stops there and writes
//!   `mapping.txt`. Then the copy engine streams the new blobs into the tar parts (the
//!   [`ferry_archive::ArchiveWriter`] is its destination). The metadata backend is updated only
//!   after the set is complete.
//! - [`d2m`]: disk-to-mirror. The media path is checked before any registry is contacted; the
//!   parts are indexed in place, the sequence is checked against the target's
//!   `<ns>/oc-mirror:<uid>` metadata image, then each part is read once: its hash and every
//!   entry's digest are checked while its blobs stream to the target (`stream_push`); only
//!   when every part passed does the copy engine push manifests and tags (blobs of earlier
//!   sequences come from the target itself). The results folder is written and finally the target
//!   metadata image, also after a partial import under `--continue-on-error` (it then records
//!   only what was pushed).
//! - [`results`]: the results of a run cover everything mirrored to that target so far (the
//!   target's past associations and this run), so `oc apply` of sequence 2's results never
//!   removes sequence 1's mirror entries.
//!
//! The `*_with` functions take transports and a plan and do the work; the plain ones build the
//! registry client and plan from an ImageSetConfiguration for the CLI and the desktop app.

pub mod d2m;
pub mod m2d;
mod m2d_plan;
mod part_reader;
mod report;
pub mod results;
mod stream_push;

pub use d2m::{disk_to_mirror, disk_to_mirror_with, ImportTarget};
pub use ferry_manifests::{ApplyCommands, ResultsExtras};
pub use m2d::{mirror_selection_to_disk, mirror_to_disk, mirror_to_disk_with, M2dRequest};
pub use report::{DiskReport, FailedImage, ImportReport};

use crate::registry::RegistrySettings;
use ferry_archive::{ArchiveSet, Description, VerifyReport};
use ferry_metadata::{ImageBackend, LocalBackend, Metadata};
use ferry_types::{Error, ImageRef, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const GIB: u64 = 1024 * 1024 * 1024;
/// oc-mirror's default when `archiveSize` is unset or 0.
pub const DEFAULT_ARCHIVE_SIZE_GIB: u64 = 500;
/// Process exit code of a run that finished with some images failed under
/// `--continue-on-error` (the CLI's "partial" code; 1 stays "failed", 2 is a usage error).
pub const EXIT_PARTIAL: u8 = 3;

/// Flags of mirror-to-disk and disk-to-mirror.
#[derive(Debug, Clone)]
pub struct DiskOptions {
    pub registry: RegistrySettings,
    /// Split limit in bytes; `None` = the config's `archiveSize` GiB (default 500 GiB).
    pub archive_size_bytes: Option<u64>,
    /// `--strict-archive`: a blob larger than the split limit is an error instead of a warning.
    pub strict_archive: bool,
    /// `--ignore-history`: pack every blob, not only the ones earlier sequences did not ship.
    pub ignore_history: bool,
    /// `--skip-metadata-check`: import whatever sequence this is.
    pub skip_metadata_check: bool,
    /// Import without the part-hash check: blobs are pushed straight from the parts (each still
    /// digest-checked by the copy engine and the registry). By default the import reads each
    /// part once, checking its hash and every entry's digest as the blobs stream to the target,
    /// and tags nothing before every part passed.
    pub skip_verify: bool,
    /// Workspace: the results folder of an import (`<workspace>/results-<epoch>`) and the
    /// `mapping.txt` of an import dry run.
    pub workspace: PathBuf,
    pub parallel_images: usize,
    pub parallel_blobs: usize,
    /// `--continue-on-error`: failed images are listed and the rest is finished (a partial run).
    pub continue_on_error: bool,
    /// `--skip-missing`: an image the source does not have (404) is skipped with a warning.
    pub skip_missing: bool,
    /// `--dry-run`: plan only. Mirror-to-disk writes `<dir>/oc-mirror-workspace/mapping.txt`
    /// and reports the planned size and part count; an import reports what it would push.
    /// Neither writes a part, bumps a sequence or pushes.
    pub dry_run: bool,
    /// `--prune` (disk-to-mirror): delete what the pruning plan lists; by default it is only
    /// shown and written to `pruning-plan.json` (see [`crate::prune`]).
    pub prune: bool,
}

impl Default for DiskOptions {
    fn default() -> Self {
        DiskOptions {
            registry: RegistrySettings::default(),
            archive_size_bytes: None,
            strict_archive: false,
            ignore_history: false,
            skip_metadata_check: false,
            skip_verify: false,
            workspace: PathBuf::from("oc-mirror-workspace"),
            parallel_images: 4,
            parallel_blobs: 6,
            continue_on_error: false,
            skip_missing: false,
            dry_run: false,
            prune: false,
        }
    }
}

/// Where mirror-to-disk keeps its metadata between runs.
#[derive(Clone)]
pub enum MetadataStore {
    /// `storageConfig.local.path`.
    Local(LocalBackend),
    /// `storageConfig.registry.imageURL`.
    Image(ImageBackend),
    /// No storageConfig: single-use set (`singleUse: true`), no incremental runs.
    None,
}

impl MetadataStore {
    pub(crate) async fn read(&self) -> Result<Option<Metadata>> {
        match self {
            MetadataStore::Local(b) => b.read(),
            MetadataStore::Image(b) => b.read().await,
            MetadataStore::None => Ok(None),
        }
    }
    pub(crate) async fn write(&self, md: &Metadata) -> Result<()> {
        match self {
            MetadataStore::Local(b) => b.write(md),
            MetadataStore::Image(b) => b.write(md).await.map(|_| ()),
            MetadataStore::None => Ok(()),
        }
    }
}

/// The metadata store an ImageSetConfiguration asks for.
pub fn metadata_store(
    cfg: &ferry_config::ImageSetConfiguration,
    client: &ferry_registry::RegistryClient,
) -> Result<MetadataStore> {
    let Some(sc) = &cfg.storage_config else {
        return Ok(MetadataStore::None);
    };
    if let Some(local) = &sc.local {
        let path = if local.path.is_empty() {
            ".".to_string()
        } else {
            local.path.clone()
        };
        return Ok(MetadataStore::Local(LocalBackend::new(path)));
    }
    if let Some(reg) = &sc.registry {
        let r = ImageRef::parse(&reg.image_url).map_err(|e| {
            Error::InvalidConfig(format!("storageConfig.registry.imageURL {:?}: {}", e.input, e.reason))
        })?;
        let handle = Arc::new(client.registry(&r.registry));
        return Ok(MetadataStore::Image(ImageBackend {
            source: handle.clone(),
            dest: handle,
            repo: r.repository.clone(),
            tag: r.tag.clone().unwrap_or_else(|| "latest".into()),
        }));
    }
    Ok(MetadataStore::None)
}

/// `ferry verify DIR|TAR`: every part present and intact, every entry's digest right.
pub fn verify(path: &Path) -> Result<VerifyReport> {
    let set = ArchiveSet::open(path)?;
    ferry_archive::verify_set(&set)
}

/// The `oc apply` command per cluster version for a results folder on disk (the app's Results
/// screen and the CLI after a mirror-to-mirror run).
pub fn apply_commands(dir: &Path) -> Result<ApplyCommands> {
    ApplyCommands::for_dir(dir).map_err(|e| Error::io(dir.display(), e))
}

/// `ferry describe DIR|TAR` (Ferry's sets and oc-mirror's own archives).
pub fn describe(path: &Path) -> Result<Description> {
    ferry_archive::describe(path)
}

/// Where the target holds each blob per recorded associations (config and layer digests of a
/// repository), for cross-repository mounts; `repo_of` maps an association path to the target
/// repository (`None`: not in this target).
pub(crate) fn blob_locations<'a>(
    associations: impl IntoIterator<Item = &'a ferry_metadata::Association>,
    repo_of: impl Fn(&str) -> Option<String>,
) -> ferry_copy::BlobLocations {
    ferry_copy::BlobLocations::from_pairs(associations.into_iter().flat_map(|a| {
        let repo = repo_of(&a.path);
        a.layer_digests
            .iter()
            .filter_map(move |d| repo.clone().map(|r| (d.clone(), r)))
    }))
}

pub(crate) fn ns_prefix(namespace: Option<&str>) -> String {
    namespace
        .map(|n| format!("{}/", n.trim_matches('/')))
        .unwrap_or_default()
}
