//! Images of a filtered catalog and oc-mirror's naming for them.
//!
//! * [`catalog_images`]: every bundle `image` and every `relatedImages[].image` of the selected
//!   bundles, de-duplicated, in catalog order (bundle images first per bundle). Empty image
//!   fields are skipped (oc-mirror skips them with a warning).
//! * [`operator_image_tag`]: the destination tag oc's catalog mirror gives a source. A source
//!   with a tag keeps it; a digest-only source gets FNV-32a of the pull spec as written in the
//!   catalog, formatted `%x` (not zero-padded, 1–8 hex characters).
//! * The destination repository is the **full source path** without the registry (oc's file
//!   destination sets `maxComponents = 0`), under the target namespace.
//! * [`catalog_target`]: the rebuilt catalog's repository and tag (`GetUniqueName`, 4.13+ rules).
//! * [`catalog_source_yaml`]: the `CatalogSource` oc-mirror writes (no `grpcPodConfig`).

use crate::model::Catalog;
use crate::CatalogError;
use ferry_types::ImageRef;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CatalogImageKind {
    Bundle,
    Related,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogImage {
    /// The pull spec exactly as the catalog writes it.
    pub image: String,
    pub kind: CatalogImageKind,
    pub package: String,
    pub bundle: String,
}

/// Every image of the catalog's bundles (see the module docs).
pub fn catalog_images(cat: &Catalog) -> Vec<CatalogImage> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for p in cat.packages.values() {
        for b in p.bundles.values() {
            let mut push = |image: &str, kind| {
                let image = image.trim();
                if !image.is_empty() && seen.insert(image.to_string()) {
                    out.push(CatalogImage {
                        image: image.to_string(),
                        kind,
                        package: p.name().to_string(),
                        bundle: b.name().to_string(),
                    });
                }
            };
            push(&b.doc.image, CatalogImageKind::Bundle);
            for r in &b.doc.related_images {
                push(&r.image, CatalogImageKind::Related);
            }
        }
    }
    out
}

/// FNV-32a of `s` (the hash oc uses for digest-only catalog images).
pub fn fnv32a(s: &str) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in s.bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Destination tag of an operator image: its own tag, else `%x` of FNV-32a of the pull spec
/// as written in the catalog.
pub fn operator_image_tag(as_written: &str, parsed: &ImageRef) -> String {
    match &parsed.tag {
        Some(t) => t.clone(),
        None => format!("{:x}", fnv32a(as_written)),
    }
}

/// Where the rebuilt catalog goes under the destination: repository path (without the
/// destination namespace) and tag.
///
/// 4.13+ `GetUniqueName`: `targetCatalog` replaces the whole `namespace/name` path (and wins over
/// `targetName`); `targetName` replaces only the last component; `targetTag` replaces the tag.
/// A source without a tag gets the first 6 hex characters of its digest as the tag.
///
/// `targetCatalog` may carry a `:tag` (`ns/name:tag`): `GetUniqueName` appends the tag to
/// whatever targetCatalog holds, so oc-mirror's own e2e configuration
/// (`imageset-config-oci-mirror.yaml`) names the tag that way. It is honoured as the tag;
/// with `targetTag` as well oc-mirror would build a reference with two tags, so that is refused.
pub fn catalog_target(
    source: &ImageRef,
    target_catalog: Option<&str>,
    target_name: Option<&str>,
    target_tag: Option<&str>,
) -> Result<(String, String), CatalogError> {
    let (target_catalog, target_tag) = match target_catalog.and_then(|tc| tc.rsplit_once(':')) {
        Some((repo, tag)) if !tag.contains('/') => {
            if let Some(tt) = target_tag {
                return Err(CatalogError::Config(format!(
                    "targetCatalog {:?} carries the tag {tag:?} and targetTag is {tt:?}: keep one (targetTag)",
                    target_catalog.unwrap_or_default()
                )));
            }
            let ok = tag.len() <= 128
                && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                && tag.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
            if !ok {
                return Err(CatalogError::Config(format!(
                    "targetCatalog {:?}: {tag:?} is not a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')",
                    target_catalog.unwrap_or_default()
                )));
            }
            (Some(repo), Some(tag))
        }
        _ => (target_catalog, target_tag),
    };
    let repo = match (target_catalog, target_name) {
        (Some(tc), _) => {
            validate_target_catalog(tc)?;
            tc.to_string()
        }
        (None, Some(tn)) => {
            if tn.is_empty() || tn.contains('/') || !path_component_ok(tn) {
                return Err(CatalogError::Config(format!(
                    "targetName {tn:?} must be one path component (lowercase letters, digits, '.', '_', '-')"
                )));
            }
            match source.repository.rsplit_once('/') {
                Some((ns, _)) => format!("{ns}/{tn}"),
                None => tn.to_string(),
            }
        }
        (None, None) => source.repository.clone(),
    };
    let tag = match (target_tag, &source.tag, &source.digest) {
        (Some(t), _, _) => t.to_string(),
        (None, Some(t), _) => t.clone(),
        (None, None, Some(d)) => d.hex()[..6].to_string(),
        (None, None, None) => "latest".to_string(),
    };
    Ok((repo, tag))
}

fn path_component_ok(c: &str) -> bool {
    // alpha-numeric [separator alpha-numeric]*, separator = [_.] | __ | [-]*
    let b = c.as_bytes();
    if b.is_empty() || !b[0].is_ascii_lowercase() && !b[0].is_ascii_digit() {
        return false;
    }
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok || i == b.len() {
            return false;
        }
    }
    true
}

fn validate_target_catalog(tc: &str) -> Result<(), CatalogError> {
    if tc.is_empty() || tc.split('/').any(|c| !path_component_ok(c)) {
        return Err(CatalogError::Config(format!(
            "targetCatalog {tc:?} is not a valid repository path: [namespace/]name of lowercase path components (letters, digits, separated by '.', '_', '__' or dashes)"
        )));
    }
    Ok(())
}

/// The CatalogSource name for a catalog repository (4.11: its last path component), made a
/// valid RFC 1035 label (lowercase, other characters to '-', at most 63 characters).
pub fn catalog_source_name(repo: &str) -> String {
    let last = repo.rsplit('/').next().unwrap_or(repo);
    let mut s = String::new();
    for c in last.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    let s = s.trim_matches('-');
    let mut s: String = s.chars().take(63).collect();
    while s.ends_with('-') {
        s.pop();
    }
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        s = format!("cs-{s}").chars().take(63).collect();
    }
    s
}

/// `catalogSource-<name>.yaml` content, as oc-mirror writes it: `operators.coreos.com/v1alpha1`,
/// namespace `openshift-marketplace`, `sourceType: grpc`, the image by tag when it has one.
/// No `grpcPodConfig` (a mirrored catalog must not use `extractContent.cacheDir`; planners.md §3).
pub fn catalog_source_yaml(name: &str, image: &str) -> String {
    format!(
        "apiVersion: operators.coreos.com/v1alpha1\nkind: CatalogSource\nmetadata:\n  name: {name}\n  namespace: openshift-marketplace\nspec:\n  image: {image}\n  sourceType: grpc\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_tags_are_not_zero_padded() {
        // FNV-32a test vectors.
        assert_eq!(fnv32a(""), 0x811c9dc5);
        assert_eq!(fnv32a("a"), 0xe40c292c);
        assert_eq!(fnv32a("foobar"), 0xbf9cf968);
        let r =
            ImageRef::parse("quay.io/ns/app@sha256:0000000000000000000000000000000000000000000000000000000000000000")
                .unwrap();
        let t = operator_image_tag(
            "quay.io/ns/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            &r,
        );
        assert_eq!(
            t,
            format!(
                "{:x}",
                fnv32a("quay.io/ns/app@sha256:0000000000000000000000000000000000000000000000000000000000000000")
            )
        );
        let tagged = ImageRef::parse("quay.io/ns/app:v1").unwrap();
        assert_eq!(operator_image_tag("quay.io/ns/app:v1", &tagged), "v1");
        // Find an input whose hash has a leading zero nibble: the tag is then 7 characters.
        let short = (0..200)
            .map(|i| format!("x{i}"))
            .find(|s| fnv32a(s) < 0x1000_0000)
            .unwrap();
        assert!(format!("{:x}", fnv32a(&short)).len() < 8);
    }

    #[test]
    fn catalog_targets() {
        let src = ImageRef::parse("registry.redhat.io/redhat/redhat-operator-index:v4.12").unwrap();
        assert_eq!(
            catalog_target(&src, None, None, None).unwrap(),
            ("redhat/redhat-operator-index".into(), "v4.12".into())
        );
        assert_eq!(
            catalog_target(&src, None, Some("mine"), None).unwrap(),
            ("redhat/mine".into(), "v4.12".into())
        );
        assert_eq!(
            catalog_target(&src, Some("a/b/c"), Some("ignored"), Some("t1")).unwrap(),
            ("a/b/c".into(), "t1".into())
        );
        assert!(catalog_target(&src, Some("Bad/Name"), None, None).is_err());
        assert!(catalog_target(&src, Some("a//b"), None, None).is_err());
        // A tag on targetCatalog (oc-mirror's e2e oci-mirror configuration) is the tag; with
        // targetTag as well it is refused, naming both.
        assert_eq!(
            catalog_target(&src, Some("redhatgov/oc-mirror-dev:test-catalog-latest"), None, None).unwrap(),
            ("redhatgov/oc-mirror-dev".into(), "test-catalog-latest".into())
        );
        let e = catalog_target(&src, Some("ns/cat:v1"), None, Some("v2"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"v1\"") && e.contains("\"v2\"") && e.contains("targetTag"),
            "{e}"
        );
        assert!(catalog_target(&src, Some("ns/cat:"), None, None).is_err());
        let dig =
            ImageRef::parse("quay.io/ns/cat@sha256:abcdef0000000000000000000000000000000000000000000000000000000000")
                .unwrap();
        assert_eq!(catalog_target(&dig, None, None, None).unwrap().1, "abcdef");
        assert_eq!(
            catalog_source_name("redhat/redhat-operator-index"),
            "redhat-operator-index"
        );
        assert_eq!(catalog_source_name("ns/My_Catalog.v2"), "my-catalog-v2");
        assert_eq!(catalog_source_name("ns/4cat"), "cs-4cat");
    }
}
