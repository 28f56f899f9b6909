//! Exact mode: render with an external `helm template` (when a helm binary is configured or on
//! PATH) and read image fields the way oc-mirror v1 does: the four pod-spec JSONPaths plus the
//! chart's `imagePaths`. Unlike oc-mirror, hook documents are kept (flagged), since a real
//! install runs them; test hooks are flagged `test`.

use crate::scan::{FoundImage, Provenance, ScanResult, Unresolved};
use crate::yaml::{to_json, Map, Value};
use ferry_types::{Error, ImageRef, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// oc-mirror's JSONPaths (`pkg/cli/mirror/helm.go`).
pub const V1_IMAGE_PATHS: [&str; 4] = [
    "{.spec.template.spec.initContainers[*].image}",
    "{.spec.template.spec.containers[*].image}",
    "{.spec.initContainers[*].image}",
    "{.spec.containers[*].image}",
];

/// The helm binary to use: the configured one, else `$FERRY_HELM`, else `helm` on PATH.
pub fn find_helm(configured: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = configured {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("FERRY_HELM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(if cfg!(windows) { "helm.exe" } else { "helm" }))
        .find(|p| p.is_file())
}

/// Render `chart` (a .tgz or folder) with `helm template NAME <chart> --namespace
/// RELEASE-NAMESPACE --include-crds -f <values>` and collect the images.
pub fn render_images(helm: &Path, chart: &Path, values: &Map, image_paths: &[String]) -> Result<ScanResult> {
    let vf = std::env::temp_dir().join(format!(
        "ferry-helm-values-{}-{}.json",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    std::fs::write(&vf, serde_json::to_vec(values).unwrap_or_default()).map_err(|e| Error::io(vf.display(), e))?;
    let out = Command::new(helm)
        .args(["template", "NAME"])
        .arg(chart)
        .args(["--namespace", "RELEASE-NAMESPACE", "--include-crds", "-f"])
        .arg(&vf)
        .output();
    let _ = std::fs::remove_file(&vf);
    let out = out.map_err(|e| Error::io(format!("helm binary {}", helm.display()), e))?;
    if !out.status.success() {
        return Err(Error::InvalidConfig(format!(
            "chart {}: `helm template` failed ({}): {}",
            chart.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut paths: Vec<String> = V1_IMAGE_PATHS.iter().map(|s| s.to_string()).collect();
    paths.extend(image_paths.iter().cloned());
    Ok(images_of_rendered(&text, &paths))
}

/// Images of rendered manifests (also used on golden rendered files in tests).
pub fn images_of_rendered(text: &str, paths: &[String]) -> ScanResult {
    let mut res = ScanResult::default();
    let mut by: std::collections::BTreeMap<String, FoundImage> = Default::default();
    for doc in text.split("\n---") {
        let source = doc
            .lines()
            .find_map(|l| l.trim().strip_prefix("# Source: "))
            .unwrap_or("(rendered)")
            .to_string();
        let Ok(y) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(doc) else {
            continue;
        };
        let v = to_json(y);
        if !v.is_object() {
            continue;
        }
        let hook = v.pointer("/metadata/annotations/helm.sh~1hook").and_then(Value::as_str);
        let test = hook.is_some_and(|h| h.split(',').any(|x| x.trim().starts_with("test")));
        for p in paths {
            for s in jsonpath(&v, p) {
                // oc-mirror splits results on spaces.
                for w in s.split_whitespace() {
                    match ImageRef::parse(w) {
                        Ok(r) => {
                            let e = by.entry(r.to_string()).or_insert_with(|| FoundImage {
                                image: r.clone(),
                                written: w.to_string(),
                                provenance: vec![],
                                hook: hook.is_some(),
                                test,
                            });
                            e.hook &= hook.is_some();
                            e.test &= test;
                            let prov = Provenance::Rendered {
                                template: source.clone(),
                            };
                            if !e.provenance.contains(&prov) {
                                e.provenance.push(prov);
                            }
                        }
                        Err(e) => res.unresolved.push(Unresolved {
                            chart: String::new(),
                            location: source.clone(),
                            reason: format!("`{w}` is not an image reference: {}", e.reason),
                        }),
                    }
                }
            }
        }
    }
    res.images = by.into_values().collect();
    res
}

/// The JSONPath subset oc-mirror's paths use: `{.a.b[*].c}`, `[N]` indexes.
pub fn jsonpath(v: &Value, path: &str) -> Vec<String> {
    let p = path.trim().trim_start_matches('{').trim_end_matches('}');
    let mut cur = vec![v];
    for seg in p.split('.').filter(|s| !s.is_empty()) {
        let (key, idx) = match seg.find('[') {
            Some(i) => (&seg[..i], Some(seg[i + 1..].trim_end_matches(']'))),
            None => (seg, None),
        };
        let mut next = Vec::new();
        for c in cur {
            let c = if key.is_empty() { Some(c) } else { c.get(key) };
            match (c, idx) {
                (Some(x), None) => next.push(x),
                (Some(Value::Array(a)), Some("*")) => next.extend(a.iter()),
                (Some(Value::Array(a)), Some(n)) => {
                    if let Some(x) = n.parse::<usize>().ok().and_then(|i| a.get(i)) {
                        next.push(x)
                    }
                }
                _ => {}
            }
        }
        cur = next;
    }
    cur.into_iter().filter_map(crate::yaml::scalar_text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonpath_subset() {
        let v: Value = serde_json::json!({"spec": {"containers": [{"image": "a:1"}, {"image": "b:2"}]}});
        assert_eq!(jsonpath(&v, "{.spec.containers[*].image}"), vec!["a:1", "b:2"]);
        assert_eq!(jsonpath(&v, "{.spec.containers[1].image}"), vec!["b:2"]);
        assert!(jsonpath(&v, "{.spec.initContainers[*].image}").is_empty());
    }

    #[test]
    fn rendered_hooks_are_flagged() {
        let text = "---\n# Source: c/templates/d.yaml\nkind: Pod\nspec:\n  containers:\n  - image: a:1\n---\n# Source: c/templates/t.yaml\nkind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: test\nspec:\n  containers:\n  - image: busybox\n";
        let paths: Vec<String> = V1_IMAGE_PATHS.iter().map(|s| s.to_string()).collect();
        let r = images_of_rendered(text, &paths);
        assert_eq!(r.images.len(), 2);
        let bb = r.images.iter().find(|i| i.written == "busybox").unwrap();
        assert!(bb.hook && bb.test);
        let a = r.images.iter().find(|i| i.written == "a:1").unwrap();
        assert!(!a.hook && !a.test);
    }
}
