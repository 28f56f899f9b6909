//! `.helmignore`: the files a chart folder leaves out, with helm's own rules (`pkg/ignore`):
//!
//! - one pattern a line; blank lines and `#` comments skipped;
//! - a pattern with no `/` matches the base name of a path, one with a `/` the whole path from
//!   the chart root (a leading `/` is dropped); `*`, `?` and `[...]` as Go's `filepath.Match`;
//! - a trailing `/` matches folders only (an ignored folder is skipped with all it holds);
//! - `!pattern` as helm implements it: a path it does *not* match is ignored;
//! - `**` is refused, as helm refuses it;
//! - helm's default rule `templates/.?*` (dot files in `templates/`) always applies.
//!
//! Helm applies the file when it reads a chart folder (`helm install ./chart`, `helm package`),
//! not when it reads an archive: `helm package` already left the ignored files out, and
//! `helm install x.tgz` renders whatever the archive holds. Ferry does the same, so the scan
//! sees exactly the templates helm would render.

use ferry_types::{Error, Result};
use regex::Regex;

/// File name of the rules in a chart folder.
pub const FILE: &str = ".helmignore";

#[derive(Debug, Clone)]
struct Rule {
    raw: String,
    re: Regex,
    negate: bool,
    dir_only: bool,
    /// Matched against the base name (pattern without `/`), else the whole relative path.
    base_name: bool,
}

/// The parsed rules of one chart's `.helmignore` (plus helm's default).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
}

impl Rules {
    /// Helm's default rules alone (a folder without `.helmignore`).
    pub fn defaults() -> Self {
        let mut r = Rules::default();
        // Cannot fail: a fixed pattern.
        r.add("templates/.?*", "helm's default rule", 0)
            .expect("default helmignore rule");
        r
    }

    /// Parse `.helmignore` text; `origin` names the file in errors (with the line).
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let mut r = Rules::defaults();
        for (i, line) in text.lines().enumerate() {
            r.add(line, origin, i + 1)?;
        }
        Ok(r)
    }

    fn add(&mut self, line: &str, origin: &str, lineno: usize) -> Result<()> {
        let mut p = line.trim();
        if p.is_empty() || p.starts_with('#') {
            return Ok(());
        }
        if p.contains("**") {
            return Err(Error::InvalidConfig(format!(
                "{origin}:{lineno}: `{p}`: `**` is not supported in .helmignore (helm refuses it too); use one \
                 pattern per folder level"
            )));
        }
        let raw = p.to_string();
        let negate = p.starts_with('!') && p.len() > 1;
        if negate {
            p = &p[1..];
        }
        let dir_only = p.len() > 1 && p.ends_with('/');
        if dir_only {
            p = &p[..p.len() - 1];
        }
        let p = p.strip_prefix('/').unwrap_or(p);
        let base_name = !p.contains('/');
        let re = Regex::new(&glob_regex(p)).map_err(|e| {
            Error::InvalidConfig(format!(
                "{origin}:{lineno}: `{raw}` is not a valid .helmignore pattern: {e}"
            ))
        })?;
        self.rules.push(Rule {
            raw,
            re,
            negate,
            dir_only,
            base_name,
        });
        Ok(())
    }

    /// Whether `path` (relative to the chart root, `/`-separated) is left out. Helm's order:
    /// the first rule that decides wins.
    pub fn ignored(&self, path: &str, is_dir: bool) -> bool {
        if path.is_empty() || path == "." || path == "./" {
            return false;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        for r in &self.rules {
            let subject = if r.base_name { base } else { path };
            if r.negate {
                if r.dir_only && !is_dir {
                    return true;
                }
                if !r.re.is_match(subject) {
                    return true;
                }
                continue;
            }
            if r.dir_only && !is_dir {
                continue;
            }
            if r.re.is_match(subject) {
                tracing::trace!(path, rule = %r.raw, "left out by .helmignore");
                return true;
            }
        }
        false
    }
}

/// Go's `filepath.Match` syntax as an anchored regex: `*` and `?` never cross a `/`.
fn glob_regex(p: &str) -> String {
    let mut out = String::from("^");
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            '\\' => match chars.next() {
                Some(n) => out.push_str(&regex::escape(&n.to_string())),
                None => out.push_str(r"\\"),
            },
            '[' => {
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                for n in chars.by_ref() {
                    if n == ']' {
                        break;
                    }
                    if n == '\\' || n == '[' {
                        out.push('\\');
                    }
                    out.push(n);
                }
                out.push(']');
            }
            _ => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_rule_forms() {
        let r = Rules::parse(
            "# comment\n\n*.bak\ntemplates/extra-*.yaml\n/docs/\nci/\n.git/\nsecret?.txt\n[ab].md\n",
            ".helmignore",
        )
        .unwrap();
        assert!(r.ignored("values.yaml.bak", false));
        assert!(
            r.ignored("templates/old.yaml.bak", false),
            "base-name rule at any depth"
        );
        assert!(r.ignored("templates/extra-job.yaml", false));
        assert!(!r.ignored("templates/sub/extra-job.yaml", false), "* does not cross /");
        assert!(r.ignored("docs", true));
        assert!(!r.ignored("docs", false), "trailing / matches folders only");
        assert!(r.ignored("ci", true));
        assert!(r.ignored("secret1.txt", false));
        assert!(r.ignored("a.md", false) && !r.ignored("c.md", false));
        assert!(!r.ignored("templates/deployment.yaml", false));
        assert!(!r.ignored("Chart.yaml", false));
        // helm's default: dot files in templates/.
        assert!(r.ignored("templates/.hidden.yaml", false));
        assert!(Rules::defaults().ignored("templates/.x", false));
    }

    #[test]
    fn negation_is_helms() {
        // helm ignores every path a `!` rule does not match (pkg/ignore Rules.Ignore).
        let r = Rules::parse("!templates/keep.yaml\n", "x").unwrap();
        assert!(!r.ignored("templates/keep.yaml", false));
        assert!(r.ignored("templates/other.yaml", false));
    }

    #[test]
    fn double_star_is_refused_with_the_line() {
        let e = Rules::parse("ok\n**/x\n", "mychart/.helmignore")
            .unwrap_err()
            .to_string();
        assert!(e.contains("mychart/.helmignore:2") && e.contains("**"), "{e}");
    }
}
