//! What the scan reads out of template text without rendering it: the documents of a template
//! file, whether each is a hook or a test (`helm.sh/hook` annotation), the `.Values.<path>`
//! references it makes, and literal `image:` lines.

use crate::chart::Template;
use regex::Regex;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// One YAML document of a template file (files are split on `---` lines as helm splits output).
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    pub file: &'a str,
    /// 1-based line of the document's first line in the file.
    pub first_line: usize,
    pub text: &'a str,
    /// `helm.sh/hook` is set (any hook, tests included).
    pub hook: bool,
    /// The hook is `test`, `test-success` or `test-failure`.
    pub test: bool,
    /// Dotted `.Values` paths mentioned (`controller.image`, `image.repository`).
    pub mentions: BTreeSet<String>,
    /// A partial (`_helpers.tpl`): renders only through `include`, so it is no hook itself.
    pub partial: bool,
}

fn hook_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r#"["']?helm\.sh/hook["']?\s*:\s*["']?([A-Za-z0-9 ,\-]+)"#).unwrap())
}

fn values_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)").unwrap())
}

fn image_line_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r#"^\s*(?:-\s+)?image:\s*["']?([^"'\s{}#]+)["']?\s*(?:#.*)?$"#).unwrap())
}

/// Rendered templates: everything under `templates/` except notes (`.txt`, dropped by helm
/// and oc-mirror); partials (`_*.tpl`) are kept for their `.Values` references only.
pub fn docs(templates: &[Template]) -> Vec<Doc<'_>> {
    let mut out = Vec::new();
    for t in templates {
        if t.path.ends_with(".txt") {
            continue;
        }
        let base = t.path.rsplit('/').next().unwrap_or(&t.path);
        let partial = base.starts_with('_');
        let mut start = 0usize;
        let mut first_line = 1usize;
        let bytes = t.text.as_str();
        let mut pieces = Vec::new();
        let mut off = 0usize;
        for (n, line) in bytes.split_inclusive('\n').enumerate() {
            if line.trim_end() == "---" || line.starts_with("--- ") {
                pieces.push((first_line, &bytes[start..off]));
                start = off + line.len();
                first_line = n + 2;
            }
            off += line.len();
        }
        pieces.push((first_line, &bytes[start..]));
        for (first_line, text) in pieces {
            if text.trim().is_empty() {
                continue;
            }
            let (hook, test) = if partial {
                (false, false)
            } else {
                match hook_re().captures(text) {
                    Some(c) => {
                        let v = c[1].to_ascii_lowercase();
                        (true, v.split(',').any(|h| h.trim().starts_with("test")))
                    }
                    None => (false, false),
                }
            };
            let mentions = values_re()
                .captures_iter(text)
                .map(|c| c[1].trim_start_matches('.').to_string())
                .collect();
            out.push(Doc {
                file: &t.path,
                first_line,
                text,
                hook,
                test,
                mentions,
                partial,
            });
        }
    }
    out
}

/// Literal `image: ref` lines of a document (no template expression on the line), with their
/// 1-based line in the file.
pub fn literal_images<'a>(doc: &Doc<'a>) -> Vec<(usize, &'a str)> {
    if doc.partial {
        return Vec::new();
    }
    doc.text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.contains("{{"))
        .filter_map(|(i, l)| {
            image_line_re()
                .captures(l)
                .and_then(|c| c.get(1))
                .map(|m| (doc.first_line + i, m.as_str()))
        })
        .collect()
}

/// `image:` lines built by template expressions (what the scan cannot evaluate).
pub fn templated_image_lines(doc: &Doc<'_>) -> Vec<usize> {
    if doc.partial {
        return Vec::new();
    }
    doc.text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start().trim_start_matches("- ");
            t.starts_with("image:") && l.contains("{{")
        })
        .map(|(i, _)| doc.first_line + i)
        .collect()
}

/// Whether a mention refers to the values at `path`: the same path, a path inside it
/// (`image.repository` for `image`), or an enclosing one used whole (`with .Values.controller`).
pub fn refers_to(mention: &str, path: &str) -> bool {
    mention == path
        || mention.strip_prefix(path).is_some_and(|r| r.starts_with('.'))
        || path.strip_prefix(mention).is_some_and(|r| r.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(path: &str, text: &str) -> Template {
        Template {
            path: path.into(),
            text: text.into(),
        }
    }

    #[test]
    fn documents_hooks_tests_and_mentions() {
        let ts = vec![t(
            "templates/job.yaml",
            "kind: Job\nmetadata:\n  annotations:\n    \"helm.sh/hook\": pre-install,pre-upgrade\nspec:\n  image: {{ .Values.job.image.repository }}\n---\nkind: Pod\nmetadata:\n  annotations:\n    helm.sh/hook: test-success\nspec:\n  containers:\n  - image: busybox:1.36\n",
        )];
        let d = docs(&ts);
        assert_eq!(d.len(), 2);
        assert!(d[0].hook && !d[0].test);
        assert!(d[0].mentions.contains("job.image.repository"));
        assert_eq!(templated_image_lines(&d[0]), vec![6]);
        assert!(d[1].hook && d[1].test);
        assert_eq!(d[1].first_line, 8);
        assert_eq!(literal_images(&d[1]), vec![(14, "busybox:1.36")]);
    }

    #[test]
    fn refers_to_is_path_aware() {
        assert!(refers_to("image", "image"));
        assert!(refers_to("image.repository", "image"));
        assert!(refers_to("controller", "controller.image"));
        assert!(!refers_to("controller.name", "controller.image"));
        assert!(!refers_to("imageX", "image"));
    }
}
