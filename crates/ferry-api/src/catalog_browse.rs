//! The catalog browser of the image-set editor: read an operator index image, list its packages
//! (descriptions, icons, default channel, channels, versions) and preview what one
//! `mirror.operators[]` entry selects, before anything is downloaded.
//!
//! * Reading goes through the planner's own reader (`ferry_plan::operators::read_catalog`: the
//!   layers stream through a SHA-256 check and the configs extractor, only the FBC files are
//!   kept), with the app's stored credentials and per-registry trust ([`crate::registry`]).
//! * Loaded catalogs are kept in memory per digest for the session ([`CatalogCache`], the few
//!   most recent), so moving between packages and previews does not read the image again. A
//!   tag is resolved to its digest on every load (one manifest request), so a moved tag is seen.
//! * The preview runs the plan's filter (`ferry_plan::operators::catalog_filter` +
//!   `ferry_catalog::filter`) on the loaded catalog: the same bundles a plan keeps, the images
//!   (bundle + `relatedImages`) it would copy, and each dependency with the requirement that
//!   pulled it in and the bundles that required it (recorded by the filter itself,
//!   [`ferry_catalog::FilterResult::dependency_bundles`], so it runs once). The total size is
//!   read from the images' manifests in their source registries ([`crate::catalog_size`]).
//! * `oci://DIR` catalogs are read from the OCI layout on disk through the same reader (keyed
//!   by the digest of the layout's manifest, so a rewritten layout is read again).

use crate::registry::RegistrySettings;
use crate::wire_catalog::*;
use ferry_catalog::model::{decode_props, Package};
use ferry_types::{Error, ImageRef, ImageSource, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// How many loaded catalogs the session keeps (a Red Hat index is tens of MB in memory).
const KEEP: usize = 4;

/// A catalog read from an index image.
#[derive(Debug)]
pub struct LoadedCatalog {
    pub pinned: ImageRef,
    pub configs_dir: String,
    pub catalog: ferry_catalog::Catalog,
}

/// The session's loaded catalogs, keyed by the digest of the index image's top manifest.
#[derive(Debug, Default)]
pub struct CatalogCache {
    /// Most recently used last.
    entries: Mutex<Vec<(String, Arc<LoadedCatalog>)>>,
}

impl CatalogCache {
    fn get(&self, digest: &str) -> Option<Arc<LoadedCatalog>> {
        let mut e = self.entries.lock().expect("catalog cache");
        let i = e.iter().position(|(d, _)| d == digest)?;
        let hit = e.remove(i);
        let c = hit.1.clone();
        e.push(hit);
        Some(c)
    }

    fn put(&self, digest: String, c: Arc<LoadedCatalog>) {
        let mut e = self.entries.lock().expect("catalog cache");
        e.retain(|(d, _)| *d != digest);
        e.push((digest, c));
        while e.len() > KEEP {
            e.remove(0);
        }
    }

    /// Number of catalogs held (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.entries.lock().expect("catalog cache").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the browser reads a catalog from.
enum Where {
    Registry(ImageRef),
    Layout(ferry_plan::oci_layout::OciLayout),
}

fn parse_ref(catalog: &str) -> Result<Where> {
    let c = catalog.trim();
    if c.is_empty() {
        return Err(Error::InvalidReference(
            "no catalog image given: enter an index image such as registry.redhat.io/redhat/redhat-operator-index:v4.16".into(),
        ));
    }
    if c.starts_with(ferry_config::OCI_TRANSPORT_PREFIX) {
        return Ok(Where::Layout(ferry_plan::oci_layout::OciLayout::open(c)?));
    }
    ImageRef::parse(c).map(Where::Registry).map_err(|e| {
        Error::InvalidReference(format!(
            "catalog image {}: {}; write registry/namespace/name:tag or …@sha256:<digest>",
            e.input, e.reason
        ))
    })
}

/// The reference an `oci://` catalog is read under: the pseudo registry
/// [`ferry_plan::oci_layout::OCI_REGISTRY`] (never contacted) and the folder's name.
fn layout_ref(l: &ferry_plan::oci_layout::OciLayout, digest: ferry_types::Digest) -> ImageRef {
    let name: String = l
        .root
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-');
    ImageRef {
        registry: ferry_plan::oci_layout::OCI_REGISTRY.into(),
        repository: if name.is_empty() { "catalog".into() } else { name.into() },
        tag: None,
        digest: Some(digest),
    }
}

/// Load (or take from the session cache) the catalog of an index image or OCI layout. Returns
/// the catalog and whether it came from the cache.
pub async fn load(
    cache: &CatalogCache,
    settings: &RegistrySettings,
    catalog: &str,
) -> Result<(Arc<LoadedCatalog>, bool)> {
    let (src, pinned_in): (Arc<dyn ImageSource>, ImageRef) = match parse_ref(catalog)? {
        Where::Layout(l) => {
            let d = l.resolve("latest")?;
            if let Some(c) = cache.get(&d.to_string()) {
                return Ok((c, true));
            }
            let r = layout_ref(&l, d);
            (Arc::new(l), r)
        }
        Where::Registry(r) => {
            if let Some(d) = &r.digest {
                if let Some(c) = cache.get(&d.to_string()) {
                    return Ok((c, true));
                }
            }
            let client = crate::registry::build_client(settings, None)?;
            let src: Arc<dyn ImageSource> = Arc::new(client.registry(&r.registry));
            let digest = match &r.digest {
                Some(d) => d.clone(),
                None => {
                    src.get_manifest(&r.repository, &r.reference())
                        .await
                        .map_err(|e| match e {
                            Error::NotFound { .. } => Error::NotFound {
                                what: format!("catalog image {r}"),
                                hint: Some("check the registry, repository and tag of the index image".into()),
                            },
                            other => other,
                        })?
                        .digest
                }
            };
            if let Some(c) = cache.get(&digest.to_string()) {
                return Ok((c, true));
            }
            // Pinned, so the image read is the one whose digest keys the cache.
            (src, r.with_digest(digest))
        }
    };
    let key = pinned_in.digest.as_ref().map(|d| d.to_string()).unwrap_or_default();
    let (pinned, _top, dir, cat) = ferry_plan::operators::read_catalog(&src, &pinned_in).await?;
    let loaded = Arc::new(LoadedCatalog {
        pinned,
        configs_dir: dir,
        catalog: cat,
    });
    cache.put(key, loaded.clone());
    Ok((loaded, false))
}

/// The parts of `olm.csv.metadata` the browser shows.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CsvMetadata {
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// `olm.csv.metadata` of the default channel's head bundle (None when absent or unreadable:
/// the browser then shows the package name and the package description only).
fn head_metadata(p: &Package) -> Option<CsvMetadata> {
    let ch = p.channels.get(p.default_channel())?;
    let head = ferry_catalog::filter::channel_head(p.name(), ch).ok()?;
    let b = p.bundles.get(&head.name)?;
    decode_props::<CsvMetadata>(&b.doc.properties, "olm.csv.metadata")
        .ok()?
        .into_iter()
        .next()
}

fn head_version(p: &Package, channel: &str) -> Option<String> {
    let ch = p.channels.get(channel)?;
    let head = ferry_catalog::filter::channel_head(p.name(), ch).ok()?;
    p.bundles.get(&head.name).map(|b| b.version.to_string())
}

/// The first paragraph of a (markdown) description, headings and their underlines left out.
pub fn summary_of(description: &str, name: &str) -> String {
    let mut para = Vec::new();
    for line in description.lines().map(str::trim) {
        let heading = line.starts_with('#')
            || (!line.is_empty() && line.chars().all(|c| c == '=' || c == '-'))
            || line.eq_ignore_ascii_case(name);
        if line.is_empty() || heading {
            if !para.is_empty() {
                break;
            }
            continue;
        }
        para.push(line);
    }
    let text = para.join(" ");
    if text.chars().count() <= 240 {
        return text;
    }
    let cut: String = text.chars().take(240).collect();
    let cut = cut.rsplit_once(' ').map(|(a, _)| a.to_string()).unwrap_or(cut);
    format!("{cut}…")
}

fn icon_of(p: &Package) -> Option<CatalogIcon> {
    p.doc
        .icon
        .as_ref()
        .filter(|i| !i.data.is_empty() && i.media_type.starts_with("image/"))
        .map(|i| CatalogIcon {
            media_type: i.media_type.clone(),
            base64_data: i.data.clone(),
        })
}

fn description_of(p: &Package, meta: Option<&CsvMetadata>) -> String {
    if !p.doc.description.trim().is_empty() {
        return p.doc.description.clone();
    }
    meta.and_then(|m| m.description.clone()).unwrap_or_default()
}

/// The package list of a loaded catalog.
pub fn view(catalog: &str, c: &LoadedCatalog, cached: bool, started: Instant) -> CatalogView {
    let packages = c
        .catalog
        .packages
        .values()
        .map(|p| {
            let meta = head_metadata(p);
            CatalogPackageSummary {
                name: p.name().to_string(),
                display_name: meta.as_ref().and_then(|m| m.display_name.clone()),
                summary: summary_of(&description_of(p, meta.as_ref()), p.name()),
                icon: icon_of(p),
                default_channel: p.default_channel().to_string(),
                channels: p.channels.keys().cloned().collect(),
                head_version: head_version(p, p.default_channel()),
                bundle_count: p.bundles.len() as u32,
            }
        })
        .collect();
    CatalogView {
        catalog: catalog.trim().to_string(),
        pinned: c.pinned.exact(),
        digest: c.pinned.digest.as_ref().map(|d| d.to_string()).unwrap_or_default(),
        configs_dir: c.configs_dir.clone(),
        packages,
        bundle_count: c.catalog.bundle_count() as u32,
        load_millis: started.elapsed().as_millis() as u64,
        cached,
    }
}

/// Read an index image and list its packages.
pub async fn browse(cache: &CatalogCache, settings: &RegistrySettings, catalog: &str) -> Result<CatalogView> {
    let t0 = Instant::now();
    let (c, cached) = load(cache, settings, catalog).await?;
    Ok(view(catalog, &c, cached, t0))
}

/// One package's channels (head, every version) and full description.
pub fn package_view(catalog: &str, c: &LoadedCatalog, name: &str) -> Result<CatalogPackageView> {
    let p = c.catalog.packages.get(name).ok_or_else(|| Error::NotFound {
        what: format!("package {name:?} in catalog {}", catalog.trim()),
        hint: Some("pick a package from the catalog's list (names are case-sensitive)".into()),
    })?;
    let mut channels = Vec::new();
    for ch in p.channels.values() {
        let head = ferry_catalog::filter::channel_head(name, ch).map_err(|e| e.in_catalog(catalog.trim()))?;
        let mut vs: Vec<&semver::Version> = ch
            .entries
            .iter()
            .filter_map(|e| p.bundles.get(&e.name))
            .map(|b| &b.version)
            .collect();
        vs.sort_by(|a, b| ferry_catalog::semver_range::compare(a, b));
        vs.dedup();
        channels.push(CatalogChannelView {
            name: ch.name.clone(),
            is_default: ch.name == p.default_channel(),
            head: head.name.clone(),
            head_version: p
                .bundles
                .get(&head.name)
                .map(|b| b.version.to_string())
                .unwrap_or_default(),
            versions: vs.iter().map(|v| v.to_string()).collect(),
        });
    }
    let meta = head_metadata(p);
    Ok(CatalogPackageView {
        name: p.name().to_string(),
        display_name: meta.as_ref().and_then(|m| m.display_name.clone()),
        description: description_of(p, meta.as_ref()),
        icon: icon_of(p),
        default_channel: p.default_channel().to_string(),
        channels,
    })
}

/// Load the catalog (cached) and describe one package.
pub async fn package(
    cache: &CatalogCache,
    settings: &RegistrySettings,
    catalog: &str,
    name: &str,
) -> Result<CatalogPackageView> {
    let (c, _) = load(cache, settings, catalog).await?;
    package_view(catalog, &c, name)
}

/// The preview of `op` (the entry at `index`) on its loaded catalog.
pub fn preview_of(op: &ferry_config::Operator, index: usize, c: &LoadedCatalog) -> Result<CatalogPreview> {
    let at = format!("mirror.operators[{index}] (catalog {})", op.catalog);
    let f = ferry_plan::operators::catalog_filter(op);
    let res = ferry_catalog::filter(&c.catalog, &f).map_err(|e| Error::InvalidConfig(format!("{at}: {e}")))?;
    let is_dep = |p: &str, b: &str| res.dependency_bundles.contains(&(p.to_string(), b.to_string()));
    let mut bundles = Vec::new();
    for p in res.catalog.packages.values() {
        let mut chans: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for ch in p.channels.values() {
            for e in &ch.entries {
                chans.entry(e.name.as_str()).or_default().push(ch.name.clone());
            }
        }
        let mut list: Vec<_> = p.bundles.values().collect();
        list.sort_by(|a, b| ferry_catalog::semver_range::compare(&a.version, &b.version));
        for b in list {
            bundles.push(PreviewBundle {
                package: p.name().to_string(),
                bundle: b.name().to_string(),
                version: b.version.to_string(),
                channels: chans.remove(b.name()).unwrap_or_default(),
                image: b.doc.image.clone(),
                related_images: b.doc.related_images.len() as u32,
                dependency: is_dep(p.name(), b.name()),
            });
        }
    }
    let dependencies = res
        .dependencies
        .iter()
        .map(|d| {
            let added = d.added_bundles.clone();
            PreviewDependency {
                package: d.package.clone(),
                channel: d.channel.clone(),
                bundle: d.bundle.clone(),
                requirement: d.requirement.clone(),
                required_by: d.required_by.clone(),
                added_bundles: added,
            }
        })
        .collect();
    let images = ferry_catalog::images::catalog_images(&res.catalog)
        .into_iter()
        .map(|i| PreviewImage {
            image: i.image,
            kind: match i.kind {
                ferry_catalog::images::CatalogImageKind::Bundle => "bundle".into(),
                ferry_catalog::images::CatalogImageKind::Related => "related".into(),
            },
            package: i.package,
            bundle: i.bundle,
        })
        .collect();
    Ok(CatalogPreview {
        catalog: op.catalog.clone(),
        pinned: c.pinned.exact(),
        operator_index: index as u32,
        bundles,
        images,
        dependencies,
        unresolved: res
            .unresolved
            .iter()
            .map(|u| PreviewUnresolved {
                requirement: u.requirement.clone(),
                required_by: u.required_by.clone(),
            })
            .collect(),
        default_channel_changes: res.default_channel_changes.clone(),
        total_bytes: None,
        sized_images: 0,
        size_note: "not sized yet: the images' manifests are read from their source registries".into(),
    })
}

/// Preview `mirror.operators[index]` of the image set `yaml` (parsed strictly, as a run would).
pub async fn preview(
    cache: &CatalogCache,
    settings: &RegistrySettings,
    yaml: &str,
    index: usize,
) -> Result<CatalogPreview> {
    let cfg = ferry_config::parse_str(yaml, "the image set").map_err(|e| Error::InvalidConfig(e.to_string()))?;
    let n = cfg.mirror.operators.len();
    let op = cfg.mirror.operators.get(index).ok_or_else(|| {
        Error::InvalidConfig(format!(
            "mirror.operators[{index}]: the image set has {n} catalog entr{}; add the catalog to the image set first",
            if n == 1 { "y" } else { "ies" }
        ))
    })?;
    let (c, _) = load(cache, settings, &op.catalog).await?;
    let mut p = preview_of(op, index, &c)?;
    add_sizes(settings, &mut p).await?;
    Ok(p)
}

/// Fill the preview's total size from the images' manifests in their source registries (one
/// client, one source per registry host, the app's credentials and trust settings).
pub async fn add_sizes(settings: &RegistrySettings, p: &mut CatalogPreview) -> Result<()> {
    let images: Vec<String> = p.images.iter().map(|i| i.image.clone()).collect();
    let client = crate::registry::build_client(settings, None)?;
    let mut hosts: BTreeMap<String, Arc<dyn ImageSource>> = BTreeMap::new();
    for i in &images {
        if let Ok(r) = ImageRef::parse(i) {
            hosts
                .entry(r.registry.clone())
                .or_insert_with(|| Arc::new(client.registry(&r.registry)));
        }
    }
    let source = |h: &str| hosts.get(h).cloned().unwrap_or_else(|| Arc::new(client.registry(h)));
    let s = crate::catalog_size::size_images(&images, &source).await;
    p.total_bytes = (s.sized > 0 || s.images == 0).then_some(s.total_bytes);
    p.sized_images = s.sized as u32;
    p.size_note = crate::catalog_size::note(&s);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_skips_headings_and_cuts_long_paragraphs() {
        assert_eq!(
            summary_of("foo\n===\n\nThe Foo operator reacts to Foos objects.\n\nMore.", "foo"),
            "The Foo operator reacts to Foos objects."
        );
        assert_eq!(
            summary_of("## Title\nline one\nline two\n\nnext", "x"),
            "line one line two"
        );
        let long = "word ".repeat(100);
        let s = summary_of(&long, "x");
        assert!(s.ends_with('…') && s.chars().count() <= 241, "{s}");
        assert_eq!(summary_of("", "x"), "");
    }

    #[test]
    fn bad_references_say_what_to_write() {
        let e = parse_ref("  ").err().unwrap().to_string();
        assert!(e.contains("enter an index image"), "{e}");
        let e = parse_ref("oci:///nonexistent/cat").err().unwrap().to_string();
        assert!(e.contains("/nonexistent/cat/index.json is missing"), "{e}");
        let e = parse_ref("Bad Ref!").err().unwrap().to_string();
        assert!(e.contains("registry/namespace/name:tag"), "{e}");
    }
}
