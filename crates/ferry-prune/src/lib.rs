//! Ferry: the pruning plan, computed on metadata alone (no registry access).
//!
//! After a run is planned against a target, the images the target's recorded metadata lists
//! (`pastAssociations` of its `oc-mirror:<uid>` copy) that the new image set no longer holds
//! are prune candidates. As in oc-mirror v1 (`pkg/cli/mirror/prune.go`), the key is the pair
//! (manifest digest, repository in the target), and child manifests of lists are candidates of
//! their own (each child has its own association). Tags are never deleted one by one: deleting
//! a manifest by digest removes the tags that point at it; blobs are left to the registry's
//! garbage collector.
//!
//! Where Ferry differs on purpose:
//! - A pair is never a candidate while the new set still needs it: every digest the new
//!   associations name in that repository (their own `id` and the `manifestDigests` of lists)
//!   is protected, and callers add what they know beyond the metadata (a dry run adds the
//!   planned digests and their children). Deleting by digest in a repository removes every tag
//!   of that digest, so an image kept under another tag that shares the digest of a dropped one
//!   would otherwise go too.
//! - The plan is kept apart from the deletion ([`PrunePlan`] is data; ferry-api deletes, and
//!   only when asked), written as `pruning-plan.json` on every run that has one, dry run or not
//!   (oc-mirror wrote it for dry runs only), and candidates that are not deleted stay listed in
//!   the recorded metadata ([`PrunePlan::associations`]) so a later `--prune` still finds them.

use ferry_metadata::Association;
use ferry_types::ImageKind;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// `(repository in the target, manifest digest)`.
pub type Pair = (String, String);

/// One manifest to delete.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// Repository in the target registry (namespace included).
    pub repository: String,
    /// `sha256:` digest of the manifest.
    pub digest: String,
    /// The association's name: the source reference of a top-level image, the digest of a child.
    pub name: String,
    /// Tag the image was mirrored under ("" for children and digest-only images).
    pub tag: String,
    pub kind: ImageKind,
    /// A child manifest of a list (deleted after the lists).
    pub child: bool,
}

/// What pruning would delete from one registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrunePlan {
    pub registry: String,
    /// Top-level images (single manifests and lists), sorted by repository and digest.
    pub images: Vec<Candidate>,
    /// Child manifests of the lists above (or of lists removed earlier), sorted the same way.
    pub children: Vec<Candidate>,
    /// The past associations behind the candidates, to carry into the recorded metadata when
    /// they are not deleted.
    #[serde(skip)]
    kept: Vec<Association>,
}

/// Every pair the associations of a new set need in the target. `repo_of` maps an
/// association's path to its repository in the target (`None`: not in this target).
pub fn needed_pairs(next: &[Association], repo_of: &dyn Fn(&Association) -> Option<String>) -> BTreeSet<Pair> {
    let mut out = BTreeSet::new();
    for a in next {
        let Some(repo) = repo_of(a) else { continue };
        out.insert((repo.clone(), a.id.clone()));
        for d in &a.manifest_digests {
            out.insert((repo.clone(), d.clone()));
        }
    }
    out
}

impl PrunePlan {
    /// The candidates: pairs of `past` (the target's recorded associations) that are not in
    /// `needed` (see [`needed_pairs`]). Associations without a digest are skipped (nothing to
    /// delete by), as are those `repo_of` places outside this target.
    pub fn compute(
        registry: &str,
        past: &[Association],
        needed: &BTreeSet<Pair>,
        repo_of: &dyn Fn(&Association) -> Option<String>,
    ) -> PrunePlan {
        let mut seen = BTreeSet::new();
        let mut plan = PrunePlan {
            registry: registry.to_string(),
            ..Default::default()
        };
        for a in past {
            if !a.id.starts_with("sha256:") {
                continue;
            }
            let Some(repo) = repo_of(a) else { continue };
            let pair = (repo.clone(), a.id.clone());
            if needed.contains(&pair) {
                continue;
            }
            plan.kept.push(a.clone());
            if !seen.insert(pair) {
                continue;
            }
            let c = Candidate {
                repository: repo,
                digest: a.id.clone(),
                name: a.name.clone(),
                tag: a.tag_symlink.clone(),
                kind: a.kind,
                child: a.is_child(),
            };
            if c.child {
                plan.children.push(c);
            } else {
                plan.images.push(c);
            }
        }
        // A digest recorded both as a child and as a top-level image of one repository is
        // deleted once, as the image.
        let tops: BTreeSet<Pair> = plan
            .images
            .iter()
            .map(|c| (c.repository.clone(), c.digest.clone()))
            .collect();
        plan.children
            .retain(|c| !tops.contains(&(c.repository.clone(), c.digest.clone())));
        plan.images.sort();
        plan.children.sort();
        plan
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty() && self.children.is_empty()
    }

    /// Manifests to delete (images and children).
    pub fn len(&self) -> usize {
        self.images.len() + self.children.len()
    }

    /// Lists first, then children: a list never points at a child that is already gone.
    pub fn in_deletion_order(&self) -> impl Iterator<Item = &Candidate> {
        self.images.iter().chain(&self.children)
    }

    pub fn pairs(&self) -> BTreeSet<Pair> {
        self.in_deletion_order()
            .map(|c| (c.repository.clone(), c.digest.clone()))
            .collect()
    }

    /// The recorded associations behind the candidates (to keep them listed when not deleted).
    pub fn associations(&self) -> &[Association] {
        &self.kept
    }

    /// The associations behind candidates that are not in `deleted` (pairs that were deleted
    /// or found already gone).
    pub fn associations_left(
        &self,
        deleted: &BTreeSet<Pair>,
        repo_of: &dyn Fn(&Association) -> Option<String>,
    ) -> Vec<Association> {
        self.kept
            .iter()
            .filter(|a| repo_of(a).is_none_or(|r| !deleted.contains(&(r, a.id.clone()))))
            .cloned()
            .collect()
    }

    /// `pruning-plan.json` in oc-mirror's shape: indented with one space, repositories and
    /// their manifests sorted, children listed with the images of their repository.
    pub fn to_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Repo<'a> {
            name: &'a str,
            manifests: Vec<&'a str>,
        }
        #[derive(Serialize)]
        struct File<'a> {
            registry: &'a str,
            repositories: Vec<Repo<'a>>,
        }
        let mut repos: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for c in self.in_deletion_order() {
            repos.entry(&c.repository).or_default().insert(&c.digest);
        }
        let file = File {
            registry: &self.registry,
            repositories: repos
                .into_iter()
                .map(|(name, m)| Repo {
                    name,
                    manifests: m.into_iter().collect(),
                })
                .collect(),
        };
        let mut out = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
        let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
        file.serialize(&mut ser).expect("the plan serialises");
        out
    }

    /// Human-readable lines, images then children (the CLI prints these before deleting).
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for c in &self.images {
            let tag = if c.tag.is_empty() {
                String::new()
            } else {
                format!(" (tag {})", c.tag)
            };
            out.push(format!(
                "  {}/{}@{}{tag}  from {}",
                self.registry, c.repository, c.digest, c.name
            ));
        }
        if !self.children.is_empty() {
            out.push(format!("  child manifests of lists ({}):", self.children.len()));
            for c in &self.children {
                out.push(format!("    {}/{}@{}", self.registry, c.repository, c.digest));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
