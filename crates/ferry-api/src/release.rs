//! OpenShift releases in the workflows: `mirror.platform` planned (update graph → version
//! selection → release images read → signatures fetched and verified), signatures into the
//! results folder and the archive, `ferry list releases`.
//!
//! A release whose signature does not verify is not shipped: planning fails naming every such
//! release, unless `--skip-verification` (then each one is logged as a warning and noted in the
//! plan). oc-mirror v1 only warns and ships the release anyway.

use crate::registry::RegistrySettings;
use ferry_config::{Platform, PlatformType};
use ferry_manifests::ResultsExtras;
use ferry_plan::release::plan_releases;
pub use ferry_plan::release::{PlannedRelease, SignatureStatus};
use ferry_plan::{Plan, PlannedImage, SourceProvider};
use ferry_release::signature::Keyring;
use ferry_release::{
    select_all, signature_configmap, signature_file_name, ChannelSpec, GraphClient, HttpOptions, ReleaseSelection,
    SelectOptions, SignatureStores,
};
use ferry_types::{Digest, Error, Result};
use futures::StreamExt;
use semver::Version;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Folder of the signature ConfigMaps, in results and in archives.
pub const SIGNATURES_DIR: &str = "release-signatures";
/// Releases whose signatures are fetched at once.
pub const SIGNATURE_PARALLEL: usize = 4;

/// Release-specific switches of a run.
#[derive(Debug, Clone, Default)]
pub struct ReleaseOptions {
    /// `--skip-verification`: ship releases without a verified signature (loud warning).
    pub skip_verification: bool,
    /// Also follow conditional update edges (known risks) in shortest-path searches.
    pub include_conditional_edges: bool,
    /// Heads-only minimum per channel remembered from the previous run.
    pub remembered: BTreeMap<String, String>,
    /// `graph: true`: the base image of the graph-data image (default
    /// [`crate::release_graph::DEFAULT_BASE_IMAGE`], or `FERRY_GRAPH_BASE_IMAGE`).
    pub graph_base_image: Option<String>,
    /// `graph: true`: the graph-data tarball URL (default Red Hat's, or `FERRY_GRAPH_DATA_URL`).
    pub graph_data_url: Option<String>,
    /// One release by pull spec instead of channels (`ferry release mirror --from`, see
    /// [`crate::release_single`]).
    pub release_image: Option<String>,
}

/// The release part of a plan.
#[derive(Debug, Clone, Default)]
pub struct ReleasePart {
    pub images: Vec<PlannedImage>,
    pub releases: Vec<PlannedRelease>,
    pub notes: Vec<String>,
    pub selection: ReleaseSelection,
    /// `graph: true`: the graph-data image to build (its base image is in `images`).
    pub graph: Option<ferry_plan::release::PlannedGraph>,
}

/// The HTTP trust of the update service and signature stores: the registry settings' CA
/// bundle and the source skip-verify flag.
pub fn http_options(settings: &RegistrySettings) -> HttpOptions {
    HttpOptions {
        ca_bundle: settings.ca_bundle.clone(),
        skip_verify: settings.source_skip_tls,
    }
}

/// `mirror.platform.channels` as selection specs (versions parsed, errors name the entry).
pub fn channel_specs(platform: &Platform) -> Result<Vec<ChannelSpec>> {
    platform
        .channels
        .iter()
        .enumerate()
        .map(|(i, c)| {
            ChannelSpec::new(
                i,
                &c.name,
                c.platform_type == Some(PlatformType::Okd),
                c.min_version.as_deref(),
                c.max_version.as_deref(),
                c.shortest_path.unwrap_or(false),
                c.full.unwrap_or(false),
            )
        })
        .collect()
}

/// `mirror.platform.architectures`, default `[amd64]`.
pub fn architectures(platform: &Platform) -> Vec<String> {
    if platform.architectures.is_empty() {
        vec!["amd64".to_string()]
    } else {
        platform.architectures.clone()
    }
}

/// Plan `mirror.platform`: select, expand, verify signatures.
pub async fn plan_platform(
    platform: &Platform,
    ropts: &ReleaseOptions,
    settings: &RegistrySettings,
    sources: &dyn SourceProvider,
) -> Result<ReleasePart> {
    let mut part = ReleasePart::default();
    if platform.graph.unwrap_or(false) {
        let (graph, base) = crate::release_graph::plan_graph(ropts, sources, settings.max_per_registry.max(1)).await?;
        part.notes.push(format!(
            "graph: true: the graph-data image is built on {} (mirrored too) with the data from {}",
            graph.base, graph.data_url
        ));
        part.images.push(base);
        part.graph = Some(graph);
    }
    let http = http_options(settings);
    let selection = if let Some(spec) = &ropts.release_image {
        let release = crate::release_single::resolve(spec, sources).await?;
        ReleaseSelection {
            releases: vec![release],
            ..Default::default()
        }
    } else if platform.channels.is_empty() {
        return Ok(part);
    } else {
        select_platform(platform, ropts, &http).await?
    };
    let (images, mut releases) = plan_releases(&selection, sources, settings.max_per_registry.max(1)).await?;
    part.notes.extend(selection.notes.clone());
    part.notes
        .extend(verify_releases(&mut releases, ropts.skip_verification, &http).await?);
    part.images.extend(images);
    part.releases = releases;
    part.selection = selection;
    Ok(part)
}

/// Version selection over the update graph for every channel and architecture.
async fn select_platform(platform: &Platform, ropts: &ReleaseOptions, http: &HttpOptions) -> Result<ReleaseSelection> {
    let specs = channel_specs(platform)?;
    let archs = architectures(platform);
    let graphs = GraphClient::new(http)?;
    let remembered: BTreeMap<String, Version> = ropts
        .remembered
        .iter()
        .filter_map(|(k, v)| Version::parse(v).ok().map(|v| (k.clone(), v)))
        .collect();
    let sel_opts = SelectOptions {
        with_conditional: ropts.include_conditional_edges,
    };
    select_all(&graphs, &specs, &archs, &remembered, &sel_opts).await
}

/// Fetch and verify every release's signature. Fails naming each release that has none that
/// verifies, unless `skip` (then a warning per release, returned as plan notes).
pub async fn verify_releases(releases: &mut [PlannedRelease], skip: bool, http: &HttpOptions) -> Result<Vec<String>> {
    let mut notes = Vec::new();
    if releases.is_empty() {
        return Ok(notes);
    }
    let keyring = Keyring::from_env().map_err(|e| Error::InvalidConfig(e.to_string()))?;
    let stores = SignatureStores::new(http)?;
    let mut failures = Vec::new();
    // Several releases at once (each asks every store at once), bounded so a 98-release `full`
    // channel does not open hundreds of connections to the stores.
    let fetched: Vec<_> = futures::stream::iter(releases.iter().map(|r| {
        let digest: Digest = r.source.digest.clone().expect("release payloads are pinned");
        let label = format!("{} ({})", r.version, r.arch);
        let (stores, keyring) = (&stores, &keyring);
        async move {
            let got = stores.fetch_verified(keyring, &digest, &label).await;
            (digest, label, got)
        }
    }))
    .buffered(SIGNATURE_PARALLEL)
    .collect()
    .await;
    for (r, (digest, label, got)) in releases.iter_mut().zip(fetched) {
        match got {
            Ok(sig) => {
                r.signature = SignatureStatus::Verified {
                    key: sig.verified.key.clone(),
                    identity: sig.verified.identity.clone(),
                };
                r.signatures = vec![sig.bytes];
            }
            Err(e) if skip => {
                tracing::warn!(
                    release = %label, digest = %digest, error = %e,
                    "--skip-verification: MIRRORING A RELEASE WHOSE SIGNATURE DID NOT VERIFY; a cluster with signature \
                     verification will refuse it"
                );
                notes.push(format!(
                    "release {label} {digest}: signature NOT verified (--skip-verification): {e}"
                ));
                r.signature = SignatureStatus::Skipped;
            }
            Err(e) => failures.push(format!("release {label} {digest}: {e}")),
        }
    }
    if !failures.is_empty() {
        return Err(Error::InvalidConfig(format!(
            "{} release(s) have no signature that verifies, so nothing was mirrored:\n  {}\n\
             Pass --skip-verification to mirror them anyway (not recommended).",
            failures.len(),
            failures.join("\n  ")
        )));
    }
    Ok(notes)
}

/// Merge the release part into a plan (release images first, sorted like the rest).
pub fn merge(plan: &mut Plan, part: ReleasePart) {
    plan.release_heads.extend(part.selection.remember.clone());
    plan.images.extend(part.images);
    plan.images
        .sort_by(|a, b| (&a.dest_repo, &a.dest_tag).cmp(&(&b.dest_repo, &b.dest_tag)));
    plan.images
        .dedup_by(|a, b| a.dest_repo == b.dest_repo && a.dest_tag == b.dest_tag && a.source == b.source);
    plan.releases.extend(part.releases);
    plan.notes.extend(part.notes);
    if part.graph.is_some() {
        plan.graph = part.graph;
    }
}

/// The signature ConfigMaps of the plan's verified releases whose release image is in
/// `shipped` (`(dest_repo, dest_tag)` of complete images), as (file name, body).
pub fn signature_files(plan: &Plan, shipped: Option<&dyn Fn(&PlannedRelease) -> bool>) -> Vec<(String, Vec<u8>)> {
    plan.releases
        .iter()
        .filter(|r| !r.signatures.is_empty())
        .filter(|r| shipped.is_none_or(|f| f(r)))
        .map(|r| {
            let d = r.source.digest.as_ref().expect("pinned");
            (signature_file_name(d), signature_configmap(d, &r.signatures))
        })
        .collect()
}

/// Results extras of a mirror-to-mirror run: `release-signatures/<file>` per shipped release.
pub fn results_extras(plan: &Plan, shipped: &dyn Fn(&PlannedRelease) -> bool) -> ResultsExtras {
    let mut x = ResultsExtras::new();
    let mut any_release = false;
    for r in &plan.releases {
        any_release |= shipped(r);
    }
    for (name, body) in signature_files(plan, Some(shipped)) {
        x.add_manifest(format!("{SIGNATURES_DIR}/{name}"), body);
    }
    x.extend(crate::release_graph::results_extras(plan, any_release));
    x
}

/// Write the signature files for an archive into `workspace/release-signatures/` and return
/// (archive path, file) pairs for `ArchiveWriter::add_file`.
pub fn stage_signatures(plan: &Plan, workspace: &Path) -> Result<Vec<(String, PathBuf)>> {
    let files = signature_files(plan, None);
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let dir = workspace.join(SIGNATURES_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), e))?;
    let mut out = Vec::new();
    for (name, body) in files {
        let p = dir.join(&name);
        std::fs::write(&p, body).map_err(|e| Error::io(p.display(), e))?;
        out.push((format!("{SIGNATURES_DIR}/{name}"), p));
    }
    Ok(out)
}

/// Results extras of an import: every `release-signatures/*.json` the media carries, copied
/// from the set (no network in the air gap).
pub fn import_results(ctx: &crate::disk::results::ResultsContext<'_>, scratch: &Path) -> Result<ResultsExtras> {
    let mut x = ResultsExtras::new();
    let Some(set) = ctx.set else { return Ok(x) };
    for name in set.files(&format!("{SIGNATURES_DIR}/")) {
        if !name.ends_with(".json") {
            continue;
        }
        let dest = scratch.join(&name);
        set.extract_file(&name, &dest)?;
        let body = std::fs::read(&dest).map_err(|e| Error::io(dest.display(), e))?;
        x.add_manifest(name, body);
    }
    Ok(x)
}

/// One release as `ferry list releases` shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedRelease {
    pub version: String,
    pub payload: String,
    /// Conditional update edges leaving this release (risks), as `to (risk names)`.
    pub risks: Vec<String>,
}

/// The releases of a channel for an architecture, ascending; `version` (`X.Y`) keeps only that
/// minor. OKD channels use the OKD upstream (oc-mirror cannot list OKD at all).
pub async fn list_channel(
    settings: &RegistrySettings,
    okd: bool,
    channel: &str,
    arch: &str,
    version: Option<&str>,
) -> Result<Vec<ListedRelease>> {
    let minor = version.map(parse_minor).transpose()?;
    let graphs = GraphClient::new(&http_options(settings))?;
    let g = graphs.fetch(okd, channel, arch).await?;
    if g.nodes.is_empty() {
        return Err(ferry_release::select::empty_channel(&g));
    }
    let mut out = Vec::new();
    for v in g.versions() {
        if minor.is_some_and(|(x, y)| (v.major, v.minor) != (x, y)) {
            continue;
        }
        let n = g.node(v).expect("listed");
        let from = g.index_of(v).expect("listed");
        let mut risks = Vec::new();
        for c in &g.conditional_edges {
            for &(f, t) in &c.edges {
                if f == from {
                    let names: Vec<&str> = c.risks.iter().map(|r| r.name.as_str()).collect();
                    risks.push(format!("{} ({})", g.nodes[t].version, names.join(", ")));
                }
            }
        }
        out.push(ListedRelease {
            version: v.to_string(),
            payload: n.payload.clone(),
            risks,
        });
    }
    Ok(out)
}

fn parse_minor(v: &str) -> Result<(u64, u64)> {
    let bad = || Error::InvalidConfig(format!("--version {v:?}: give a minor version as X.Y, e.g. 4.14"));
    let (x, y) = v.split_once('.').ok_or_else(bad)?;
    let y = y.split('.').next().unwrap_or(y);
    Ok((x.parse().map_err(|_| bad())?, y.parse().map_err(|_| bad())?))
}

/// The channels that carry releases of minor `X.Y`: the union of the channel lists in the
/// node metadata of `stable-X.Y` (for OKD: of `channel`, default `stable-X`), sorted.
pub async fn list_channels(settings: &RegistrySettings, okd: bool, version: &str, arch: &str) -> Result<Vec<String>> {
    let (x, y) = parse_minor(version)?;
    let channel = if okd {
        format!("stable-{x}")
    } else {
        format!("stable-{x}.{y}")
    };
    let graphs = GraphClient::new(&http_options(settings))?;
    let g = graphs.fetch(okd, &channel, arch).await?;
    if g.nodes.is_empty() {
        return Err(ferry_release::select::empty_channel(&g));
    }
    let mut set = std::collections::BTreeSet::new();
    for n in &g.nodes {
        if (n.version.major, n.version.minor) != (x, y) {
            continue;
        }
        if let Some(list) = n.metadata.get(ferry_release::graph::META_CHANNELS) {
            set.extend(list.split(',').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()));
        }
    }
    Ok(set.into_iter().collect())
}

/// `pastMirror.platforms` in oc-mirror's form, `{"channel": …, "minVersion": …}` per heads-only
/// channel, from the plan.
pub fn platforms_metadata(plan: &Plan) -> Vec<serde_json::Value> {
    plan.release_heads
        .iter()
        .map(|(channel, min)| serde_json::json!({"channel": channel, "minVersion": min}))
        .collect()
}

/// The heads-only minimums a previous run recorded in `pastMirror.platforms`.
pub fn remembered_from(md: &ferry_metadata::Metadata) -> BTreeMap<String, String> {
    md.past_mirror
        .platforms
        .iter()
        .filter_map(|p| {
            let c = p.get("channel")?.as_str()?;
            let m = p.get("minVersion")?.as_str()?;
            Some((c.to_string(), m.to_string()))
        })
        .collect()
}

/// `selection` with the previous run's heads-only minimums filled in (unless already set).
pub fn with_remembered(
    selection: &crate::mirror::ImageSelection,
    previous: Option<&ferry_metadata::Metadata>,
) -> crate::mirror::ImageSelection {
    let mut s = selection.clone();
    if let Some(md) = previous {
        for (k, v) in remembered_from(md) {
            s.release.remembered.entry(k).or_insert(v);
        }
    }
    s
}
