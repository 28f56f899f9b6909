//! Version ranges as OLM writes them (`olm.package.required.versionRange`, `skipRange`) and as
//! oc-mirror builds them from `minVersion`/`maxVersion` (`>=1.0.0 <=2.0.0`): blang/semver v4
//! semantics. `||` separates alternatives, spaces join comparators, operators are
//! `> >= < <= = == != !`, a bare version means `=`, and `1.2.x` / `1.x` wildcards expand to the
//! covered interval. Unlike the `semver` crate's `VersionReq` (npm rules), a pre-release version
//! matches a range like any other version, and build metadata is ignored, as in blang.

use semver::Version;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone)]
pub struct Range {
    alternatives: Vec<Vec<(Op, Version)>>,
}

/// Compare like blang: major, minor, patch, then pre-release; build metadata ignored.
pub fn compare(a: &Version, b: &Version) -> Ordering {
    (a.major, a.minor, a.patch)
        .cmp(&(b.major, b.minor, b.patch))
        .then_with(|| match (a.pre.is_empty(), b.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => a.pre.cmp(&b.pre),
        })
}

fn parse_comparator(op: &str, ver: &str, out: &mut Vec<(Op, Version)>) -> Result<(), String> {
    let op = match op {
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "<" => Op::Lt,
        "<=" => Op::Le,
        "" | "=" | "==" => Op::Eq,
        "!" | "!=" => Op::Ne,
        o => return Err(format!("unknown operator {o:?}")),
    };
    let parts: Vec<&str> = ver.split('.').collect();
    let wild = |s: &str| s == "x" || s == "X" || s == "*";
    if parts.iter().any(|p| wild(p)) {
        // 1.x / 1.2.x: expand to an interval, as blang's expandWildcardVersion does.
        let num = |s: &str| s.parse::<u64>().map_err(|_| format!("{ver:?} is not a version"));
        let (lo, hi) = match parts.as_slice() {
            [m, x] | [m, x, _] if wild(x) => {
                let m = num(m)?;
                (Version::new(m, 0, 0), Version::new(m + 1, 0, 0))
            }
            [m, n, x] if wild(x) => {
                let (m, n) = (num(m)?, num(n)?);
                (Version::new(m, n, 0), Version::new(m, n + 1, 0))
            }
            _ => return Err(format!("{ver:?}: unsupported wildcard")),
        };
        match op {
            Op::Eq => {
                out.push((Op::Ge, lo));
                out.push((Op::Lt, hi));
            }
            Op::Ge | Op::Lt => out.push((op, lo)),
            // `>1.2.x` means >= 1.3.0; `<=1.2.x` means < 1.3.0.
            Op::Gt => out.push((Op::Ge, hi)),
            Op::Le => out.push((Op::Lt, hi)),
            Op::Ne => return Err(format!("{ver:?}: != with a wildcard is not supported")),
        }
        return Ok(());
    }
    let v = Version::parse(ver).map_err(|e| format!("{ver:?} is not a semantic version: {e}"))?;
    out.push((op, v));
    Ok(())
}

impl Range {
    pub fn parse(s: &str) -> Result<Range, String> {
        let mut alternatives = Vec::new();
        for alt in s.split("||") {
            let mut comps = Vec::new();
            let toks: Vec<&str> = alt.split_whitespace().collect();
            let mut i = 0;
            while i < toks.len() {
                let t = toks[i];
                let split = t.find(|c: char| c.is_ascii_alphanumeric()).unwrap_or(t.len());
                let (op, ver) = t.split_at(split);
                if ver.is_empty() {
                    // `>= 1.0.0`: operator and version separated by a space.
                    let next = toks
                        .get(i + 1)
                        .ok_or_else(|| format!("range {s:?}: operator {op:?} without a version"))?;
                    parse_comparator(op, next, &mut comps)?;
                    i += 2;
                } else {
                    parse_comparator(op, ver, &mut comps)?;
                    i += 1;
                }
            }
            if comps.is_empty() {
                return Err(format!("range {s:?} has an empty alternative"));
            }
            alternatives.push(comps);
        }
        Ok(Range { alternatives })
    }

    pub fn matches(&self, v: &Version) -> bool {
        self.alternatives.iter().any(|alt| {
            alt.iter().all(|(op, want)| {
                let o = compare(v, want);
                match op {
                    Op::Lt => o == Ordering::Less,
                    Op::Le => o != Ordering::Greater,
                    Op::Gt => o == Ordering::Greater,
                    Op::Ge => o != Ordering::Less,
                    Op::Eq => o == Ordering::Equal,
                    Op::Ne => o != Ordering::Equal,
                }
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(r: &str, v: &str) -> bool {
        Range::parse(r).unwrap().matches(&Version::parse(v).unwrap())
    }

    #[test]
    fn blang_semantics() {
        assert!(m(">=1.0.0 <=2.0.0", "2.0.0"));
        assert!(!m(">=1.0.0 <=2.0.0", "2.0.1"));
        assert!(m("<0.2.0", "0.1.0"));
        assert!(!m("<0.2.0", "0.2.0"));
        // A pre-release matches like any version (npm rules would exclude it).
        assert!(m(">=1.0.0 <2.0.0", "1.5.0-rc.1"));
        assert!(m("<1.0.0", "1.0.0-0"));
        assert!(m("1.2.3", "1.2.3+build"));
        assert!(m(">= 1.0.0 < 2.0.0", "1.1.0"));
        assert!(m("<1.0.0 || >=3.0.0", "3.1.0"));
        assert!(!m("<1.0.0 || >=3.0.0", "2.0.0"));
        assert!(m("1.2.x", "1.2.9"));
        assert!(!m("1.2.x", "1.3.0"));
        assert!(m(">1.2.x", "1.3.0"));
        assert!(!m(">1.2.x", "1.2.5"));
        assert!(Range::parse(">=abc").is_err());
        assert!(Range::parse("").is_err());
    }
}
