//! `.indexignore` files: gitignore-style patterns relative to the directory holding the file
//! (opm uses go-git's gitignore matcher for them). Supported: comments, `!` negation, a trailing
//! `/` for directories, anchored patterns (with a `/`), `*`, `?`, `[...]` and `**`.

use regex::Regex;
use std::collections::BTreeMap;

struct Pattern {
    re: Regex,
    negate: bool,
    dir_only: bool,
    anchored: bool,
}

pub struct IgnoreSet {
    /// Directory prefix ("" for the root, "a/b/" below) and its patterns.
    sets: Vec<(String, Vec<Pattern>)>,
}

fn glob_to_regex(glob: &str) -> String {
    let mut re = String::from("^");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                // `**/` matches any number of directories, a trailing `**` everything.
                if chars.get(i + 2) == Some(&'/') {
                    re.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    re.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => {
                if let Some(end) = chars[i + 1..].iter().position(|&c| c == ']') {
                    let class: String = chars[i + 1..i + 1 + end].iter().collect();
                    let class = class.strip_prefix('!').map(|c| format!("^{c}")).unwrap_or(class);
                    re.push('[');
                    re.push_str(&class.replace('\\', "\\\\"));
                    re.push(']');
                    i += end + 2;
                    continue;
                }
                re.push_str("\\[");
            }
            '\\' if i + 1 < chars.len() => {
                re.push_str(&regex::escape(&chars[i + 1].to_string()));
                i += 2;
                continue;
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    re.push('$');
    re
}

fn parse(text: &str) -> Vec<Pattern> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (negate, line) = match line.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let (dir_only, line) = match line.strip_suffix('/') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let anchored = line.contains('/');
        let line = line.trim_start_matches('/');
        if let Ok(re) = Regex::new(&glob_to_regex(line)) {
            out.push(Pattern {
                re,
                negate,
                dir_only,
                anchored,
            });
        }
    }
    out
}

impl IgnoreSet {
    pub fn from_files(files: &BTreeMap<String, Vec<u8>>) -> Self {
        let mut sets = Vec::new();
        for (path, bytes) in files {
            let (dir, base) = match path.rsplit_once('/') {
                Some((d, b)) => (format!("{d}/"), b),
                None => (String::new(), path.as_str()),
            };
            if base == ".indexignore" {
                sets.push((dir, parse(&String::from_utf8_lossy(bytes))));
            }
        }
        IgnoreSet { sets }
    }

    /// Whether a file (path relative to the catalog root) is excluded, itself or through one of
    /// its directories.
    pub fn is_ignored(&self, path: &str) -> bool {
        for (dir, pats) in &self.sets {
            let Some(rel) = path.strip_prefix(dir.as_str()) else {
                continue;
            };
            let comps: Vec<&str> = rel.split('/').collect();
            for n in 1..=comps.len() {
                let candidate = comps[..n].join("/");
                let is_dir = n < comps.len();
                let mut ignored = false;
                for p in pats {
                    if p.dir_only && !is_dir {
                        continue;
                    }
                    let subject = if p.anchored { candidate.as_str() } else { comps[n - 1] };
                    if p.re.is_match(subject) {
                        ignored = !p.negate;
                    }
                }
                if ignored {
                    return true;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitignore_rules() {
        let mut files = BTreeMap::new();
        files.insert(
            ".indexignore".to_string(),
            b"# comment\n*.md\n/tmp/\nfoo/**/skip.json\n!keep.md\n".to_vec(),
        );
        files.insert("sub/.indexignore".to_string(), b"local.yaml\n".to_vec());
        let s = IgnoreSet::from_files(&files);
        assert!(s.is_ignored("README.md"));
        assert!(s.is_ignored("pkg/README.md"));
        assert!(!s.is_ignored("keep.md"));
        assert!(s.is_ignored("tmp/a.json"));
        assert!(!s.is_ignored("pkg/tmp.json"));
        assert!(s.is_ignored("foo/a/b/skip.json"));
        assert!(s.is_ignored("foo/skip.json"));
        assert!(s.is_ignored("sub/local.yaml"));
        assert!(!s.is_ignored("local.yaml"));
        assert!(!s.is_ignored("pkg/catalog.yaml"));
    }
}
