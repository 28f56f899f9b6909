//! Operator catalogs on the disk path: what travels in the image set, and the rebuild on import.
//!
//! **Mirror-to-disk** ([`stage`]): for every planned catalog the set carries
//! - `catalogs/<registry>/<repository>/<tag | digest hex>/index/index.json`: the filtered
//!   catalog in `declcfg.WriteJSON` form, where oc-mirror v1 writes it;
//! - `catalogs/…/ferry-catalog.json` ([`CatalogPointer`]): the catalog as written, its pin, the
//!   configs directory, the rebuilt image's repository and tag, and where the source index image
//!   is in the set's `v2/` store;
//! - the source index image itself, every platform, as an image of kind `operatorCatalog` under
//!   `v2/<target repository>` (not as oc-mirror's `catalogs/…/layout/` OCI layout: in `v2/` its
//!   blobs are de-duplicated and, in later sequences, not shipped again; its manifests and
//!   config always are, since the import cannot rebuild without them). oc-mirror therefore
//!   cannot rebuild a Ferry set's catalogs (it finds `index/` but no `layout/`).
//!
//! **Disk-to-mirror** ([`import`]): after every other image of the set was pushed, each catalog
//! is rebuilt from the set (source layers, from the set or, when an earlier sequence shipped
//! them, from the target; a whiteout of the configs directory; the filtered FBC; labels and
//! `Cmd` replaced; [`crate::operators::push_catalog_build`]) and pushed to
//! `<registry>/<ns>/<target repository>:<target tag>`; nothing reaches the source registry.
//! The source association is replaced in the recorded metadata by the rebuilt image's (so
//! pruning and later sequences see what is really on the target) and the results get
//! `catalogSource-<name>.yaml`.

use crate::operators::{add_catalog_source, push_catalog_build, CatalogBuild};
use ferry_archive::ArchiveSet;
use ferry_metadata::Metadata;
use ferry_plan::{Plan, PlannedImage};
use ferry_types::{Digest, Error, ImageDestination, ImageKind, ImageSource, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File name of the pointer next to `index/`.
pub const POINTER_FILE: &str = "ferry-catalog.json";

/// How the import finds and rebuilds one catalog of the set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogPointer {
    /// `mirror.operators[].catalog` as written.
    pub catalog: String,
    /// The source catalog pinned by digest (oc-mirror's `imagePin`).
    pub image_pin: String,
    /// Repository of the source index image in the set's `v2/` store.
    pub archive_repo: String,
    /// Digest of its top manifest.
    pub archive_digest: String,
    /// FBC directory inside the image (no leading `/`).
    pub configs_dir: String,
    /// Rebuilt catalog: repository under the target namespace, and tag.
    pub target_repo: String,
    pub target_tag: String,
}

/// The `catalogs/…` folder of a catalog in the set, as oc-mirror names it.
pub fn catalog_dir(source: &ferry_types::ImageRef) -> String {
    let leaf = match (&source.tag, &source.digest) {
        (Some(t), _) => t.clone(),
        (None, Some(d)) => d.hex().to_string(),
        (None, None) => "latest".into(),
    };
    format!("catalogs/{}/{}/{leaf}", source.registry, source.repository)
}

/// The folder of a planned catalog in the set. An `oci://` catalog is named after its layout
/// folder (`catalogs/oci/<folder>/…`), so two layouts in folders of the same name would share
/// it: the folder name gets the FNV-32a of the layout's absolute path (`<folder>-<hex>`),
/// unique per layout and the same on every run from that path.
fn planned_dir(pc: &ferry_plan::operators::PlannedCatalog) -> String {
    match &pc.oci_layout {
        None => catalog_dir(&pc.source),
        Some(root) => {
            let abs = root.canonicalize().unwrap_or_else(|_| root.clone());
            let mut r = pc.source.clone();
            r.repository = format!(
                "{}-{:x}",
                r.repository,
                ferry_catalog::images::fnv32a(&abs.to_string_lossy())
            );
            catalog_dir(&r)
        }
    }
}

/// What mirror-to-disk adds to a set for the plan's catalogs.
#[derive(Default)]
pub struct Staged {
    /// The source index images, to pack as images (kind `operatorCatalog`).
    pub images: Vec<PlannedImage>,
    /// (archive path, staged file) pairs for the writer.
    pub files: Vec<(String, PathBuf)>,
}

/// Stage the catalogs of `plan` under `workspace` (the files must stay until the set is written).
pub fn stage(plan: &Plan, workspace: &Path) -> Result<Staged> {
    let mut out = Staged::default();
    // Two catalogs rebuilt to the same target would overwrite each other on import, and two
    // in one folder would overwrite each other in the set: refused, naming both.
    let mut targets: BTreeMap<String, &str> = BTreeMap::new();
    let mut dirs: BTreeMap<String, &str> = BTreeMap::new();
    for pc in &plan.catalogs {
        let t = format!("{}:{}", pc.target_repo, pc.target_tag);
        if let Some(first) = targets.insert(t.clone(), &pc.catalog) {
            return Err(Error::InvalidConfig(format!(
                "mirror.operators: catalogs {first} and {} would both be rebuilt as {t}; set targetCatalog (or targetName) and targetTag on one of them",
                pc.catalog
            )));
        }
        if let Some(first) = dirs.insert(planned_dir(pc), &pc.catalog) {
            return Err(Error::InvalidConfig(format!(
                "mirror.operators: catalog {} is listed twice ({first}); merge the two entries' packages into one",
                pc.catalog
            )));
        }
    }
    for pc in &plan.catalogs {
        let digest = pc
            .source
            .digest
            .clone()
            .ok_or_else(|| Error::Internal(format!("catalog {} was not pinned", pc.catalog)))?;
        let dir = planned_dir(pc);
        let pointer = CatalogPointer {
            catalog: pc.catalog.clone(),
            image_pin: pc.source.exact(),
            archive_repo: pc.target_repo.clone(),
            archive_digest: digest.to_string(),
            configs_dir: pc.configs_dir.clone(),
            target_repo: pc.target_repo.clone(),
            target_tag: pc.target_tag.clone(),
        };
        let mut pointer_json = serde_json::to_vec_pretty(&pointer).expect("pointer serialises");
        pointer_json.push(b'\n');
        for (rel, body) in [
            (format!("{dir}/index/index.json"), pc.index_json.as_bytes().to_vec()),
            (format!("{dir}/{POINTER_FILE}"), pointer_json),
        ] {
            let file = workspace.join(&rel);
            let parent = file.parent().expect("staged file has a parent");
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent.display(), e))?;
            std::fs::write(&file, body).map_err(|e| Error::io(file.display(), e))?;
            out.files.push((rel, file));
        }
        out.images.push(PlannedImage {
            requested: pc.source.clone(),
            source: pc.source.clone(),
            dest_repo: pc.target_repo.clone(),
            dest_tag: pc.target_tag.clone(),
            kind: ImageKind::OperatorCatalog,
        });
    }
    Ok(out)
}

/// The source provider of a mirror-to-disk run: `oci://` catalogs come from their layouts,
/// everything else from `base`.
pub fn with_layouts<'a>(
    plan: &Plan,
    base: &'a dyn ferry_plan::SourceProvider,
) -> Result<impl Fn(&str) -> Arc<dyn ImageSource> + Send + Sync + 'a> {
    let mut layouts = Vec::new();
    for pc in &plan.catalogs {
        if let Some(dir) = &pc.oci_layout {
            layouts.push(ferry_plan::oci_layout::OciLayout::open(&dir.to_string_lossy())?);
        }
    }
    let layouts: Arc<dyn ImageSource> = Arc::new(ByContent(layouts));
    Ok(move |host: &str| {
        if host == ferry_plan::oci_layout::OCI_REGISTRY {
            layouts.clone()
        } else {
            base.source(host)
        }
    })
}

/// The `oci://` catalogs of a plan as one source. Every request is by digest (catalogs are
/// pinned) and served by the layout that holds that blob: routing by the planned repository
/// (the folder name) sent two layouts of the same folder name to one of them.
struct ByContent(Vec<ferry_plan::oci_layout::OciLayout>);

impl ByContent {
    fn holding(&self, reference: &str) -> Result<&ferry_plan::oci_layout::OciLayout> {
        let hex = reference.strip_prefix("sha256:").unwrap_or(reference);
        self.0
            .iter()
            .find(|l| l.root.join("blobs").join("sha256").join(hex).is_file())
            .ok_or_else(|| Error::NotFound {
                what: format!("{reference} in the oci:// catalogs of this plan"),
                hint: Some("a layout changed since planning; plan again".into()),
            })
    }
}

/// The futures `#[async_trait]` makes of `ImageSource`'s methods (written out: this crate does
/// not depend on the macro for one small impl).
type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'a>>;

impl ImageSource for ByContent {
    fn describe(&self) -> String {
        "OCI layouts".into()
    }
    fn get_manifest<'s, 'r, 'f, 'a>(&'s self, repo: &'r str, reference: &'f str) -> Boxed<'a, ferry_types::Manifest>
    where
        's: 'a,
        'r: 'a,
        'f: 'a,
        Self: 'a,
    {
        Box::pin(async move { self.holding(reference)?.get_manifest(repo, reference).await })
    }
    fn get_blob<'s, 'r, 'd, 'a>(
        &'s self,
        repo: &'r str,
        digest: &'d Digest,
    ) -> Boxed<'a, (Option<u64>, ferry_types::BlobStream)>
    where
        's: 'a,
        'r: 'a,
        'd: 'a,
        Self: 'a,
    {
        Box::pin(async move { self.holding(&digest.to_string())?.get_blob(repo, digest).await })
    }
}

/// The catalogs a set carries.
pub fn pointers(set: &ArchiveSet) -> Result<Vec<(String, CatalogPointer)>> {
    let mut out = Vec::new();
    for name in set.files("catalogs/") {
        let Some(dir) = name.strip_suffix(&format!("/{POINTER_FILE}")) else {
            continue;
        };
        let bytes = set.read_small(&name, 1 << 20)?;
        let p: CatalogPointer = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Archive(format!("{} in {}: {e}", name, set.origin.display())))?;
        out.push((dir.to_string(), p));
    }
    Ok(out)
}

/// What a dry-run import would rebuild: `<catalog> -> <registry>/<prefix><repo>:<tag>` for
/// every catalog of the set whose source index image the set carries (the others are skipped
/// on import too, with a warning), sorted. A set whose pointers cannot be read lists none and
/// says so in the log; the real import then fails on them, naming the file.
pub fn would_rebuild(set: &ArchiveSet, registry: &str, prefix: &str) -> Vec<String> {
    let ptrs = match pointers(set) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "dry run: the set's catalog pointers cannot be read");
            return Vec::new();
        }
    };
    let mut out: Vec<String> = ptrs
        .iter()
        .filter(|(_, p)| {
            set.resolve(&format!("v2/{}/manifests/{}", p.archive_repo, p.archive_digest))
                .is_some()
        })
        .map(|(_, p)| format!("{} -> {registry}/{prefix}{}:{}", p.catalog, p.target_repo, p.target_tag))
        .collect();
    out.sort();
    out
}

/// Whether an association is a catalog's source index image (top or child) in this set.
pub fn is_catalog_source(a: &ferry_metadata::Association) -> bool {
    a.kind == ImageKind::OperatorCatalog
}

/// What an import did with the set's catalogs.
#[derive(Default)]
pub struct Imported {
    /// (catalog as written, `registry/repo:tag`, digest) of every rebuilt catalog pushed.
    pub pushed: Vec<(String, String, Digest)>,
    pub extras: ferry_manifests::ResultsExtras,
}

/// Where the import's catalogs go and what they are read from.
pub struct ImportCtx<'a> {
    pub set: &'a ArchiveSet,
    /// The set as an image source (blobs of earlier sequences from the target).
    pub source: &'a dyn ImageSource,
    pub target: &'a dyn ImageSource,
    pub dest: &'a dyn ImageDestination,
    pub registry: &'a str,
    /// Target namespace with a trailing `/`, or empty.
    pub prefix: &'a str,
    pub workdir: &'a Path,
}

/// Rebuild and push every catalog the set carries (call after its images were pushed), then
/// swap the source associations in `recorded` for the rebuilt images'. With `push == false`
/// (some image failed) nothing is pushed and the catalogs' associations leave `recorded`: the
/// target must never serve a catalog that names images it does not have.
pub async fn import(ctx: &ImportCtx<'_>, recorded: &mut Metadata, push: bool) -> Result<Imported> {
    let mut out = Imported::default();
    let ptrs = pointers(ctx.set)?;
    let sources: std::collections::BTreeSet<String> = ptrs.iter().map(|(_, p)| p.archive_repo.clone()).collect();
    let drop_sources = |md: &mut Metadata| {
        let keep = |a: &ferry_metadata::Association| !(is_catalog_source(a) && sources.contains(&a.path));
        md.past_mirror.associations.retain(keep);
        md.past_associations.retain(keep);
    };
    if !push {
        for (_, p) in &ptrs {
            tracing::warn!(catalog = %p.catalog, "catalog not rebuilt: some of its images failed to import");
        }
        drop_sources(recorded);
        return Ok(out);
    }
    let mut used = BTreeMap::new();
    let mut pushed = Vec::new();
    for (dir, p) in &ptrs {
        // A source index image mirror-to-disk could not fetch (--continue-on-error) is not in
        // the set: that catalog cannot be rebuilt; said, not claimed.
        if ctx
            .set
            .resolve(&format!("v2/{}/manifests/{}", p.archive_repo, p.archive_digest))
            .is_none()
        {
            tracing::warn!(catalog = %p.catalog, "catalog not rebuilt: its source index image is not in the image set");
            continue;
        }
        let index_name = format!("{dir}/index/index.json");
        let index = ctx.set.read_small(&index_name, 1 << 30)?;
        let index_json = String::from_utf8(index)
            .map_err(|e| Error::Archive(format!("{index_name} in {}: not UTF-8: {e}", ctx.set.origin.display())))?;
        let pinned = Digest::parse(&p.archive_digest)
            .map_err(|e| Error::Archive(format!("{dir}/{POINTER_FILE}: archiveDigest: {e}")))?;
        let build = CatalogBuild {
            catalog: &p.catalog,
            src_repo: &p.archive_repo,
            pinned: &pinned,
            configs_dir: &p.configs_dir,
            index_json: &index_json,
            target_tag: &p.target_tag,
        };
        let repo = format!("{}{}", ctx.prefix, p.target_repo);
        let digest = push_catalog_build(ctx.source, ctx.dest, &build, &repo, ctx.workdir)
            .await
            .map_err(|e| {
                Error::Archive(format!(
                    "catalog {} ({dir}): rebuild for {}/{repo}: {e}",
                    p.catalog, ctx.registry
                ))
            })?;
        let image = format!("{}/{repo}:{}", ctx.registry, p.target_tag);
        add_catalog_source(&mut out.extras, &mut used, &p.target_repo, &image);
        out.pushed.push((p.catalog.clone(), image, digest.clone()));
        pushed.push((p.image_pin.clone(), repo, p.target_tag.clone(), digest));
    }
    let prefix = ctx.prefix.to_string();
    let path_of = move |repo: &str| repo.strip_prefix(&prefix).unwrap_or(repo).to_string();
    let assocs = crate::operators::catalog_associations(ctx.target, &pushed, &path_of).await?;
    drop_sources(recorded);
    recorded.past_mirror.associations.extend(assocs.iter().cloned());
    recorded.past_associations.extend(assocs);
    recorded.past_associations.sort();
    recorded.past_associations.dedup();
    Ok(out)
}

/// "No updates" with catalogs. The source index images of the catalogs travel in every set
/// (their manifests and configs, see the module docs), so a run whose plan is otherwise fully
/// shipped would still find something to pack. It has nothing new when every catalog is
/// recorded by the last sequence with the same pinned index and the same selection
/// (`pastMirror.operators` equal, order aside): the filter is deterministic, so the filtered
/// catalogs are the ones the target already serves. oc-mirror then writes no sequence either
/// (its e2e `no_updates_exist`). `packed_kinds` are the kinds of the images the set would pack.
pub fn only_unchanged_catalogs(
    packed_kinds: impl IntoIterator<Item = ImageKind>,
    operators: &[serde_json::Value],
    recorded: &[serde_json::Value],
) -> bool {
    let sorted = |v: &[serde_json::Value]| {
        let mut s: Vec<String> = v.iter().map(|x| x.to_string()).collect();
        s.sort();
        s
    };
    !operators.is_empty()
        && sorted(operators) == sorted(recorded)
        && packed_kinds.into_iter().all(|k| k == ImageKind::OperatorCatalog)
}

#[cfg(test)]
mod no_update_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_unchanged_catalog_is_no_update() {
        let a = json!({"catalog": "r/c:v1", "imagePin": "r/c@sha256:aa", "packages": [{"name": "foo"}]});
        let b = json!({"catalog": "r/d:v1", "imagePin": "r/d@sha256:bb", "packages": []});
        let cat = [ImageKind::OperatorCatalog];
        assert!(only_unchanged_catalogs(
            cat,
            &[a.clone(), b.clone()],
            &[b.clone(), a.clone()]
        ));
        // A new index (imagePin) or another selection is an update; so is any other image.
        let a2 = json!({"catalog": "r/c:v1", "imagePin": "r/c@sha256:ab", "packages": [{"name": "foo"}]});
        assert!(!only_unchanged_catalogs(cat, &[a2], std::slice::from_ref(&a)));
        let a3 = json!({"catalog": "r/c:v1", "imagePin": "r/c@sha256:aa", "packages": [{"name": "bar"}]});
        assert!(!only_unchanged_catalogs(cat, &[a3], std::slice::from_ref(&a)));
        let kinds = [ImageKind::OperatorCatalog, ImageKind::OperatorBundle];
        assert!(!only_unchanged_catalogs(
            kinds,
            std::slice::from_ref(&a),
            std::slice::from_ref(&a)
        ));
        // Without catalogs the ordinary rule applies (nothing here to decide).
        assert!(!only_unchanged_catalogs([], &[], &[]));
    }
}
