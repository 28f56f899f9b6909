//! Planning: turn the `mirror` section of an ImageSetConfiguration into a list of
//! [`PlannedImage`]s (source pinned to a digest, destination path and tag), with oc-mirror's
//! semantics.
//!
//! - `additionalImages`: docker defaults applied (`docker.io/library`, `:latest`), tags resolved
//!   to digests at plan time; the destination keeps the source repository path and tag.
//!   Digest-only sources get a synthetic tag (first 6 hex characters of the digest, as oc-mirror's
//!   mirror-to-mirror does) so the registry does not garbage-collect an untagged manifest.
//! - `blockedImages`: each entry is an unanchored regular expression; an image is blocked when it
//!   matches the source reference. oc-mirror matches only `Exact()` (the digest form once
//!   resolved), which silently stops `alpine:3.18`-style patterns from working after pinning;
//!   Ferry matches the as-written form *and* the pinned form, so both kinds of pattern work.

pub mod helm;
pub mod oci_layout;
pub mod operators;
pub mod operators_remember;
pub mod release;

use ferry_types::{Digest, Error, ImageKind, ImageRef, ImageSource, Result};
use futures::stream::{self, StreamExt};
use regex::Regex;
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;

/// One image to mirror.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedImage {
    /// The source as the user (or a catalog/release) named it, e.g. `quay.io/ns/app:v1`.
    #[serde(serialize_with = "ser_display")]
    pub requested: ImageRef,
    /// Source registry/repository pinned to the resolved digest (tag kept when there was one).
    #[serde(serialize_with = "ser_display")]
    pub source: ImageRef,
    /// Destination repository path under the destination namespace (e.g. `ns/app`).
    pub dest_repo: String,
    /// Destination tag (always set: the source tag, or a synthetic one for digest-only sources).
    pub dest_tag: String,
    pub kind: ImageKind,
}

fn ser_display<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(v)
}

impl PlannedImage {
    pub fn digest(&self) -> &Digest {
        self.source
            .digest
            .as_ref()
            .expect("planned images are pinned to a digest")
    }
}

/// An image removed by a `blockedImages` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockedImage {
    pub image: String,
    pub pattern: String,
}

/// An image that could not be planned (kept so `--continue-on-error`/`--skip-missing` can report it).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanFailure {
    pub image: String,
    pub code: ferry_types::ErrorCode,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub images: Vec<PlannedImage>,
    pub blocked: Vec<BlockedImage>,
    pub failures: Vec<PlanFailure>,
    /// OpenShift releases (their images are in `images`), with signature status.
    pub releases: Vec<release::PlannedRelease>,
    /// What the user should know about the selection (previous-minor releases, blocked edges,
    /// heads-only ranges, unverified signatures).
    pub notes: Vec<String>,
    /// Heads-only release channels: the minimum version to remember per channel name
    /// (oc-mirror's `pastMirror.platforms`), so the next run mirrors from it.
    pub release_heads: std::collections::BTreeMap<String, String>,
    /// Helm charts (their images, tests left out, are in `images`), with provenance per image.
    pub charts: Vec<helm::PlannedChart>,
    /// Operator catalogs (their bundle and related images are in `images`): source pin,
    /// rebuilt target, filtered FBC, dependencies pulled in.
    pub catalogs: Vec<operators::PlannedCatalog>,
    /// `graph: true`: the graph-data image to build (its base image is in `images`).
    pub graph: Option<release::PlannedGraph>,
}

/// How planning treats images that cannot be resolved.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanPolicy {
    /// oc-mirror's `--skip-missing`: a 404 is a warning, not an error.
    pub skip_missing: bool,
    /// oc-mirror's `--continue-on-error`: any resolution error is a warning.
    pub continue_on_error: bool,
    /// How many tag resolutions run at once.
    pub parallel: usize,
}

/// Compiled `blockedImages` patterns.
#[derive(Debug, Clone, Default)]
pub struct BlockList {
    patterns: Vec<(String, Regex)>,
}

impl BlockList {
    /// Compile every pattern; an invalid one is an error naming the entry.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self> {
        let mut v = Vec::new();
        for (i, p) in patterns.iter().enumerate() {
            let p = p.as_ref();
            let re = Regex::new(p).map_err(|e| {
                Error::InvalidConfig(format!(
                    "mirror.blockedImages[{i}].name {p:?} is not a valid regular expression: {e}"
                ))
            })?;
            v.push((p.to_string(), re));
        }
        Ok(BlockList { patterns: v })
    }

    /// The first pattern that matches any of the given forms of a reference.
    pub fn matches(&self, forms: &[String]) -> Option<&str> {
        self.patterns
            .iter()
            .find(|(_, re)| forms.iter().any(|f| re.is_match(f)))
            .map(|(p, _)| p.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }
}

/// Synthetic destination tag for a digest-only source (oc-mirror m2m: first 6 hex characters).
pub fn synthetic_tag(d: &Digest) -> String {
    d.hex()[..6].to_string()
}

/// Looks up the transport for a source registry host.
pub trait SourceProvider: Send + Sync {
    fn source(&self, registry: &str) -> Arc<dyn ImageSource>;
}

impl<F> SourceProvider for F
where
    F: Fn(&str) -> Arc<dyn ImageSource> + Send + Sync,
{
    fn source(&self, registry: &str) -> Arc<dyn ImageSource> {
        self(registry)
    }
}

/// Plan `additionalImages`, then drop what `blocked` matches. Duplicates (same source digest and
/// destination) are planned once. The result is sorted for deterministic output.
pub async fn plan_additional<S: AsRef<str>>(
    names: &[S],
    blocked: &BlockList,
    sources: &dyn SourceProvider,
    policy: PlanPolicy,
) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut parsed = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let n = n.as_ref();
        let r = ImageRef::parse(n).map_err(|e| {
            Error::InvalidReference(format!("mirror.additionalImages[{i}].name: {}: {}", e.input, e.reason))
        })?;
        // Block before resolving when the as-written form already matches: no registry round trip.
        if let Some(p) = blocked.matches(&[n.to_string(), r.to_string()]) {
            tracing::warn!(image = %r, pattern = p, "image blocked by blockedImages");
            plan.blocked.push(BlockedImage {
                image: r.to_string(),
                pattern: p.to_string(),
            });
            continue;
        }
        parsed.push(r);
    }

    let parallel = policy.parallel.max(1);
    let resolved: Vec<(ImageRef, Result<Digest>)> = stream::iter(parsed)
        .map(|r| async move {
            let d = match &r.digest {
                Some(d) => Ok(d.clone()),
                None => {
                    let src = sources.source(&r.registry);
                    src.get_manifest(&r.repository, r.tag_or_latest())
                        .await
                        .map(|m| m.digest)
                        .map_err(|e| match e {
                            Error::NotFound { .. } => Error::NotFound {
                                what: format!("image {r}"),
                                hint: Some("check the name and tag".into()),
                            },
                            other => other,
                        })
                }
            };
            (r, d)
        })
        .buffered(parallel)
        .collect()
        .await;

    let mut seen = BTreeSet::new();
    for (r, d) in resolved {
        let digest = match d {
            Ok(d) => d,
            Err(e) => {
                let tolerated =
                    policy.continue_on_error || (policy.skip_missing && matches!(e, Error::NotFound { .. }));
                if !tolerated {
                    return Err(e);
                }
                tracing::warn!(image = %r, error = %e, "skipping image that could not be resolved");
                plan.failures.push(PlanFailure {
                    image: r.to_string(),
                    code: e.code(),
                    message: e.to_string(),
                });
                continue;
            }
        };
        let source = r.with_digest(digest.clone());
        if let Some(p) = blocked.matches(&[source.exact(), source.to_string()]) {
            tracing::warn!(image = %r, pattern = p, "image blocked by blockedImages");
            plan.blocked.push(BlockedImage {
                image: source.to_string(),
                pattern: p.to_string(),
            });
            continue;
        }
        let dest_tag = r.tag.clone().unwrap_or_else(|| synthetic_tag(&digest));
        let img = PlannedImage {
            requested: r.clone(),
            source,
            dest_repo: r.repository.clone(),
            dest_tag,
            kind: ImageKind::Generic,
        };
        if seen.insert((img.source.exact(), img.dest_repo.clone(), img.dest_tag.clone())) {
            plan.images.push(img);
        }
    }
    plan.images
        .sort_by(|a, b| (&a.dest_repo, &a.dest_tag).cmp(&(&b.dest_repo, &b.dest_tag)));
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocklist_matches_unanchored_and_rejects_bad_regex() {
        let b = BlockList::new(&["alpine", "^quay.io/bad/"]).unwrap();
        assert_eq!(b.matches(&["docker.io/library/alpine:3".into()]), Some("alpine"));
        assert_eq!(b.matches(&["quay.io/bad/x:1".into()]), Some("^quay.io/bad/"));
        assert_eq!(b.matches(&["myquay.io/bad/x:1".into()]), None);
        let e = BlockList::new(&["ok", "(unclosed"]).unwrap_err();
        assert!(e.to_string().contains("blockedImages[1]"), "{e}");
    }

    #[test]
    fn synthetic_tag_is_six_hex() {
        let d = Digest::of(b"x");
        assert_eq!(synthetic_tag(&d), d.hex()[..6]);
    }
}
