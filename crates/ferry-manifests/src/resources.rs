//! ImageContentSourcePolicy, ImageDigestMirrorSet and ImageTagMirrorSet documents.

use crate::MappedImage;
use ferry_types::MirrorGroup;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Size limit of one ICSP document, as in oc-mirror.
pub const ICSP_SIZE_LIMIT: usize = 250_000;

/// source scope → mirror scope, for one group.
type ScopeMap = BTreeMap<String, BTreeSet<String>>;

fn namespace_of(repo: &str) -> Option<&str> {
    repo.rsplit_once('/').map(|(ns, _)| ns)
}

/// Scope pairs for one image. Release images map by repository, operator and generic ones by
/// namespace (images without a namespace use the repository), as oc-mirror does.
fn scope_pair(m: &MappedImage) -> (String, String) {
    let by_repo = (m.source.name(), m.dest.name());
    match m.kind.group() {
        MirrorGroup::Release | MirrorGroup::None => by_repo,
        MirrorGroup::Operator | MirrorGroup::Generic => {
            match (namespace_of(&m.source.repository), namespace_of(&m.dest.repository)) {
                // Only widen to namespaces when the destination keeps the source's trailing path;
                // otherwise (renamed repositories) a namespace mirror would point at wrong names.
                (Some(sns), Some(dns)) if m.dest.repository.ends_with(&m.source.repository[sns.len()..]) => (
                    format!("{}/{}", m.source.registry, sns),
                    format!("{}/{}", m.dest.registry, dns),
                ),
                _ => by_repo,
            }
        }
    }
}

fn group_name(g: MirrorGroup) -> &'static str {
    match g {
        MirrorGroup::Release => "release",
        MirrorGroup::Operator => "operator",
        MirrorGroup::Generic => "generic",
        MirrorGroup::None => "none",
    }
}

fn groups(images: &[MappedImage], only_tagged: bool) -> BTreeMap<MirrorGroup, ScopeMap> {
    let mut out: BTreeMap<MirrorGroup, ScopeMap> = BTreeMap::new();
    for m in images {
        let g = m.kind.group();
        if g == MirrorGroup::None || (only_tagged && m.source.tag.is_none()) {
            continue;
        }
        let (s, d) = scope_pair(m);
        out.entry(g).or_default().entry(s).or_default().insert(d);
    }
    out
}

#[derive(Serialize)]
struct Meta {
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<BTreeMap<String, String>>,
    name: String,
}

#[derive(Serialize)]
struct MirrorEntry {
    mirrors: Vec<String>,
    source: String,
}

#[derive(Serialize)]
struct Doc<S: Serialize> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    metadata: Meta,
    spec: S,
}

#[derive(Serialize)]
struct IcspSpec {
    #[serde(rename = "repositoryDigestMirrors")]
    repository_digest_mirrors: Vec<MirrorEntry>,
}
#[derive(Serialize)]
struct IdmsSpec {
    #[serde(rename = "imageDigestMirrors")]
    image_digest_mirrors: Vec<MirrorEntry>,
}
#[derive(Serialize)]
struct ItmsSpec {
    #[serde(rename = "imageTagMirrors")]
    image_tag_mirrors: Vec<MirrorEntry>,
}

#[derive(Clone, Copy)]
enum Resource {
    Icsp,
    Idms,
    Itms,
}

fn render(res: Resource, images: &[MappedImage]) -> String {
    let only_tagged = matches!(res, Resource::Itms);
    let mut docs = Vec::new();
    for (g, scopes) in groups(images, only_tagged) {
        let labels = (g == MirrorGroup::Operator)
            .then(|| BTreeMap::from([("operators.openshift.org/catalog".to_string(), "true".to_string())]));
        // Split into documents that stay under the size limit; each gets its own index.
        let entries: Vec<MirrorEntry> = scopes
            .into_iter()
            .map(|(source, m)| MirrorEntry {
                mirrors: m.into_iter().collect(),
                source,
            })
            .collect();
        let mut chunks: Vec<Vec<MirrorEntry>> = vec![Vec::new()];
        let mut size = 0usize;
        for e in entries {
            let est = e.source.len() + e.mirrors.iter().map(|m| m.len() + 8).sum::<usize>() + 32;
            if size + est > ICSP_SIZE_LIMIT && !chunks.last().unwrap().is_empty() {
                chunks.push(Vec::new());
                size = 0;
            }
            size += est;
            chunks.last_mut().unwrap().push(e);
        }
        for (i, chunk) in chunks.into_iter().enumerate() {
            let metadata = Meta {
                labels: labels.clone(),
                name: format!("{}-{}", group_name(g), i),
            };
            let yaml = match res {
                Resource::Icsp => serde_yaml_ng::to_string(&Doc {
                    api_version: "operator.openshift.io/v1alpha1",
                    kind: "ImageContentSourcePolicy",
                    metadata,
                    spec: IcspSpec {
                        repository_digest_mirrors: chunk,
                    },
                }),
                Resource::Idms => serde_yaml_ng::to_string(&Doc {
                    api_version: "config.openshift.io/v1",
                    kind: "ImageDigestMirrorSet",
                    metadata,
                    spec: IdmsSpec {
                        image_digest_mirrors: chunk,
                    },
                }),
                Resource::Itms => serde_yaml_ng::to_string(&Doc {
                    api_version: "config.openshift.io/v1",
                    kind: "ImageTagMirrorSet",
                    metadata,
                    spec: ItmsSpec {
                        image_tag_mirrors: chunk,
                    },
                }),
            }
            .expect("plain structs serialise");
            docs.push((format!("{}-{}", group_name(g), i), yaml));
        }
    }
    docs.sort_by(|a, b| a.0.cmp(&b.0));
    docs.into_iter().map(|(_, y)| format!("---\n{y}")).collect()
}

/// `imageContentSourcePolicy.yaml` (empty string when nothing needs a mirror entry).
pub fn icsp_yaml(images: &[MappedImage]) -> String {
    render(Resource::Icsp, images)
}

/// `imageDigestMirrorSet.yaml` for OpenShift 4.13+ (same content as the ICSP).
pub fn idms_yaml(images: &[MappedImage]) -> String {
    render(Resource::Idms, images)
}

/// `imageTagMirrorSet.yaml`: mirrors for the images that were requested by tag.
pub fn itms_yaml(images: &[MappedImage]) -> String {
    render(Resource::Itms, images)
}
