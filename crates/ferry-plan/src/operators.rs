//! Operator catalog planning: read each catalog image through [`ImageSource`], filter it with
//! oc-mirror 4.12 semantics (ferry-catalog), and plan its bundle and related images.
//!
//! * The catalog reference is resolved to a digest (`imagePin`). For an index, one platform
//!   manifest (linux/amd64 when present, else the first) is read for the FBC; the rebuild later
//!   covers every platform.
//! * Layers stream through a SHA-256 check and the configs extractor: only the files below the
//!   configs label's directory are kept in memory, nothing of the image is written to disk.
//! * Images: every bundle image and `relatedImages` entry. Tag-only references are pinned to
//!   the digest the source serves, and the filtered `index.json` is rewritten to the pinned form
//!   (oc-mirror's image pinning); `--skip-image-pin` keeps the tags in the catalog (the image is
//!   still resolved so it can be copied by digest). Destination: the full source path under the
//!   target namespace; the tag is the source's tag, or `%x` of FNV-32a of the pull spec as
//!   written in the (pinned) catalog. Multi-arch images are copied whole.
//! * `oci://DIR` catalogs are read from the OCI layout ([`crate::oci_layout`]) through the same
//!   reader; their references name the pseudo registry `oci` and [`catalog_source`] routes them.
//! * Heads-only parts of a filter start at the versions earlier runs recorded
//!   ([`crate::operators_remember`], [`plan_operators_with`]).

use crate::{BlockList, BlockedImage, PlanFailure, PlanPolicy, PlannedImage, SourceProvider};
use ferry_catalog::images::{catalog_images, catalog_target, operator_image_tag, CatalogImageKind};
use ferry_catalog::layers::{configs_dir, ConfigsExtractor};
use ferry_catalog::{BundleFilter, Catalog, CatalogFilter, ChannelFilter, PackageFilter};
use ferry_config::Operator;
use ferry_types::media::{is_index, ManifestView};
use ferry_types::{Digest, Error, ImageKind, ImageRef, ImageSource, Manifest, Result, Sha256Hasher};
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

/// One catalog of the plan: where it comes from, where the rebuilt image goes, the filtered FBC.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedCatalog {
    /// `mirror.operators[].catalog` as written.
    pub catalog: String,
    /// The catalog pinned to the digest of its top-level manifest (oc-mirror's `imagePin`).
    #[serde(serialize_with = "crate::ser_display")]
    pub source: ImageRef,
    /// Rebuilt catalog: repository under the destination namespace, and tag.
    pub target_repo: String,
    pub target_tag: String,
    /// Directory of the FBC inside the image (from the configs label, without leading `/`).
    pub configs_dir: String,
    /// The filtered catalog in `WriteJSON` form (goes to `/configs/index.json`).
    #[serde(skip)]
    pub index_json: String,
    #[serde(skip)]
    pub filtered: Catalog,
    /// `package/bundle` of every selected bundle.
    pub bundles: Vec<String>,
    pub dependencies: Vec<ferry_catalog::deps::DependencyPick>,
    pub unresolved: Vec<ferry_catalog::deps::Unresolved>,
    pub default_channel_changes: Vec<String>,
    /// What was selected, per package and channel (lowest version kept), for
    /// `pastMirror.operators[].packages` (heads-only bookkeeping, as oc-mirror records it).
    pub include_config: Vec<ferry_config::IncludePackage>,
    /// The OCI layout of an `oci://` catalog (its `source` then names the pseudo registry
    /// [`crate::oci_layout::OCI_REGISTRY`]; the image is read from this folder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oci_layout: Option<std::path::PathBuf>,
}

/// The source of a planned catalog image: its OCI layout, or the registry through `sources`.
pub fn catalog_source(pc: &PlannedCatalog, sources: &dyn SourceProvider) -> Result<Arc<dyn ImageSource>> {
    match &pc.oci_layout {
        Some(dir) => Ok(Arc::new(crate::oci_layout::OciLayout::open(&dir.to_string_lossy())?)),
        None => Ok(sources.source(&pc.source.registry)),
    }
}

/// The pseudo reference of an `oci://` catalog: registry [`crate::oci_layout::OCI_REGISTRY`],
/// repository = the layout folder's name (lower-cased, other characters as `-`).
fn oci_ref(layout: &crate::oci_layout::OciLayout) -> ImageRef {
    let base = layout
        .root
        .canonicalize()
        .unwrap_or_else(|_| layout.root.clone())
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string();
    if name.is_empty() {
        name = "catalog".into();
    }
    ImageRef {
        registry: crate::oci_layout::OCI_REGISTRY.into(),
        repository: name,
        tag: None,
        digest: None,
    }
}

/// Everything the operator sections add to a plan.
#[derive(Debug, Default)]
pub struct OperatorPlan {
    pub images: Vec<PlannedImage>,
    pub catalogs: Vec<PlannedCatalog>,
    pub blocked: Vec<BlockedImage>,
    pub failures: Vec<PlanFailure>,
    pub notes: Vec<String>,
}

fn bundle_filter(min: &Option<String>, max: &Option<String>, min_bundle: &Option<String>) -> BundleFilter {
    BundleFilter {
        min_version: min.clone(),
        max_version: max.clone(),
        min_bundle: min_bundle.clone(),
    }
}

/// The filter for one `mirror.operators[]` entry.
pub fn catalog_filter(op: &Operator) -> CatalogFilter {
    CatalogFilter {
        full: op.full.unwrap_or(false),
        skip_dependencies: op.skip_dependencies.unwrap_or(false),
        additive: false,
        packages: op
            .packages
            .iter()
            .map(|p| PackageFilter {
                name: p.name.clone(),
                channels: p
                    .channels
                    .iter()
                    .map(|c| ChannelFilter {
                        name: c.name.clone(),
                        bundles: bundle_filter(&c.min_version, &c.max_version, &c.min_bundle),
                    })
                    .collect(),
                bundles: bundle_filter(&p.min_version, &p.max_version, &p.min_bundle),
                default_channel: p.default_channel.clone(),
            })
            .collect(),
    }
}

/// A blob streamed into a blocking reader (the configs extractor is synchronous), hashed on the
/// way so a corrupted layer is refused.
async fn apply_layer(
    src: &Arc<dyn ImageSource>,
    repo: &str,
    desc: &ferry_types::media::Descriptor,
    mut x: ConfigsExtractor,
    image: &str,
) -> Result<ConfigsExtractor> {
    let digest = Digest::parse(&desc.digest).map_err(|e| Error::Internal(format!("{image}: layer {e}")))?;
    let (_, body) = src.get_blob(repo, &digest).await?;
    let reader = tokio_util::io::StreamReader::new(body.map_err(std::io::Error::other));
    let what = desc.digest.clone();
    let media_type = desc.media_type.clone();
    let image = image.to_string();
    tokio::task::spawn_blocking(move || {
        struct Hashing<R> {
            inner: R,
            h: Sha256Hasher,
        }
        impl<R: Read> Read for Hashing<R> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.inner.read(buf)?;
                self.h.update(&buf[..n]);
                Ok(n)
            }
        }
        let mut r = Hashing {
            inner: tokio_util::io::SyncIoBridge::new(reader),
            h: Sha256Hasher::new(),
        };
        x.apply_layer(&mut r, &media_type, &what)
            .map_err(|e| e.in_catalog(&image))?;
        std::io::copy(&mut r, &mut std::io::sink()).map_err(|e| Error::io(format!("{image} layer {what}"), e))?;
        let got = r.h.finish();
        if got != digest {
            return Err(Error::DigestMismatch {
                what: format!("catalog {image} layer"),
                expected: digest.to_string(),
                actual: got.to_string(),
            });
        }
        Ok(x)
    })
    .await
    .map_err(|e| Error::Internal(format!("catalog extraction task: {e}")))?
}

async fn collect_blob(
    src: &Arc<dyn ImageSource>,
    repo: &str,
    digest: &Digest,
    limit: usize,
    what: &str,
) -> Result<Vec<u8>> {
    let (_, mut body) = src.get_blob(repo, digest).await?;
    let mut buf = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| Error::io(what, e))?;
        buf.extend_from_slice(&chunk);
        if buf.len() > limit {
            return Err(Error::Internal(format!(
                "{what}: larger than {limit} bytes; not an image config"
            )));
        }
    }
    if Digest::of(&buf) != *digest {
        return Err(Error::DigestMismatch {
            what: what.to_string(),
            expected: digest.to_string(),
            actual: Digest::of(&buf).to_string(),
        });
    }
    Ok(buf)
}

/// Read the FBC of a catalog image: the pinned reference, the top manifest and the catalog.
pub async fn read_catalog(src: &Arc<dyn ImageSource>, r: &ImageRef) -> Result<(ImageRef, Manifest, String, Catalog)> {
    let shown = r.to_string();
    let top = src
        .get_manifest(&r.repository, &r.reference())
        .await
        .map_err(|e| match e {
            Error::NotFound { .. } => Error::NotFound {
                what: format!("catalog image {shown}"),
                hint: Some("check mirror.operators[].catalog (name and tag)".into()),
            },
            other => other,
        })?;
    let pinned = r.with_digest(top.digest.clone());
    let view =
        ManifestView::parse(&top.bytes).map_err(|e| Error::Internal(format!("catalog {shown}: manifest: {e}")))?;
    let single = if is_index(view.effective_media_type(&top.media_type)) {
        let pick = view
            .manifests
            .iter()
            .find(|m| {
                m.platform
                    .as_ref()
                    .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
            })
            .or_else(|| view.manifests.first())
            .ok_or_else(|| Error::Internal(format!("catalog {shown}: the index lists no manifests")))?;
        let m = src.get_manifest(&r.repository, &pick.digest).await?;
        ManifestView::parse(&m.bytes)
            .map_err(|e| Error::Internal(format!("catalog {shown}: manifest {}: {e}", pick.digest)))?
    } else {
        view
    };
    let cdesc = single
        .config
        .as_ref()
        .ok_or_else(|| Error::Internal(format!("catalog {shown}: the manifest has no config")))?;
    let cdigest = Digest::parse(&cdesc.digest).map_err(|e| Error::Internal(format!("catalog {shown}: config {e}")))?;
    let config = collect_blob(
        src,
        &r.repository,
        &cdigest,
        8 << 20,
        &format!("catalog {shown} config"),
    )
    .await?;
    let cv: serde_json::Value =
        serde_json::from_slice(&config).map_err(|e| Error::Internal(format!("catalog {shown}: config: {e}")))?;
    let labels: BTreeMap<String, String> = cv["config"]["Labels"]
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let dir = configs_dir(&labels, &shown).map_err(|e| e.in_catalog(&shown))?;
    let mut x = ConfigsExtractor::new(&dir, &shown);
    for l in &single.layers {
        x = apply_layer(src, &r.repository, l, x, &shown).await?;
    }
    let cat = x.into_catalog().map_err(|e| e.in_catalog(&shown))?;
    Ok((pinned, top, dir, cat))
}

/// The lowest selected version per package/channel, for `pastMirror.operators[].packages`.
fn include_config(cat: &Catalog) -> Vec<ferry_config::IncludePackage> {
    cat.packages
        .values()
        .map(|p| ferry_config::IncludePackage {
            name: p.name().to_string(),
            channels: p
                .channels
                .values()
                .map(|c| ferry_config::IncludeChannel {
                    name: c.name.clone(),
                    min_version: c
                        .entries
                        .iter()
                        .filter_map(|e| p.bundles.get(&e.name))
                        .map(|b| &b.version)
                        .min_by(|a, b| ferry_catalog::semver_range::compare(a, b))
                        .map(|v| v.to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn plan_one(
    idx: usize,
    op: &Operator,
    sources: &dyn SourceProvider,
    blocked: &BlockList,
    policy: PlanPolicy,
    skip_image_pin: bool,
    remembered: &crate::operators_remember::Remembered,
    out: &mut OperatorPlan,
) -> Result<()> {
    let at = format!("mirror.operators[{idx}] (catalog {})", op.catalog);
    // oci:// catalogs are read from the layout on disk through the same reader and filter.
    let (r, src, oci_layout): (ImageRef, Arc<dyn ImageSource>, _) = if op.is_oci() {
        let layout = crate::oci_layout::OciLayout::open(&op.catalog).map_err(|e| match e {
            Error::NotFound { what, hint } => Error::NotFound {
                what: format!("{at}: {what}"),
                hint,
            },
            other => other,
        })?;
        let root = layout.root.clone();
        (oci_ref(&layout), Arc::new(layout), Some(root))
    } else {
        let r = ImageRef::parse(&op.catalog)
            .map_err(|e| Error::InvalidReference(format!("{at}: {}: {}", e.input, e.reason)))?;
        let src = sources.source(&r.registry);
        (r, src, None)
    };
    let (pinned, _top, dir, cat) = read_catalog(&src, &r).await?;
    let mut cfilter = catalog_filter(op);
    if let Some(past) = remembered.get(&op.catalog) {
        if crate::operators_remember::apply(&mut cfilter, &cat, past) {
            out.notes.push(format!(
                "catalog {}: heads-only channels start at the versions earlier runs selected (pastMirror.operators)",
                op.catalog
            ));
        }
    }
    let result = ferry_catalog::filter(&cat, &cfilter).map_err(|e| e.in_catalog(&op.catalog))?;
    for u in &result.unresolved {
        out.notes.push(format!(
            "catalog {}: {} (required by {}) is not provided by this catalog; OLM must find it in another catalog on the cluster",
            op.catalog,
            u.requirement,
            u.required_by.join(", ")
        ));
    }
    for c in &result.default_channel_changes {
        out.notes.push(format!("catalog {}: {c}", op.catalog));
    }
    let mut filtered = result.catalog;

    // Resolve tag-only images (pinning), then plan each image.
    let imgs = catalog_images(&filtered);
    let parsed: Vec<(
        ferry_catalog::images::CatalogImage,
        std::result::Result<ImageRef, String>,
    )> = imgs
        .into_iter()
        .map(|i| {
            let p = ImageRef::parse(&i.image).map_err(|e| format!("{}: {}", e.input, e.reason));
            (i, p)
        })
        .collect();
    let resolved: Vec<_> = stream::iter(parsed)
        .map(|(i, p)| async move {
            let d = match &p {
                Err(e) => Err(Error::InvalidReference(format!(
                    "catalog {}: bundle {} of package {}: image {e}",
                    op.catalog, i.bundle, i.package
                ))),
                Ok(r) if r.digest.is_some() => Ok(r.digest.clone().expect("checked")),
                Ok(r) => sources
                    .source(&r.registry)
                    .get_manifest(&r.repository, r.tag_or_latest())
                    .await
                    .map(|m| m.digest)
                    .map_err(|e| match e {
                        Error::NotFound { .. } => Error::NotFound {
                            what: format!(
                                "image {r} (bundle {} of package {} in catalog {})",
                                i.bundle, i.package, op.catalog
                            ),
                            hint: Some("the catalog names an image its registry does not serve".into()),
                        },
                        other => other,
                    }),
            };
            (i, p, d)
        })
        .buffered(policy.parallel.max(1))
        .collect()
        .await;
    let mut pins: BTreeMap<String, String> = BTreeMap::new();
    let mut planned = Vec::new();
    for (i, p, d) in resolved {
        let digest = match d {
            Ok(d) => d,
            Err(e) => {
                let tolerated =
                    policy.continue_on_error || (policy.skip_missing && matches!(e, Error::NotFound { .. }));
                if !tolerated {
                    return Err(e);
                }
                out.failures.push(PlanFailure {
                    image: i.image.clone(),
                    code: e.code(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let r = p.expect("parse errors returned above");
        // The pull spec as the (pinned) catalog will write it.
        let written = if r.digest.is_none() && !skip_image_pin {
            let pinned_spec = format!("{}@{digest}", r.name());
            pins.insert(i.image.clone(), pinned_spec.clone());
            pinned_spec
        } else {
            i.image.clone()
        };
        let written_ref =
            ImageRef::parse(&written).map_err(|e| Error::Internal(format!("{}: {}", e.input, e.reason)))?;
        let source = r.with_digest(digest);
        if let Some(pat) = blocked.matches(&[i.image.clone(), source.exact(), source.to_string()]) {
            out.blocked.push(BlockedImage {
                image: source.to_string(),
                pattern: pat.to_string(),
            });
            continue;
        }
        planned.push(PlannedImage {
            requested: r.clone(),
            dest_repo: r.repository.clone(),
            dest_tag: operator_image_tag(&written, &written_ref),
            source,
            kind: match i.kind {
                CatalogImageKind::Bundle => ImageKind::OperatorBundle,
                CatalogImageKind::Related => ImageKind::OperatorRelatedImage,
            },
        });
    }
    for p in filtered.packages.values_mut() {
        for b in p.bundles.values_mut() {
            if let Some(n) = pins.get(&b.doc.image) {
                b.doc.image = n.clone();
            }
            for ri in &mut b.doc.related_images {
                if let Some(n) = pins.get(&ri.image) {
                    ri.image = n.clone();
                }
            }
        }
    }
    let (target_repo, target_tag) = catalog_target(
        &r,
        op.target_catalog.as_deref(),
        op.target_name.as_deref(),
        op.target_tag.as_deref(),
    )
    .map_err(|e| Error::InvalidConfig(format!("{at}: {e}")))?;
    let bundles = filtered
        .packages
        .values()
        .flat_map(|p| p.bundles.keys().map(move |b| format!("{}/{b}", p.name())))
        .collect();
    out.images.extend(planned);
    out.catalogs.push(PlannedCatalog {
        catalog: op.catalog.clone(),
        source: pinned,
        target_repo,
        target_tag,
        configs_dir: dir,
        index_json: ferry_catalog::write_json(&filtered),
        include_config: include_config(&filtered),
        filtered,
        bundles,
        dependencies: result.dependencies,
        unresolved: result.unresolved,
        default_channel_changes: result.default_channel_changes,
        oci_layout,
    });
    Ok(())
}

/// Plan every `mirror.operators[]` entry. Images shared by catalogs are planned once.
pub async fn plan_operators(
    ops: &[Operator],
    sources: &dyn SourceProvider,
    blocked: &BlockList,
    policy: PlanPolicy,
    skip_image_pin: bool,
) -> Result<OperatorPlan> {
    plan_operators_with(ops, sources, blocked, policy, skip_image_pin, &Default::default()).await
}

/// [`plan_operators`] with what earlier runs remembered of heads-only catalogs (see
/// [`crate::operators_remember`]).
pub async fn plan_operators_with(
    ops: &[Operator],
    sources: &dyn SourceProvider,
    blocked: &BlockList,
    policy: PlanPolicy,
    skip_image_pin: bool,
    remembered: &crate::operators_remember::Remembered,
) -> Result<OperatorPlan> {
    let mut out = OperatorPlan::default();
    for (i, op) in ops.iter().enumerate() {
        plan_one(i, op, sources, blocked, policy, skip_image_pin, remembered, &mut out).await?;
    }
    let mut seen = std::collections::BTreeSet::new();
    out.images
        .retain(|i| seen.insert((i.source.exact(), i.dest_repo.clone(), i.dest_tag.clone())));
    out.images
        .sort_by(|a, b| (&a.dest_repo, &a.dest_tag).cmp(&(&b.dest_repo, &b.dest_tag)));
    Ok(out)
}
