//! Semantic checks, oc-mirror's (`pkg/config/validate.go` and the operator include-config
//! rules) plus a few that catch mistakes oc-mirror only reported halfway through a run.
//! Each finding carries the field path; the parser adds line/column from the text.

use crate::error::Diagnostic;
use crate::locate::Locator;
use crate::types::{ImageSetConfiguration, IncludeChannel, IncludePackage, Operator, Platform};
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

/// Architectures the OpenShift update service serves (`multi` = heterogeneous payloads).
pub const ARCHITECTURES: &[&str] = &["amd64", "arm64", "ppc64le", "s390x", "multi"];

impl ImageSetConfiguration {
    /// Every semantic error and warning, with field paths (no line/column: the struct has no
    /// text; [`crate::diagnostics`] adds them).
    pub fn validate(&self) -> Vec<Diagnostic> {
        validate(self)
    }
}

pub(crate) fn validate(cfg: &ImageSetConfiguration) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    storage(cfg, &mut out);
    let m = &cfg.mirror;
    if let Some(p) = &m.platform {
        platform(p, &mut out);
    }
    operators(&m.operators, &mut out);
    for (i, img) in m.additional_images.iter().enumerate() {
        let path = format!("mirror.additionalImages[{i}].name");
        if img.name.trim().is_empty() {
            out.push(Diagnostic::error(path, "empty image name"));
        } else if let Err(e) = ferry_types::ImageRef::parse(&img.name) {
            out.push(Diagnostic::error(
                path,
                format!("invalid image reference `{}`: {e}", img.name),
            ));
        }
    }
    duplicates(
        m.additional_images.iter().map(|i| i.name.as_str()),
        "mirror.additionalImages",
        "name",
        "additional image",
        false,
        &mut out,
    );
    for (i, img) in m.blocked_images.iter().enumerate() {
        let path = format!("mirror.blockedImages[{i}].name");
        if img.name.is_empty() {
            // An empty Go regexp matches everything: it would block the whole image set.
            out.push(Diagnostic::error(
                path,
                "empty blocked-image pattern would block every image",
            ));
        } else if let Err(e) = regex::Regex::new(&img.name) {
            out.push(Diagnostic::error(
                path,
                format!("`{}` is not a valid regular expression: {e}", img.name),
            ));
        }
    }
    if !m.samples.is_empty() {
        out.push(Diagnostic::warning(
            "mirror.samples",
            "samples are not implemented by oc-mirror v1 or Ferry; this section is ignored",
        ));
    }
    if let Some(h) = &m.helm {
        for (i, c) in h.local.iter().enumerate() {
            if c.path.as_deref().is_none_or(|p| p.trim().is_empty()) {
                out.push(Diagnostic::error(
                    format!("mirror.helm.local[{i}]"),
                    format!(
                        "local chart `{}` needs a `path` (a .tgz file or a chart folder)",
                        c.name
                    ),
                ));
            }
        }
        for (i, r) in h.repositories.iter().enumerate() {
            if r.url.trim().is_empty() {
                out.push(Diagnostic::error(
                    format!("mirror.helm.repositories[{i}].url"),
                    format!("helm repository `{}` needs a `url`", r.name),
                ));
            }
            if r.charts.is_empty() {
                out.push(Diagnostic::warning(
                    format!("mirror.helm.repositories[{i}]"),
                    format!(
                        "helm repository `{}` lists no charts: every version of every chart in its index is mirrored (as oc-mirror 4.16); list charts to narrow it",
                        r.name
                    ),
                ));
            }
            for (j, c) in r.charts.iter().enumerate() {
                if c.version.as_deref().is_none_or(|v| v.trim().is_empty()) {
                    out.push(Diagnostic::error(
                        format!("mirror.helm.repositories[{i}].charts[{j}]"),
                        format!(
                            "chart `{}` needs a `version` (oc-mirror requires one for repository charts)",
                            c.name
                        ),
                    ));
                }
            }
        }
        duplicates(
            h.repositories.iter().map(|r| r.name.as_str()),
            "mirror.helm.repositories",
            "name",
            "helm repository",
            true,
            &mut out,
        );
    }
    let nothing = m
        .platform
        .as_ref()
        .is_none_or(|p| p.channels.is_empty() && p.graph != Some(true))
        && m.operators.is_empty()
        && m.additional_images.is_empty()
        && m.helm
            .as_ref()
            .is_none_or(|h| h.local.is_empty() && h.repositories.is_empty());
    if nothing {
        out.push(Diagnostic::warning(
            "mirror",
            "the configuration selects nothing to mirror",
        ));
    }
    out
}

fn storage(cfg: &ImageSetConfiguration, out: &mut Vec<Diagnostic>) {
    let Some(s) = &cfg.storage_config else { return };
    if let Some(r) = &s.registry {
        if r.image_url.trim().is_empty() {
            out.push(Diagnostic::error(
                "storageConfig.registry.imageURL",
                "empty imageURL; give the metadata image, e.g. registry.example.com:5000/oc-mirror-metadata",
            ));
        } else if let Err(e) = ferry_types::ImageRef::parse(&r.image_url) {
            out.push(Diagnostic::error(
                "storageConfig.registry.imageURL",
                format!("invalid metadata image `{}`: {e}", r.image_url),
            ));
        }
    }
    let local_path = s
        .local
        .as_ref()
        .map(|l| l.path.as_str())
        .filter(|p| !p.trim().is_empty());
    if s.registry.is_some() && local_path.is_some() {
        // oc-mirror silently takes the local backend when both are set; a run that writes the
        // metadata somewhere other than where the next run (or the other side) looks for it
        // breaks the sequence, so make the user choose.
        out.push(Diagnostic::error(
            "storageConfig",
            "both storageConfig.registry and storageConfig.local are set; keep only one \
             (oc-mirror would silently use local)",
        ));
    }
    if s.registry.is_none() && s.local.is_some() && local_path.is_none() {
        out.push(Diagnostic::error(
            "storageConfig.local.path",
            "empty local storage path; give the folder that keeps the metadata between runs",
        ));
    }
    if s.registry.is_none() && s.local.is_none() {
        out.push(Diagnostic::error(
            "storageConfig",
            "storageConfig has neither `registry` nor `local`; set one, or remove storageConfig for a single-use run",
        ));
    }
}

fn semver_of(v: &str, path: &str, what: &str, out: &mut Vec<Diagnostic>) -> Option<semver::Version> {
    match semver::Version::parse(v.trim()) {
        Ok(s) => Some(s),
        Err(e) => {
            out.push(Diagnostic::error(
                path,
                format!("{what} `{v}` is not a semantic version (like 4.16.3): {e}"),
            ));
            None
        }
    }
}

/// min ≤ max when both are set and valid.
fn range(
    min: Option<&str>,
    max: Option<&str>,
    base: &str,
    out: &mut Vec<Diagnostic>,
) -> (Option<semver::Version>, Option<semver::Version>) {
    let lo = min.and_then(|v| semver_of(v, &format!("{base}.minVersion"), "minVersion", out));
    let hi = max.and_then(|v| semver_of(v, &format!("{base}.maxVersion"), "maxVersion", out));
    if let (Some(a), Some(b)) = (&lo, &hi) {
        if a > b {
            out.push(Diagnostic::error(
                format!("{base}.minVersion"),
                format!("minVersion {a} is higher than maxVersion {b}"),
            ));
        }
    }
    (lo, hi)
}

fn platform(p: &Platform, out: &mut Vec<Diagnostic>) {
    for (i, a) in p.architectures.iter().enumerate() {
        if !ARCHITECTURES.contains(&a.as_str()) {
            out.push(Diagnostic::error(
                format!("mirror.platform.architectures[{i}]"),
                format!("unknown architecture `{a}`; use one of {}", ARCHITECTURES.join(", ")),
            ));
        }
    }
    duplicates(
        p.architectures.iter().map(String::as_str),
        "mirror.platform.architectures",
        "",
        "architecture",
        false,
        out,
    );
    if !p.architectures.is_empty() && p.channels.is_empty() {
        out.push(Diagnostic::warning(
            "mirror.platform.architectures",
            "architectures without channels select no release",
        ));
    }
    for (i, c) in p.channels.iter().enumerate() {
        let base = format!("mirror.platform.channels[{i}]");
        if c.name.trim().is_empty() {
            out.push(Diagnostic::error(format!("{base}.name"), "empty channel name"));
        }
        range(c.min_version.as_deref(), c.max_version.as_deref(), &base, out);
        if c.shortest_path == Some(true) && c.full == Some(true) {
            out.push(Diagnostic::warning(
                format!("{base}.shortestPath"),
                "shortestPath and full together: only the shortest path is mirrored",
            ));
        }
    }
    // oc-mirror: "release channel %q: duplicate found in configuration" (by name).
    duplicates(
        p.channels.iter().map(|c| c.name.as_str()),
        "mirror.platform.channels",
        "name",
        "release channel",
        true,
        out,
    );
}

/// oc-mirror's `Operator.GetUniqueName`: the catalog as it will be pushed and tracked in the
/// metadata (targetCatalog > targetName, targetTag replaces tag or digest).
pub fn catalog_unique_name(o: &Operator) -> String {
    let trimmed = trim_protocol(&o.catalog);
    let target_catalog = o.target_catalog.as_deref().unwrap_or("");
    let target_name = o.target_name.as_deref().unwrap_or("");
    let target_tag = o.target_tag.as_deref().unwrap_or("");
    if target_catalog.is_empty() && target_name.is_empty() && target_tag.is_empty() {
        return trimmed.to_string();
    }
    let r = trimmed.trim_start_matches('/').trim_end_matches('/');
    let comps: Vec<&str> = r.split('/').collect();
    let reg = if comps.len() > 1 { comps[0] } else { "" };
    let ns = if comps.len() > 2 {
        comps[1..comps.len() - 1].join("/")
    } else {
        String::new()
    };
    let last = comps[comps.len() - 1];
    let (mut repo, mut id) = match last.split_once("@sha256:") {
        Some((r, d)) => (r.to_string(), d.to_string()),
        None => (last.to_string(), String::new()),
    };
    let mut tag = String::new();
    if let Some((r, t)) = repo.clone().split_once(':') {
        repo = r.to_string();
        tag = t.to_string();
    }
    if !target_tag.is_empty() {
        tag = target_tag.to_string();
        id.clear();
    }
    let join = |parts: &[&str]| {
        parts
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join("/")
    };
    let mut name = if !target_catalog.is_empty() {
        let reg = if o.catalog.starts_with("oci:") { "" } else { reg };
        join(&[reg, target_catalog])
    } else {
        let n = if target_name.is_empty() {
            repo.as_str()
        } else {
            target_name
        };
        join(&[reg, &ns, n])
    };
    if !tag.is_empty() {
        name = format!("{name}:{tag}");
    } else if !id.is_empty() {
        name = format!("{name}@sha256:{id}");
    }
    name
}

fn trim_protocol(s: &str) -> &str {
    let s = s.strip_prefix("oci:").unwrap_or(s);
    let s = s.strip_prefix("file:").unwrap_or(s);
    let s = s.strip_prefix("docker:").unwrap_or(s);
    s.strip_prefix("//").unwrap_or(s)
}

/// One path component of a repository name (the grammar oc-mirror documents for targetCatalog).
fn path_component() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").expect("valid regex"))
}

fn tag_syntax() -> &'static regex::Regex {
    static RE: OnceLock<regex::Regex> = OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("valid regex"))
}

/// targetCatalog / targetName / targetTag end up in the rebuilt catalog's reference, so a bad
/// character there fails the push at the very end of a long run; catch it here.
fn targets(o: &Operator, base: &str, out: &mut Vec<Diagnostic>) {
    if let Some(tc) = &o.target_catalog {
        // oc-mirror's own e2e configs put a `:tag` on targetCatalog; it ends up in the name, so
        // accept it but point at targetTag.
        let (repo, tag) = match tc.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t)),
            _ => (tc.as_str(), None),
        };
        if let Some(bad) = repo.split('/').find(|c| !path_component().is_match(c)) {
            out.push(Diagnostic::error(
                format!("{base}.targetCatalog"),
                format!(
                    "targetCatalog `{tc}`: path component `{bad}` is not valid; use lowercase letters, digits \
                     and single `.`, `_`, `__` or `-` separators, as `[namespace/]name`"
                ),
            ));
        } else if let Some(t) = tag {
            out.push(Diagnostic::warning(
                format!("{base}.targetCatalog"),
                format!("targetCatalog `{tc}` carries a tag; set it with `targetTag: {t}` instead"),
            ));
        }
    }
    if let Some(tn) = &o.target_name {
        if !path_component().is_match(tn) {
            out.push(Diagnostic::error(
                format!("{base}.targetName"),
                format!("targetName `{tn}` must be one lowercase path component (letters, digits, `.`, `_`, `-`)"),
            ));
        } else if o.target_catalog.is_none() {
            out.push(Diagnostic::warning(
                format!("{base}.targetName"),
                "targetName is deprecated since oc-mirror 4.13; use targetCatalog",
            ));
        }
    }
    if let Some(tt) = &o.target_tag {
        if !tag_syntax().is_match(tt) {
            out.push(Diagnostic::error(
                format!("{base}.targetTag"),
                format!("targetTag `{tt}` is not a valid tag (letters, digits, `_`, `.`, `-`; at most 128; not starting with `.` or `-`)"),
            ));
        }
    }
}

fn operators(ops: &[Operator], out: &mut Vec<Diagnostic>) {
    // oc-mirror: "catalog %q: duplicate found in configuration", keyed by the unique name, so
    // the same catalog twice with different targetTag values is fine.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, o) in ops.iter().enumerate() {
        let base = format!("mirror.operators[{i}]");
        if o.catalog.trim().is_empty() {
            out.push(Diagnostic::error(format!("{base}.catalog"), "empty catalog reference"));
            continue;
        }
        let name = catalog_unique_name(o);
        if let Some(first) = seen.get(&name) {
            out.push(Diagnostic::error(
                format!("{base}.catalog"),
                format!(
                    "catalog `{name}`: duplicate found in configuration (same as mirror.operators[{first}]); \
                     merge the two entries or give one a different targetCatalog/targetTag"
                ),
            ));
        } else {
            seen.insert(name, i);
        }
        if o.is_oci() {
            if trim_protocol(&o.catalog).trim().is_empty() {
                out.push(Diagnostic::error(
                    format!("{base}.catalog"),
                    "an `oci:` catalog needs the path of an OCI layout folder, e.g. oci:///data/my-catalog",
                ));
            }
        } else if let Err(e) = ferry_types::ImageRef::parse(&o.catalog) {
            out.push(Diagnostic::error(
                format!("{base}.catalog"),
                format!("invalid catalog image `{}`: {e}", o.catalog),
            ));
        }
        targets(o, &base, out);
        if o.target_name.is_some() && o.target_catalog.is_some() {
            out.push(Diagnostic::warning(
                format!("{base}.targetName"),
                "targetName is ignored when targetCatalog is set (targetName is deprecated; keep targetCatalog)",
            ));
        }
        if o.original_ref.is_some() {
            out.push(Diagnostic::warning(
                format!("{base}.originalRef"),
                "originalRef is deprecated since oc-mirror 4.13 and ignored",
            ));
        }
        for (j, p) in o.packages.iter().enumerate() {
            package(p, &format!("{base}.packages[{j}]"), out);
        }
        duplicates(
            o.packages.iter().map(|p| p.name.as_str()),
            &format!("{base}.packages"),
            "name",
            "package",
            true,
            out,
        );
    }
}

fn package(p: &IncludePackage, base: &str, out: &mut Vec<Diagnostic>) {
    if p.name.trim().is_empty() {
        out.push(Diagnostic::error(format!("{base}.name"), "empty package name"));
    }
    if p.min_version.is_some() && p.min_bundle.is_some() {
        out.push(Diagnostic::error(
            format!("{base}.minBundle"),
            format!(
                "package `{}`: minVersion and minBundle are mutually exclusive; keep one",
                p.name
            ),
        ));
    }
    range(p.min_version.as_deref(), p.max_version.as_deref(), base, out);
    let pkg_range = p.min_version.is_some() || p.max_version.is_some() || p.min_bundle.is_some();
    for (k, c) in p.channels.iter().enumerate() {
        let cbase = format!("{base}.channels[{k}]");
        channel(c, &p.name, &cbase, out);
        let ch_range = c.min_version.is_some() || c.max_version.is_some() || c.min_bundle.is_some();
        if pkg_range && ch_range {
            out.push(Diagnostic::error(
                cbase,
                format!(
                    "package `{}`: a version range is set both on the package and on channel `{}`; \
                     package- and channel-level ranges are mutually exclusive",
                    p.name, c.name
                ),
            ));
        }
    }
    duplicates(
        p.channels.iter().map(|c| c.name.as_str()),
        &format!("{base}.channels"),
        "name",
        "channel",
        true,
        out,
    );
    if let Some(dc) = &p.default_channel {
        if !p.channels.is_empty() && !p.channels.iter().any(|c| &c.name == dc) {
            out.push(Diagnostic::warning(
                format!("{base}.defaultChannel"),
                format!(
                    "defaultChannel `{dc}` is not among the listed channels of package `{}`",
                    p.name
                ),
            ));
        }
    }
}

fn channel(c: &IncludeChannel, pkg: &str, base: &str, out: &mut Vec<Diagnostic>) {
    if c.name.trim().is_empty() {
        out.push(Diagnostic::error(format!("{base}.name"), "empty channel name"));
    }
    if c.min_version.is_some() && c.min_bundle.is_some() {
        out.push(Diagnostic::error(
            format!("{base}.minBundle"),
            format!(
                "package `{pkg}` channel `{}`: minVersion and minBundle are mutually exclusive; keep one",
                c.name
            ),
        ));
    }
    range(c.min_version.as_deref(), c.max_version.as_deref(), base, out);
}

/// Report every repeat of a value in a list (`path[i].field`), pointing at the later entry.
fn duplicates<'a>(
    values: impl Iterator<Item = &'a str>,
    list_path: &str,
    field: &str,
    what: &str,
    error: bool,
    out: &mut Vec<Diagnostic>,
) {
    let mut first: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, v) in values.enumerate() {
        if v.is_empty() {
            continue;
        }
        if let Some(f) = first.get(v) {
            let path = if field.is_empty() {
                format!("{list_path}[{i}]")
            } else {
                format!("{list_path}[{i}].{field}")
            };
            let msg = format!("{what} `{v}`: duplicate found in configuration (first at {list_path}[{f}])");
            out.push(if error {
                Diagnostic::error(path, msg)
            } else {
                Diagnostic::warning(path, msg)
            });
        } else {
            first.insert(v, i);
        }
    }
}

/// Warnings for keys written in a non-canonical spelling that the parser accepted as an alias
/// (oc-mirror's Go decoder matches keys case-insensitively; Ferry only accepts all-lowercase).
pub(crate) fn spelling_warnings(locator: &Locator) -> Vec<Diagnostic> {
    const CANONICAL: &[&str] = &[
        "apiVersion",
        "archiveSize",
        "storageConfig",
        "imageURL",
        "skipTLS",
        "additionalImages",
        "blockedImages",
        "minVersion",
        "maxVersion",
        "shortestPath",
        "skipDependencies",
        "targetName",
        "targetCatalog",
        "targetTag",
        "defaultChannel",
        "minBundle",
        "imagePaths",
        "originalRef",
    ];
    let canon: HashSet<&str> = CANONICAL.iter().copied().collect();
    let mut out = Vec::new();
    for (key, path, line, col) in locator.keys() {
        if canon.contains(key.as_str()) {
            continue;
        }
        if let Some(c) = CANONICAL.iter().find(|c| c.eq_ignore_ascii_case(&key)) {
            let mut d = Diagnostic::warning(path, format!("`{key}` is accepted as `{c}`; write `{c}`"));
            d.line = Some(line);
            d.column = Some(col);
            out.push(d);
        }
    }
    out
}
