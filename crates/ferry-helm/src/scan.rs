//! The native static scan: the images a chart deploys, found without rendering it.
//!
//! Sources, per enabled chart of the tree (values coalesced by [`crate::values`]):
//! - image maps in values: `repository` (or `image` beside `tag`/`registry`/`digest`), with
//!   `registry`, `tag` (falling back to the chart's `appVersion`, as most charts' templates do)
//!   and `digest`; `global.imageRegistry` overrides the registry (Bitnami's rule) and
//!   `global.image.registry` fills a missing one (ingress-nginx's `merge`);
//! - `image: "ref"` strings in values;
//! - literal `image: ref` lines in templates;
//! - the chart annotations `helm.sh/images` (HIP-0015) and `artifacthub.io/images`.
//!
//! A values image is kept only when a template of *that* chart refers to its values path
//! (otherwise charts that keep unused examples in values give false positives). A subtree whose
//! `enabled` is false is skipped. Images referenced only from hook documents are flagged
//! `hook`; only from test hooks, `test` (tests are left out of the default set, hooks are kept:
//! a real install runs them).

use crate::chart::Chart;
use crate::templates::{docs, literal_images, refers_to, templated_image_lines, Doc};
use crate::values::{scopes, Disabled};
use crate::yaml::{scalar_text, Map, Value};
use ferry_types::ImageRef;
use serde::Serialize;
use std::collections::BTreeMap;

/// Where an image was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Provenance {
    /// A values path of a chart of the tree (`chart` is the alias path, e.g. `top/upstream`).
    Values { chart: String, path: String },
    /// A literal `image:` line of a template.
    Template { chart: String, file: String, line: usize },
    /// A chart annotation (`helm.sh/images`, `artifacthub.io/images`).
    Annotation { chart: String, key: String },
    /// `helm template` output (exact mode): the template that produced the document.
    Rendered { template: String },
}

impl std::fmt::Display for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Provenance::Values { chart, path } => write!(f, "{chart}: values {path}"),
            Provenance::Template { chart, file, line } => write!(f, "{chart}: {file}:{line}"),
            Provenance::Annotation { chart, key } => write!(f, "{chart}: annotation {key}"),
            Provenance::Rendered { template } => write!(f, "rendered {template}"),
        }
    }
}

/// One image a chart deploys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FoundImage {
    /// Normalised full reference (`docker.io/library/nginx:1.16.0`).
    #[serde(serialize_with = "ser_display")]
    pub image: ImageRef,
    /// As the chart wrote it (`nginx:1.16.0`), from the first place it was found.
    pub written: String,
    pub provenance: Vec<Provenance>,
    /// Only hook documents use it (for example a pre-install Job).
    pub hook: bool,
    /// Only test hooks use it (`helm test`): not in the default set.
    pub test: bool,
}

fn ser_display<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// Something the scan saw but could not turn into an image reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unresolved {
    pub chart: String,
    /// Values path or `file:line`.
    pub location: String,
    pub reason: String,
}

/// A values image dropped by the cross-check (no template of its chart refers to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Unreferenced {
    pub chart: String,
    pub path: String,
    pub image: String,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScanResult {
    pub images: Vec<FoundImage>,
    pub unresolved: Vec<Unresolved>,
    pub unreferenced: Vec<Unreferenced>,
    /// Subcharts switched off by condition or tags.
    #[serde(skip)]
    pub disabled: Vec<Disabled>,
}

impl ScanResult {
    /// The images to mirror by default: everything except test-hook images.
    pub fn default_images(&self) -> impl Iterator<Item = &FoundImage> {
        self.images.iter().filter(|i| !i.test)
    }
}

struct Found {
    written: String,
    prov: Provenance,
    hook: bool,
    test: bool,
}

/// Scan a chart with `supplied` values (the user's, merged over the chart's defaults).
pub fn scan(chart: &Chart, supplied: &Map) -> ScanResult {
    let (scopes, disabled) = scopes(chart, supplied);
    let mut found = Vec::new();
    let mut res = ScanResult {
        disabled,
        ..ScanResult::default()
    };
    for s in &scopes {
        let chart_name = s.path.join("/");
        let docs = docs(&s.chart.templates);
        let before = found.len();
        if !s.chart.is_library() {
            let mut cands = Vec::new();
            let global = s.values.get("global").and_then(Value::as_object);
            for (k, v) in &s.values {
                if k == "global" || s.subchart_keys.contains(k) {
                    continue;
                }
                collect(v, k, k, global, &s.chart.metadata.app_version, &mut cands);
            }
            for c in cands {
                match c {
                    Cand::Image {
                        path,
                        xpath,
                        written,
                        tag_fallback,
                    } => {
                        let refs: Vec<&Doc> = docs
                            .iter()
                            .filter(|d| d.mentions.iter().any(|m| refers_to(m, &xpath)))
                            .collect();
                        if refs.is_empty() {
                            res.unreferenced.push(Unreferenced {
                                chart: chart_name.clone(),
                                path,
                                image: written,
                            });
                            continue;
                        }
                        // The appVersion stands in for a missing tag only when a template reads
                        // the tag (`.tag | default .Chart.AppVersion`) or hands the whole map to
                        // a helper; otherwise the template builds the name some other way
                        // (service-binding-operator: `printf "%s/%s" .repository "name@sha256:…"`).
                        let tag_path = format!("{xpath}.tag");
                        if tag_fallback
                            && !docs.iter().any(|d| {
                                d.mentions
                                    .iter()
                                    .any(|m| m == &xpath || m == &tag_path || m.starts_with(&format!("{tag_path}.")))
                            })
                        {
                            // Last try: evaluate the `image:` lines that use this path with the
                            // few template functions `expr` knows (printf, default, quote).
                            let mut evaluated = Vec::new();
                            for d in refs.iter().filter(|d| !d.partial) {
                                for l in templated_image_lines(d) {
                                    let text = d.text.lines().nth(l - d.first_line).unwrap_or_default();
                                    if !text.contains(&format!(".Values.{xpath}")) {
                                        continue;
                                    }
                                    if let Some(img) = crate::expr::eval_image_line(text, &s.values) {
                                        evaluated.push(Found {
                                            written: img,
                                            prov: Provenance::Template {
                                                chart: chart_name.clone(),
                                                file: d.file.to_string(),
                                                line: l,
                                            },
                                            hook: d.hook,
                                            test: d.test,
                                        });
                                    }
                                }
                            }
                            if !evaluated.is_empty() {
                                found.extend(evaluated);
                                continue;
                            }
                            let used: Vec<String> = refs
                                .iter()
                                .flat_map(|d| {
                                    templated_image_lines(d)
                                        .into_iter()
                                        .map(move |l| format!("{}:{l}", d.file))
                                })
                                .collect();
                            res.unresolved.push(Unresolved {
                                chart: chart_name.clone(),
                                location: format!("values {path}"),
                                reason: format!(
                                    "the values give no tag and no template reads `{tag_path}`; the image is built by a template expression the scan cannot evaluate{}",
                                    if used.is_empty() { String::new() } else { format!(" ({})", used.join(", ")) }
                                ),
                            });
                            continue;
                        }
                        // Hook flags come from the documents that use the image's own path (or
                        // deeper); an enclosing table used whole (`hasKey .Values.controller …`)
                        // says nothing about where the image goes.
                        let direct: Vec<&Doc> = refs
                            .iter()
                            .copied()
                            .filter(|d| {
                                d.mentions
                                    .iter()
                                    .any(|m| m == &xpath || m.starts_with(&format!("{xpath}.")))
                            })
                            .collect();
                        let refs = if direct.is_empty() { refs } else { direct };
                        let resource: Vec<&&Doc> = refs.iter().filter(|d| !d.partial).collect();
                        let hook =
                            !resource.is_empty() && resource.iter().all(|d| d.hook) && refs.iter().all(|d| !d.partial);
                        let test = hook && resource.iter().all(|d| d.test);
                        found.push(Found {
                            written,
                            prov: Provenance::Values {
                                chart: chart_name.clone(),
                                path,
                            },
                            hook,
                            test,
                        });
                    }
                    Cand::Bad { path, reason } => res.unresolved.push(Unresolved {
                        chart: chart_name.clone(),
                        location: format!("values {path}"),
                        reason,
                    }),
                }
            }
            for d in &docs {
                for (line, img) in literal_images(d) {
                    found.push(Found {
                        written: img.to_string(),
                        prov: Provenance::Template {
                            chart: chart_name.clone(),
                            file: d.file.to_string(),
                            line,
                        },
                        hook: d.hook,
                        test: d.test,
                    });
                }
            }
        }
        for key in ["helm.sh/images", "artifacthub.io/images"] {
            if let Some(text) = s.chart.metadata.annotations.get(key) {
                match annotation_images(text) {
                    Ok(list) => found.extend(list.into_iter().map(|w| Found {
                        written: w,
                        prov: Provenance::Annotation {
                            chart: chart_name.clone(),
                            key: key.to_string(),
                        },
                        hook: false,
                        test: false,
                    })),
                    Err(e) => res.unresolved.push(Unresolved {
                        chart: chart_name.clone(),
                        location: format!("annotation {key}"),
                        reason: e,
                    }),
                }
            }
        }
        // A chart whose templates build image lines from expressions, and that yielded nothing
        // the scan could read, probably needs values the scan cannot see (`required` ones).
        if found.len() == before && !s.chart.is_library() {
            let lines: Vec<String> = docs
                .iter()
                .filter(|d| !d.test)
                .flat_map(|d| {
                    templated_image_lines(d)
                        .into_iter()
                        .map(move |l| format!("{}:{l}", d.file))
                })
                .collect();
            if !lines.is_empty() {
                res.unresolved.push(Unresolved {
                    chart: chart_name.clone(),
                    location: lines.join(", "),
                    reason: "image lines built by template expressions, and no image found in this chart's values"
                        .into(),
                });
            }
        }
    }
    res.images = merge(found, &mut res.unresolved);
    res
}

/// One image per normalised reference; a hook/test flag only when every occurrence has it.
fn merge(found: Vec<Found>, unresolved: &mut Vec<Unresolved>) -> Vec<FoundImage> {
    let mut by: BTreeMap<String, FoundImage> = BTreeMap::new();
    for f in found {
        let r = match ImageRef::parse(&f.written) {
            Ok(r) => r,
            Err(e) => {
                let (chart, location) = match &f.prov {
                    Provenance::Values { chart, path } => (chart.clone(), format!("values {path}")),
                    Provenance::Template { chart, file, line } => (chart.clone(), format!("{file}:{line}")),
                    Provenance::Annotation { chart, key } => (chart.clone(), format!("annotation {key}")),
                    Provenance::Rendered { template } => (String::new(), template.clone()),
                };
                unresolved.push(Unresolved {
                    chart,
                    location,
                    reason: format!("`{}` is not an image reference: {}", f.written, e.reason),
                });
                continue;
            }
        };
        let key = r.to_string();
        match by.get_mut(&key) {
            Some(e) => {
                e.hook &= f.hook;
                e.test &= f.test;
                if !e.provenance.contains(&f.prov) {
                    e.provenance.push(f.prov);
                }
            }
            None => {
                by.insert(
                    key,
                    FoundImage {
                        image: r,
                        written: f.written,
                        provenance: vec![f.prov],
                        hook: f.hook,
                        test: f.test,
                    },
                );
            }
        }
    }
    by.into_values().collect()
}

enum Cand {
    /// `path` as shown (with list indexes), `xpath` the part a template can name (`.Values.a.b`).
    /// `tag_fallback`: the tag is the chart's appVersion because the values give none.
    Image {
        path: String,
        xpath: String,
        written: String,
        tag_fallback: bool,
    },
    Bad {
        path: String,
        reason: String,
    },
}

fn str_of(m: &Map, k: &str) -> String {
    m.get(k).and_then(scalar_text).unwrap_or_default().trim().to_string()
}

fn collect(v: &Value, path: &str, xpath: &str, global: Option<&Map>, app_version: &str, out: &mut Vec<Cand>) {
    match v {
        Value::Object(m) => {
            if m.get("enabled") == Some(&Value::Bool(false)) {
                return;
            }
            if let Some(c) = image_map(m, path, xpath, global, app_version) {
                out.push(c);
                return;
            }
            for (k, v) in m {
                let p = format!("{path}.{k}");
                // Past a list index a template cannot name the path with `.Values.a.b`.
                let x = if xpath.len() == path.len() {
                    p.clone()
                } else {
                    xpath.to_string()
                };
                collect(v, &p, &x, global, app_version, out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                collect(v, &format!("{path}[{i}]"), xpath, global, app_version, out);
            }
        }
        Value::String(s) if path.rsplit(['.', ']']).next() == Some("image") && !s.trim().is_empty() => {
            let s = s.trim();
            out.push(if s.contains("{{") {
                Cand::Bad {
                    path: path.into(),
                    reason: format!("`{s}` is a template expression"),
                }
            } else {
                Cand::Image {
                    path: path.into(),
                    xpath: xpath.into(),
                    written: s.to_string(),
                    tag_fallback: false,
                }
            });
        }
        _ => {}
    }
}

fn image_map(m: &Map, path: &str, xpath: &str, global: Option<&Map>, app_version: &str) -> Option<Cand> {
    let repository = match m.get("repository") {
        Some(Value::String(_)) => str_of(m, "repository"),
        _ => {
            let has_parts = ["tag", "registry", "digest"].iter().any(|k| m.contains_key(*k));
            match m.get("image") {
                Some(Value::String(_)) if has_parts => str_of(m, "image"),
                _ => return None,
            }
        }
    };
    let bad = |reason: String| {
        Some(Cand::Bad {
            path: path.into(),
            reason,
        })
    };
    if repository.is_empty() {
        return bad("the image repository is empty (a value the chart expects you to set)".into());
    }
    let g = |k: &str| global.map(|g| str_of(g, k)).unwrap_or_default();
    let g_image_registry = global
        .and_then(|g| g.get("image"))
        .and_then(Value::as_object)
        .map(|i| str_of(i, "registry"))
        .unwrap_or_default();
    let registry = [g("imageRegistry"), str_of(m, "registry"), g_image_registry]
        .into_iter()
        .find(|r| !r.is_empty())
        .unwrap_or_default();
    let mut tag = str_of(m, "tag");
    let mut tag_fallback = false;
    if tag.is_empty() && !repository.contains('@') && !last_has_tag(&repository) && str_of(m, "digest").is_empty() {
        tag = app_version.to_string();
        tag_fallback = true;
    }
    let digest = str_of(m, "digest");
    let mut written = if registry.is_empty() {
        repository.clone()
    } else {
        format!("{}/{}", registry.trim_end_matches('/'), repository)
    };
    if !tag.is_empty() {
        written = format!("{written}:{tag}");
    }
    if !digest.is_empty() {
        written = format!("{written}@{digest}");
    }
    if written.contains("{{") {
        return bad(format!("`{written}` is built by a template expression"));
    }
    Some(Cand::Image {
        path: path.into(),
        xpath: xpath.into(),
        written,
        tag_fallback,
    })
}

/// `repo:tag` (the last path component carries a `:`).
fn last_has_tag(repo: &str) -> bool {
    repo.rsplit('/').next().is_some_and(|l| l.contains(':'))
}

/// `helm.sh/images` / `artifacthub.io/images`: a YAML list of `{name, image}`.
fn annotation_images(text: &str) -> Result<Vec<String>, String> {
    let v: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(text).map_err(|e| format!("not a YAML list of images: {e}"))?;
    let list = match crate::yaml::to_json(v) {
        Value::Array(a) => a,
        Value::Null => return Ok(vec![]),
        _ => return Err("not a YAML list of `- name: … image: …` entries".into()),
    };
    Ok(list
        .iter()
        .filter_map(|e| match e {
            Value::Object(m) => m.get("image").and_then(Value::as_str).map(str::to_string),
            Value::String(s) => Some(s.clone()),
            _ => None,
        })
        .filter(|s| !s.trim().is_empty())
        .collect())
}
