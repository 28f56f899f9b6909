//! Operator catalogs in the facade: plan them (ferry-plan), rebuild the filtered catalog image
//! for the target and push it, and write `catalogSource-<name>.yaml` into the results.
//!
//! The rebuilt image, for every platform of the source index: the source's layers, a layer
//! whiting out the configs directory, a root-owned layer with the filtered `index.json`, labels
//! replaced by `{configs label: /configs}`, `Entrypoint ["/bin/opm"]`, `Cmd ["serve","/configs"]`.
//! No cache is built or claimed and the catalog's `opm` is never run on this host (the
//! crash-loop history in planners.md §3). Blobs stream from the source to the destination and
//! are hashed on the way; only the small config and FBC are held in memory. The catalog is
//! pushed after every one of its images has been copied, so the target never serves a catalog
//! that names images it does not have.

use crate::image_rebuild::rebuild_platform;
use ferry_catalog::images::{catalog_source_name, catalog_source_yaml};
use ferry_catalog::layers::CONFIGS_LABEL;
use ferry_imagebuild::{build_layer, rebuild_index, whiteout_layer, BuiltLayer, ConfigEdit, LayerEntry};
use ferry_plan::operators::PlannedCatalog;
use ferry_plan::Plan;
use ferry_types::media::{is_index, ManifestView};
use ferry_types::{Digest, Error, ImageDestination, ImageSource, Result};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The destination repository of a planned catalog under the target namespace.
pub fn target_repo(pc: &PlannedCatalog, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("{ns}/{}", pc.target_repo),
        None => pc.target_repo.clone(),
    }
}

/// What a catalog rebuild needs: the source index image (repository and pinned digest in
/// `src`), the filtered FBC and where it goes. Mirror-to-mirror fills it from the plan,
/// disk-to-mirror from the catalog the image set carries ([`crate::operators_disk`]).
pub struct CatalogBuild<'a> {
    /// `mirror.operators[].catalog` as written (for messages).
    pub catalog: &'a str,
    pub src_repo: &'a str,
    pub pinned: &'a Digest,
    /// Directory of the FBC in the image, without the leading `/`.
    pub configs_dir: &'a str,
    /// The filtered catalog in `WriteJSON` form.
    pub index_json: &'a str,
    pub target_tag: &'a str,
}

impl<'a> CatalogBuild<'a> {
    pub fn of(pc: &'a PlannedCatalog) -> Result<Self> {
        Ok(CatalogBuild {
            catalog: &pc.catalog,
            src_repo: &pc.source.repository,
            pinned: pc
                .source
                .digest
                .as_ref()
                .ok_or_else(|| Error::Internal(format!("catalog {} was not pinned", pc.catalog)))?,
            configs_dir: &pc.configs_dir,
            index_json: &pc.index_json,
            target_tag: &pc.target_tag,
        })
    }
}

/// Build and push the filtered catalog image of `pc` to `dest_repo:pc.target_tag`. Returns the
/// digest of what the tag now points at.
pub async fn push_catalog(
    src: &dyn ImageSource,
    dest: &dyn ImageDestination,
    pc: &PlannedCatalog,
    dest_repo: &str,
    workdir: &Path,
) -> Result<Digest> {
    push_catalog_build(src, dest, &CatalogBuild::of(pc)?, dest_repo, workdir).await
}

/// [`push_catalog`] from a [`CatalogBuild`].
pub async fn push_catalog_build(
    src: &dyn ImageSource,
    dest: &dyn ImageDestination,
    pc: &CatalogBuild<'_>,
    dest_repo: &str,
    workdir: &Path,
) -> Result<Digest> {
    let src_repo = pc.src_repo;
    let pinned = pc.pinned;
    let top = src.get_manifest(src_repo, &pinned.to_string()).await?;
    std::fs::create_dir_all(workdir).map_err(|e| Error::io(workdir.display(), e))?;
    let dir = pc.configs_dir.to_string();
    let index_json = pc.index_json.to_string();
    let wd = workdir.to_path_buf();
    let (wh, cfg) = tokio::task::spawn_blocking(move || -> Result<(BuiltLayer, BuiltLayer)> {
        let wh = whiteout_layer(&[&dir], &wd)?;
        let cfg = build_layer(
            &[LayerEntry::file(format!("{dir}/index.json"), index_json.into_bytes())],
            &wd,
            &format!("ferry: filtered catalog in /{dir}"),
        )?;
        Ok((wh, cfg))
    })
    .await
    .map_err(|e| Error::Internal(format!("catalog layer task: {e}")))??;
    let mut labels = BTreeMap::new();
    labels.insert(CONFIGS_LABEL.to_string(), format!("/{}", pc.configs_dir));
    let edit = ConfigEdit {
        labels: Some(labels),
        cmd: Some(vec!["serve".into(), format!("/{}", pc.configs_dir)]),
        entrypoint: Some(Some(vec!["/bin/opm".into()])),
    };
    let layers = [&wh, &cfg];
    let top_view =
        ManifestView::parse(&top.bytes).map_err(|e| Error::Internal(format!("catalog {}: {e}", pc.catalog)))?;
    let result = if is_index(top_view.effective_media_type(&top.media_type)) {
        let mut replace = BTreeMap::new();
        for child in &top_view.manifests {
            let d = Digest::parse(&child.digest).map_err(|e| Error::Internal(e.to_string()))?;
            // Build attestations (platform unknown/unknown) describe the old image: dropped.
            if child.platform.as_ref().is_some_and(|p| p.os == "unknown") {
                replace.insert(d, None);
                continue;
            }
            let m = src.get_manifest(src_repo, &child.digest).await?;
            let new = rebuild_platform(src, src_repo, &m, dest, dest_repo, &layers, &edit, None).await?;
            replace.insert(d, Some(new));
        }
        rebuild_index(&top.bytes, &top.media_type, &replace)?
    } else {
        let new = rebuild_platform(src, src_repo, &top, dest, dest_repo, &layers, &edit, None).await?;
        // Pushed by digest already; the tag below points at it.
        new
    };
    dest.put_manifest(dest_repo, pc.target_tag, &result).await?;
    tracing::info!(catalog = %pc.catalog, target = %format!("{dest_repo}:{}", pc.target_tag), digest = %result.digest, "rebuilt catalog pushed");
    Ok(result.digest)
}

/// Push every planned catalog to `registry/namespace` (after its images were copied).
pub async fn push_catalogs(
    plan: &Plan,
    sources: &dyn ferry_plan::SourceProvider,
    dest: &dyn ImageDestination,
    namespace: Option<&str>,
    workdir: &Path,
) -> Result<Vec<Digest>> {
    let mut out = Vec::new();
    for pc in &plan.catalogs {
        let src = ferry_plan::operators::catalog_source(pc, sources)?;
        out.push(push_catalog(src.as_ref(), dest, pc, &target_repo(pc, namespace), workdir).await?);
    }
    Ok(out)
}

/// `pastMirror.operators` of a plan, in oc-mirror's form: per catalog the selected packages
/// with each channel's lowest version (heads-only bookkeeping), the catalog as written and
/// `imagePin` (the catalog pinned by digest).
pub fn past_operators(plan: &Plan) -> Vec<serde_json::Value> {
    plan.catalogs
        .iter()
        .map(|pc| {
            serde_json::json!({
                "packages": pc.include_config,
                "catalog": pc.catalog,
                "imagePin": pc.source.exact(),
            })
        })
        .collect()
}

/// What earlier runs recorded in `pastMirror.operators`, per catalog (see
/// [`ferry_plan::operators_remember`]). Entries that do not parse are ignored (they came from
/// another tool's metadata and only widen heads-only ranges).
pub fn remembered(previous: Option<&ferry_metadata::Metadata>) -> ferry_plan::operators_remember::Remembered {
    let mut out = ferry_plan::operators_remember::Remembered::new();
    for v in previous.iter().flat_map(|m| &m.past_mirror.operators) {
        let Some(catalog) = v["catalog"].as_str() else {
            continue;
        };
        if let Ok(p) = serde_json::from_value::<Vec<ferry_config::IncludePackage>>(v["packages"].clone()) {
            out.insert(catalog.to_string(), p);
        }
    }
    out
}

/// The associations of every pushed catalog, read back from the target (kind `operatorCatalog`,
/// so pruning sees the rebuilt image). `path_of` gives the recorded path of a repository.
pub async fn catalog_associations(
    target: &dyn ImageSource,
    pushed: &[(String, String, String, Digest)],
    path_of: &dyn Fn(&str) -> String,
) -> Result<Vec<ferry_metadata::Association>> {
    let mut out = Vec::new();
    for (name, repo, tag, digest) in pushed {
        let what = format!("rebuilt catalog {repo}@{digest}");
        let tree = crate::image_tree::ImageTree::fetch(target, repo, &digest.to_string(), &what).await?;
        out.extend(ferry_metadata::associations_for(
            name,
            &path_of(repo),
            Some(tag),
            ferry_types::ImageKind::OperatorCatalog,
            &tree.top,
            &tree.children,
        )?);
    }
    Ok(out)
}

/// `catalogSource-<name>.yaml` for every catalog (names made unique with `-1`, `-2`… as
/// oc-mirror 4.11 does), the image by tag.
pub fn results_extras(plan: &Plan, registry: &str, namespace: Option<&str>) -> ferry_manifests::ResultsExtras {
    let mut extras = ferry_manifests::ResultsExtras::new();
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    for pc in &plan.catalogs {
        let image = format!("{registry}/{}:{}", target_repo(pc, namespace), pc.target_tag);
        add_catalog_source(&mut extras, &mut used, &pc.target_repo, &image);
    }
    extras
}

/// One `catalogSource-<name>.yaml`, the name made unique over `used`.
pub(crate) fn add_catalog_source(
    extras: &mut ferry_manifests::ResultsExtras,
    used: &mut BTreeMap<String, usize>,
    target_repo: &str,
    image: &str,
) {
    let base = catalog_source_name(target_repo);
    let n = used.entry(base.clone()).or_insert(0);
    let name = if *n == 0 { base.clone() } else { format!("{base}-{n}") };
    *n += 1;
    extras.add_manifest(format!("catalogSource-{name}.yaml"), catalog_source_yaml(&name, image));
}

/// Plan `mirror.operators` into `plan`: bundle and related images join `images`, catalogs go
/// to `catalogs`, unresolved dependencies and default-channel changes to `notes`.
pub async fn plan_into(
    plan: &mut Plan,
    ops: &[ferry_config::Operator],
    skip_image_pin: bool,
    sources: &dyn ferry_plan::SourceProvider,
    blocked: &ferry_plan::BlockList,
    policy: ferry_plan::PlanPolicy,
    remembered: &ferry_plan::operators_remember::Remembered,
) -> Result<()> {
    let part =
        ferry_plan::operators::plan_operators_with(ops, sources, blocked, policy, skip_image_pin, remembered).await?;
    for i in part.images {
        let dup = plan
            .images
            .iter()
            .any(|p| p.source.exact() == i.source.exact() && p.dest_repo == i.dest_repo && p.dest_tag == i.dest_tag);
        if !dup {
            plan.images.push(i);
        }
    }
    plan.blocked.extend(part.blocked);
    plan.failures.extend(part.failures);
    plan.notes.extend(part.notes);
    plan.catalogs.extend(part.catalogs);
    Ok(())
}

/// `ferry list operators --catalogs --version 4.x`: the Red Hat index images of a version (the
/// four oc-mirror lists).
pub fn redhat_catalogs(version: &str) -> Result<Vec<String>> {
    let v = version.trim_start_matches('v');
    let ok = v.split('.').count() == 2
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return Err(Error::InvalidConfig(format!(
            "--version {version:?}: give an OpenShift minor version such as 4.14"
        )));
    }
    Ok([
        "redhat-operator-index",
        "certified-operator-index",
        "community-operator-index",
        "redhat-marketplace-index",
    ]
    .iter()
    .map(|n| format!("registry.redhat.io/redhat/{n}:v{v}"))
    .collect())
}

/// A package of a catalog, for `ferry list operators --catalog C`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedPackage {
    pub name: String,
    pub default_channel: String,
}

/// A channel of a package, for `ferry list operators --catalog C --package P`.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedChannel {
    pub name: String,
    pub head: String,
    /// Bundle versions in the channel, lowest first.
    pub versions: Vec<String>,
}

/// Read a catalog image and list its packages (or one package's channels).
pub async fn list_operators(
    settings: &crate::registry::RegistrySettings,
    catalog: &str,
    package: Option<&str>,
) -> Result<(Vec<ListedPackage>, Vec<ListedChannel>)> {
    let r = ferry_types::ImageRef::parse(catalog)
        .map_err(|e| Error::InvalidReference(format!("--catalog {}: {}", e.input, e.reason)))?;
    let client = crate::registry::build_client(settings, None)?;
    let src: Arc<dyn ImageSource> = Arc::new(client.registry(&r.registry));
    let (_, _, _, cat) = ferry_plan::operators::read_catalog(&src, &r).await?;
    let pkgs: Vec<ListedPackage> = cat
        .packages
        .values()
        .filter(|p| package.is_none_or(|n| p.name() == n))
        .map(|p| ListedPackage {
            name: p.name().to_string(),
            default_channel: p.default_channel().to_string(),
        })
        .collect();
    let Some(name) = package else {
        return Ok((pkgs, Vec::new()));
    };
    let p = cat.packages.get(name).ok_or_else(|| Error::NotFound {
        what: format!("package {name:?} in catalog {catalog}"),
        hint: Some("list the packages with `ferry list operators --catalog …`".into()),
    })?;
    let mut chans = Vec::new();
    for ch in p.channels.values() {
        let head = ferry_catalog::filter::channel_head(name, ch)
            .map(|e| e.name.clone())
            .map_err(|e| e.in_catalog(catalog))?;
        let mut vs: Vec<&semver::Version> = ch
            .entries
            .iter()
            .filter_map(|e| p.bundles.get(&e.name))
            .map(|b| &b.version)
            .collect();
        vs.sort_by(|a, b| ferry_catalog::semver_range::compare(a, b));
        chans.push(ListedChannel {
            name: ch.name.clone(),
            head,
            versions: vs.iter().map(|v| v.to_string()).collect(),
        });
    }
    Ok((pkgs, chans))
}
