//! What a run hands to the cluster administrator: `mapping.txt` and the mirror-configuration
//! resources, ready for `oc apply -f`.
//!
//! Compatibility with oc-mirror v1 (reference §5): mapping lines are `src@digest=dst:tag`; ICSPs
//! are grouped by image kind (`release` by repository, `operator` and `generic` by namespace),
//! one multi-document file where each document starts with `---`, documents sorted by name.
//! Deliberate fixes of v1's known problems: mirror entries are sorted (v1 used Go map order),
//! and an ICSP that overflows the 250 000-byte limit continues as `<kind>-1`, `<kind>-2`… (v1
//! named every overflow `<kind>-0`). Newer clusters get the same content as
//! ImageDigestMirrorSet, and images referenced by tag as ImageTagMirrorSet.

use ferry_types::{ImageKind, ImageRef, MirrorGroup};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One mirrored image: where it came from and where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedImage {
    /// Source with its digest (and the tag it was requested by, if any).
    pub source: ImageRef,
    /// Destination `registry/userns/repo:tag` (digest optional; the source digest is preserved).
    pub dest: ImageRef,
    pub kind: ImageKind,
}

/// Size limit of one ICSP document, as in oc-mirror.
pub const ICSP_SIZE_LIMIT: usize = 250_000;

/// `mapping.txt`: one `source=destination` line per image, sorted, source digest-first,
/// destination tag-first.
pub fn mapping_txt(images: &[MappedImage]) -> String {
    let mut lines: Vec<String> = images
        .iter()
        .map(|m| {
            let dst = match (&m.dest.tag, &m.dest.digest) {
                (Some(t), _) => format!("{}:{}", m.dest.name(), t),
                (None, Some(d)) => format!("{}@{}", m.dest.name(), d),
                (None, None) => m.dest.name(),
            };
            format!("{}={}", m.source.exact(), dst)
        })
        .collect();
    lines.sort();
    lines.dedup();
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// Parse a mapping line `src=dst` (used when reading a mapping back). Rejects `==` and empties.
pub fn parse_mapping_line(line: &str) -> Result<(ImageRef, ImageRef), String> {
    let (src, dst) = line
        .split_once('=')
        .ok_or_else(|| format!("mapping line {line:?}: expected source=destination"))?;
    if dst.starts_with('=') || dst.contains('=') {
        return Err(format!("mapping line {line:?}: more than one '='"));
    }
    let s = ImageRef::parse(src).map_err(|e| format!("mapping line {line:?}: source: {}", e.reason))?;
    let d = ImageRef::parse(dst).map_err(|e| format!("mapping line {line:?}: destination: {}", e.reason))?;
    Ok((s, d))
}

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

/// Write `results-<epoch>/` under `workspace` with the mapping and the mirror resources.
/// Files with nothing to say are not written. Returns the directory.
pub fn write_results(workspace: &Path, epoch: u64, images: &[MappedImage]) -> std::io::Result<PathBuf> {
    let dir = workspace.join(format!("results-{epoch}"));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("mapping.txt"), mapping_txt(images))?;
    for (name, body) in [
        ("imageContentSourcePolicy.yaml", icsp_yaml(images)),
        ("imageDigestMirrorSet.yaml", idms_yaml(images)),
        ("imageTagMirrorSet.yaml", itms_yaml(images)),
    ] {
        if !body.is_empty() {
            std::fs::write(dir.join(name), body)?;
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(src: &str, dst: &str, kind: ImageKind) -> MappedImage {
        MappedImage {
            source: ImageRef::parse(src).unwrap(),
            dest: ImageRef::parse(dst).unwrap(),
            kind,
        }
    }
    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn mapping_is_digest_first_and_sorted() {
        let a = img(
            &format!("quay.io/ns/b:v1@{D}"),
            "mirror.local:5000/x/ns/b:v1",
            ImageKind::Generic,
        );
        let b = img(
            &format!("quay.io/ns/a@{D}"),
            "mirror.local:5000/x/ns/a:e3b0c4",
            ImageKind::Generic,
        );
        let m = mapping_txt(&[a, b]);
        assert_eq!(
            m,
            format!("quay.io/ns/a@{D}=mirror.local:5000/x/ns/a:e3b0c4\nquay.io/ns/b@{D}=mirror.local:5000/x/ns/b:v1\n")
        );
        for line in m.lines() {
            let (s, d) = parse_mapping_line(line).unwrap();
            assert!(s.digest.is_some() && d.tag.is_some());
        }
        assert!(parse_mapping_line("a==b").is_err());
    }

    #[test]
    fn icsp_groups_by_namespace_and_kind() {
        let imgs = vec![
            img(
                &format!("quay.io/ns/a:v1@{D}"),
                "m.local:5000/x/ns/a:v1",
                ImageKind::Generic,
            ),
            img(
                &format!("quay.io/ns/b@{D}"),
                "m.local:5000/x/ns/b:e3b0c4",
                ImageKind::Generic,
            ),
            img(
                &format!("registry.redhat.io/rh/op@{D}"),
                "m.local:5000/x/rh/op:abc",
                ImageKind::OperatorBundle,
            ),
            img(
                &format!("quay.io/openshift-release-dev/ocp-release@{D}"),
                "m.local:5000/x/openshift/release-images:4.14.1-x86_64",
                ImageKind::OcpRelease,
            ),
        ];
        let y = icsp_yaml(&imgs);
        let docs: Vec<&str> = y.split("---\n").filter(|d| !d.is_empty()).collect();
        assert_eq!(docs.len(), 3, "{y}");
        assert!(
            docs[0].contains("name: generic-0") && docs[0].contains("source: quay.io/ns\n"),
            "{}",
            docs[0]
        );
        assert!(docs[0].contains("- m.local:5000/x/ns\n"));
        assert!(
            docs[1].contains("name: operator-0") && docs[1].contains("operators.openshift.org/catalog: 'true'"),
            "{}",
            docs[1]
        );
        assert!(
            docs[2].contains("name: release-0")
                && docs[2].contains("source: quay.io/openshift-release-dev/ocp-release\n")
        );
        let idms = idms_yaml(&imgs);
        assert!(idms.contains("kind: ImageDigestMirrorSet") && idms.contains("imageDigestMirrors:"));
        // Only the tag-requested image appears in the ITMS.
        let itms = itms_yaml(&imgs);
        assert!(
            itms.contains("kind: ImageTagMirrorSet") && itms.contains("source: quay.io/ns\n"),
            "{itms}"
        );
        assert!(!itms.contains("registry.redhat.io"));
    }

    #[test]
    fn overflow_gets_unique_names() {
        let imgs: Vec<MappedImage> = (0..4000)
            .map(|i| {
                img(
                    &format!("quay.io/ns{i}/some-fairly-long-repository-name-{i}@{D}"),
                    &format!("m.local:5000/mirror/ns{i}/some-fairly-long-repository-name-{i}:t"),
                    ImageKind::Generic,
                )
            })
            .collect();
        let y = icsp_yaml(&imgs);
        let names: Vec<&str> = y.lines().filter(|l| l.trim_start().starts_with("name: ")).collect();
        assert!(names.len() >= 2, "expected an overflow document");
        let unique: BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "names must be unique: {names:?}");
        for doc in y.split("---\n").filter(|d| !d.is_empty()) {
            assert!(doc.len() <= ICSP_SIZE_LIMIT, "document of {} bytes", doc.len());
        }
    }

    #[test]
    fn writes_results_folder() {
        let t = tempfile::tempdir().unwrap();
        let imgs = vec![img(
            &format!("quay.io/ns/a:v1@{D}"),
            "m.local:5000/x/ns/a:v1",
            ImageKind::Generic,
        )];
        let dir = write_results(t.path(), 1700000000, &imgs).unwrap();
        assert!(dir.ends_with("results-1700000000"));
        for f in [
            "mapping.txt",
            "imageContentSourcePolicy.yaml",
            "imageDigestMirrorSet.yaml",
            "imageTagMirrorSet.yaml",
        ] {
            assert!(dir.join(f).is_file(), "{f}");
        }
    }
}
