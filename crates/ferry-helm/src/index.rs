//! A chart repository's `index.yaml` (helm reads the JSON form with the same decoder, so both
//! are accepted), and which chart versions a configuration selects from it.

use crate::yaml::stringish;
use ferry_types::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// One entry of `entries.<name>[]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChartVersion {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "stringish")]
    pub version: String,
    #[serde(default, deserialize_with = "stringish")]
    pub app_version: String,
    /// Absolute, or relative to the repository URL.
    #[serde(default)]
    pub urls: Vec<String>,
    /// sha256 of the archive, hex (some indexes write `sha256:<hex>`).
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default)]
    pub deprecated: bool,
}

impl ChartVersion {
    /// The expected sha256 hex, if the index gives one. A malformed digest is an error: a check
    /// that silently does not happen is worse than a refusal.
    pub fn sha256(&self) -> Result<Option<String>> {
        let Some(d) = self.digest.as_deref().map(str::trim).filter(|d| !d.is_empty()) else {
            return Ok(None);
        };
        let hex = d.strip_prefix("sha256:").unwrap_or(d).to_ascii_lowercase();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::InvalidConfig(format!(
                "chart {} {}: the index's digest `{d}` is not a sha256 digest",
                self.name, self.version
            )));
        }
        Ok(Some(hex))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexFile {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub entries: BTreeMap<String, Vec<ChartVersion>>,
}

/// A chart asked for in the configuration: `version` absent means the newest stable version
/// (helm's default); it may also be a constraint such as `>=1.2 <2` or `^1.3`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartRequest {
    pub name: String,
    pub version: Option<String>,
}

impl IndexFile {
    /// Parse `index.yaml` (YAML or JSON). `repo` names the repository in errors.
    pub fn parse(text: &str, repo: &str) -> Result<Self> {
        let mut idx: IndexFile = serde_yaml_ng::from_str(text).map_err(|e| {
            Error::InvalidConfig(format!(
                "helm repository {repo}: index.yaml is not a valid helm index: {e}"
            ))
        })?;
        if idx.api_version.is_empty() {
            return Err(Error::InvalidConfig(format!(
                "helm repository {repo}: index.yaml has no apiVersion (is the URL a helm repository?)"
            )));
        }
        for (name, list) in idx.entries.iter_mut() {
            for v in list.iter_mut() {
                if v.name.is_empty() {
                    v.name = name.clone();
                }
            }
        }
        Ok(idx)
    }

    /// The versions to mirror. An empty request list means every version of every chart
    /// (oc-mirror 4.16 and v2). Each missing chart or version is an error naming what exists.
    pub fn select(&self, requests: &[ChartRequest], repo: &str) -> Result<Vec<ChartVersion>> {
        if requests.is_empty() {
            return Ok(self.entries.values().flatten().cloned().collect());
        }
        let mut out = Vec::new();
        for r in requests {
            let list = self.entries.get(&r.name).ok_or_else(|| Error::NotFound {
                what: format!("chart `{}` in helm repository {repo}", r.name),
                hint: Some(format!(
                    "the index lists: {}",
                    self.entries.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            })?;
            let found = pick(list, r.version.as_deref()).ok_or_else(|| Error::NotFound {
                what: format!(
                    "chart `{}` version {} in helm repository {repo}",
                    r.name,
                    r.version.as_deref().unwrap_or("(newest stable)")
                ),
                hint: Some(format!(
                    "versions there: {}",
                    list.iter().map(|v| v.version.as_str()).collect::<Vec<_>>().join(", ")
                )),
            })?;
            if !out.contains(found) {
                out.push(found.clone());
            }
        }
        Ok(out)
    }
}

impl IndexFile {
    /// Every version of `name`, newest first by semver (versions that are not semver last, in
    /// index order): the order the app's chart picker offers them in.
    pub fn versions_newest_first(&self, name: &str) -> Vec<&ChartVersion> {
        let mut v: Vec<&ChartVersion> = self.entries.get(name).map(|l| l.iter().collect()).unwrap_or_default();
        v.sort_by(|a, b| match (parse_semver(&a.version), parse_semver(&b.version)) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        });
        v
    }
}

fn parse_semver(v: &str) -> Option<semver::Version> {
    semver::Version::parse(v.trim_start_matches('v')).ok()
}

fn pick<'a>(list: &'a [ChartVersion], want: Option<&str>) -> Option<&'a ChartVersion> {
    let want = want.map(str::trim).filter(|w| !w.is_empty());
    if let Some(w) = want {
        if let Some(v) = list
            .iter()
            .find(|v| v.version == w || v.version.trim_start_matches('v') == w.trim_start_matches('v'))
        {
            return Some(v);
        }
    }
    // Helm constraints separate terms with spaces or commas; the semver crate wants commas.
    let req = match want {
        Some(w) => {
            let norm = w
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            Some(semver::VersionReq::parse(&norm).ok()?)
        }
        None => None,
    };
    list.iter()
        .filter_map(|v| parse_semver(&v.version).map(|s| (s, v)))
        .filter(|(s, _)| match &req {
            Some(r) => r.matches(s),
            None => s.pre.is_empty(),
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, v)| v)
}

/// A chart URL from the index, resolved against the repository URL (relative URLs are
/// relative to the folder holding `index.yaml`, as helm resolves them).
pub fn resolve_url(repo_url: &str, chart_url: &str) -> String {
    if chart_url.contains("://") {
        return chart_url.to_string();
    }
    let base = repo_url.trim_end_matches('/');
    if let Some(abs) = chart_url.strip_prefix('/') {
        // Host-absolute path: keep scheme and authority of the repository.
        if let Some(i) = base.find("://") {
            let rest = &base[i + 3..];
            let host_end = rest.find('/').map(|j| i + 3 + j).unwrap_or(base.len());
            return format!("{}/{abs}", &base[..host_end]);
        }
    }
    format!("{base}/{}", chart_url.trim_start_matches("./"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_resolve_like_helm() {
        assert_eq!(resolve_url("https://h/charts/", "a-1.tgz"), "https://h/charts/a-1.tgz");
        assert_eq!(resolve_url("https://h/charts", "./a-1.tgz"), "https://h/charts/a-1.tgz");
        assert_eq!(resolve_url("https://h/charts", "/x/a-1.tgz"), "https://h/x/a-1.tgz");
        assert_eq!(resolve_url("https://h/charts", "http://o/a-1.tgz"), "http://o/a-1.tgz");
    }

    #[test]
    fn versions_exact_constraint_and_newest_stable() {
        let l: Vec<ChartVersion> = ["1.0.0", "1.2.0", "2.0.0-rc1", "1.10.1"]
            .iter()
            .map(|v| ChartVersion {
                name: "a".into(),
                version: v.to_string(),
                ..Default::default()
            })
            .collect();
        assert_eq!(pick(&l, Some("1.2.0")).unwrap().version, "1.2.0");
        assert_eq!(pick(&l, None).unwrap().version, "1.10.1");
        assert_eq!(pick(&l, Some(">=1.0 <1.5")).unwrap().version, "1.2.0");
        assert!(pick(&l, Some("3.0.0")).is_none());
    }

    #[test]
    fn digest_forms() {
        let mut v = ChartVersion {
            name: "a".into(),
            version: "1".into(),
            digest: Some(format!("sha256:{}", "A".repeat(64))),
            ..Default::default()
        };
        assert_eq!(v.sha256().unwrap().unwrap(), "a".repeat(64));
        v.digest = Some("sha256:1234567890abcdef".into());
        assert!(v.sha256().unwrap_err().to_string().contains("not a sha256 digest"));
        v.digest = None;
        assert_eq!(v.sha256().unwrap(), None);
    }
}
