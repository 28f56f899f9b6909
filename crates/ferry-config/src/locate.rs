//! Finding the line and column of a field path (`mirror.operators[1].packages[0].name`) in the
//! YAML text, so validation findings can be underlined in an editor.
//!
//! serde_yaml_ng's `Value` keeps no positions, so this is a deliberately small scanner over
//! block-style YAML (indentation, `key:` and `- ` items), which is how every configuration in
//! the wild is written. Anything it does not understand (flow mappings deeper than the value
//! start, anchors, multi-line keys) yields `None` rather than a wrong position.

/// One YAML document of a multi-document file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment<'a> {
    pub text: &'a str,
    /// 0-based index of the segment's first line in the whole file.
    pub first_line: u32,
}

fn is_doc_marker(line: &str) -> bool {
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
}

fn has_content(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !t.starts_with('%') && !is_doc_marker(l) && t != "..."
    })
}

/// Split a file at `---` lines into the documents the YAML parser will see. Leading comments
/// before the first marker are not a document; empty documents are dropped (the parser's empty
/// documents are dropped the same way by the caller).
pub(crate) fn split_documents(yaml: &str) -> Vec<Segment<'_>> {
    let mut starts: Vec<(usize, u32)> = vec![(0, 0)];
    let mut offset = 0usize;
    for (i, line) in yaml.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        if is_doc_marker(bare) && i > 0 {
            starts.push((offset, i as u32));
        }
        offset += line.len();
    }
    let mut segs = Vec::new();
    for (k, &(start, first_line)) in starts.iter().enumerate() {
        let end = starts.get(k + 1).map(|s| s.0).unwrap_or(yaml.len());
        let text = &yaml[start..end];
        if has_content(text) {
            segs.push(Segment { text, first_line });
        }
    }
    segs
}

#[derive(Debug, Clone, Copy)]
struct VLine<'a> {
    /// 0-based line within the segment.
    line: usize,
    /// 0-based column where `text` starts.
    col: usize,
    text: &'a str,
}

enum Seg {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Option<Vec<Seg>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            out.push(Seg::Key(name.to_string()));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            out.push(Seg::Index(r[..close].parse().ok()?));
            rest = &r[close + 1..];
        }
    }
    Some(out)
}

/// Strip a trailing ` # comment` (outside quotes) and surrounding blanks.
fn strip_comment(s: &str) -> &str {
    let mut in_single = false;
    let mut in_double = false;
    let mut prev_blank = true;
    for (i, c) in s.char_indices() {
        match c {
            '\'' if !in_double => in_single = !in_single,
            '"' if !in_single => in_double = !in_double,
            '#' if !in_single && !in_double && prev_blank => return s[..i].trim_end(),
            _ => {}
        }
        prev_blank = c == ' ' || c == '\t';
    }
    s.trim_end()
}

/// If `text` starts with the mapping key `key`, the byte offset of what follows the colon.
fn key_value_offset(text: &str, key: &str) -> Option<usize> {
    let after = if let Some(r) = text.strip_prefix(key) {
        r
    } else if let Some(r) = text
        .strip_prefix('"')
        .and_then(|r| r.strip_prefix(key))
        .and_then(|r| r.strip_prefix('"'))
    {
        r
    } else {
        text.strip_prefix('\'')
            .and_then(|r| r.strip_prefix(key))
            .and_then(|r| r.strip_prefix('\''))?
    };
    let after_ws = after.trim_start_matches([' ', '\t']);
    let rest = after_ws.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    Some(text.len() - rest.len())
}

fn is_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ") || text.starts_with("-\t")
}

/// Positions of fields in one YAML document.
pub(crate) struct Locator<'a> {
    lines: Vec<VLine<'a>>,
    first_line: u32,
}

impl<'a> Locator<'a> {
    pub fn new(text: &'a str, first_line: u32) -> Self {
        let lines = text
            .lines()
            .enumerate()
            .filter_map(|(i, raw)| {
                let t = raw.trim_start_matches(' ');
                let t = strip_comment(t);
                if t.is_empty() || t.starts_with('#') || is_doc_marker(raw) || t == "..." || raw.starts_with('%') {
                    return None;
                }
                Some(VLine {
                    line: i,
                    col: raw.len() - raw.trim_start_matches(' ').len(),
                    text: t,
                })
            })
            .collect();
        Locator { lines, first_line }
    }

    /// 1-based line of the first content line.
    pub fn first_content_line(&self) -> Option<u32> {
        self.lines.first().map(|l| self.first_line + l.line as u32 + 1)
    }

    /// Like [`Locator::locate`], but when the node itself cannot be found (flow-style
    /// `[{...}]` lists, anchors) the position of its nearest enclosing node that can: an editor
    /// underline on the containing line beats none.
    pub fn locate_nearest(&self, path: &str) -> Option<(u32, u32)> {
        let mut p = path;
        loop {
            if let Some(pos) = self.locate(p) {
                return Some(pos);
            }
            if p.is_empty() {
                return None;
            }
            // Drop the last `.key` or `[index]`.
            let cut = p.rfind(['.', '[']).unwrap_or(0);
            p = &p[..cut];
        }
    }

    /// 1-based (line, column) of the node at `path`: the key for a field, the `-` for a list
    /// item, the first content line for the root (`""`).
    pub fn locate(&self, path: &str) -> Option<(u32, u32)> {
        let segs = parse_path(path)?;
        let mut region: Vec<VLine<'a>> = self.lines.clone();
        let mut pos = region.first().map(|l| (l.line, l.col))?;
        for seg in segs {
            let block_col = region.first()?.col;
            match seg {
                Seg::Key(key) => {
                    let i = region
                        .iter()
                        .position(|l| l.col == block_col && key_value_offset(l.text, &key).is_some())?;
                    let l = region[i];
                    pos = (l.line, l.col);
                    let off = key_value_offset(l.text, &key)?;
                    let value = l.text[off..].trim_start_matches([' ', '\t']);
                    if !value.is_empty() {
                        let col = l.col + (l.text.len() - value.len());
                        region = vec![VLine {
                            line: l.line,
                            col,
                            text: value,
                        }];
                        continue;
                    }
                    region = region[i + 1..]
                        .iter()
                        .take_while(|n| n.col > l.col || (n.col == l.col && is_item(n.text)))
                        .copied()
                        .collect();
                }
                Seg::Index(n) => {
                    let items: Vec<usize> = region
                        .iter()
                        .enumerate()
                        .filter(|(_, l)| l.col == block_col && is_item(l.text))
                        .map(|(i, _)| i)
                        .collect();
                    let &i = items.get(n)?;
                    let l = region[i];
                    pos = (l.line, l.col);
                    let inner = l.text[1..].trim_start_matches([' ', '\t']);
                    let mut next: Vec<VLine<'a>> = Vec::new();
                    if !inner.is_empty() {
                        next.push(VLine {
                            line: l.line,
                            col: l.col + (l.text.len() - inner.len()),
                            text: inner,
                        });
                    }
                    next.extend(region[i + 1..].iter().take_while(|n| n.col > l.col).copied());
                    region = next;
                }
            }
            if region.is_empty() {
                // The path continues below a node with no block content (e.g. `key: {}`):
                // the best position is the node itself, but only if this was the last step.
                region = Vec::new();
            }
        }
        Some((self.first_line + pos.0 as u32 + 1, pos.1 as u32 + 1))
    }

    /// Every mapping key written in the document, with its path and position — used to find
    /// non-canonical spellings (see `validate::spelling_warnings`).
    pub fn keys(&self) -> Vec<(String, String, u32, u32)> {
        let mut out = Vec::new();
        self.walk(&self.lines, String::new(), &mut out);
        out
    }

    fn walk(&self, region: &[VLine<'a>], path: String, out: &mut Vec<(String, String, u32, u32)>) {
        let Some(first) = region.first() else { return };
        let block_col = first.col;
        let mut index = 0usize;
        let mut i = 0usize;
        while i < region.len() {
            let l = region[i];
            if l.col != block_col {
                i += 1;
                continue;
            }
            if is_item(l.text) {
                let inner = l.text[1..].trim_start_matches([' ', '\t']);
                let mut child: Vec<VLine<'a>> = Vec::new();
                if !inner.is_empty() {
                    child.push(VLine {
                        line: l.line,
                        col: l.col + (l.text.len() - inner.len()),
                        text: inner,
                    });
                }
                let rest: Vec<VLine<'a>> = region[i + 1..].iter().take_while(|n| n.col > l.col).copied().collect();
                let consumed = rest.len();
                child.extend(rest);
                self.walk(&child, format!("{path}[{index}]"), out);
                index += 1;
                i += 1 + consumed;
                continue;
            }
            // A plain `key:` (no quotes, no flow) — enough for spelling checks.
            let Some(colon) = l.text.find(':') else {
                i += 1;
                continue;
            };
            let key = &l.text[..colon];
            let after = &l.text[colon + 1..];
            if key.is_empty() || key.contains(' ') || !(after.is_empty() || after.starts_with([' ', '\t'])) {
                i += 1;
                continue;
            }
            let key_path = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
            out.push((
                key.to_string(),
                key_path.clone(),
                self.first_line + l.line as u32 + 1,
                l.col as u32 + 1,
            ));
            let rest: Vec<VLine<'a>> = region[i + 1..]
                .iter()
                .take_while(|n| n.col > l.col || (n.col == l.col && is_item(n.text)))
                .copied()
                .collect();
            let consumed = rest.len();
            if after.trim().is_empty() {
                self.walk(&rest, key_path, out);
            }
            i += 1 + consumed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
# comment
apiVersion: x
mirror:
  platform:
    channels:
    - name: a   # first
    - name: b
      minVersion: 1
  operators:
    - catalog: c
      packages:
        - name: p
          channels:
            - name: s
";

    #[test]
    fn locates_keys_and_items() {
        let l = Locator::new(DOC, 0);
        assert_eq!(l.locate(""), Some((2, 1)));
        assert_eq!(l.locate("apiVersion"), Some((2, 1)));
        assert_eq!(l.locate("mirror.platform"), Some((4, 3)));
        assert_eq!(l.locate("mirror.platform.channels[0]"), Some((6, 5)));
        assert_eq!(l.locate("mirror.platform.channels[1].name"), Some((7, 7)));
        assert_eq!(l.locate("mirror.platform.channels[1].minVersion"), Some((8, 7)));
        assert_eq!(
            l.locate("mirror.operators[0].packages[0].channels[0].name"),
            Some((14, 15))
        );
        assert_eq!(l.locate("mirror.operators[1]"), None);
        assert_eq!(l.locate("mirror.helm"), None);
    }

    #[test]
    fn offsets_by_segment_start() {
        let text = "a: 1\n---\nb:\n  c: 2\n";
        let segs = split_documents(text);
        assert_eq!(segs.len(), 2);
        let l = Locator::new(segs[1].text, segs[1].first_line);
        assert_eq!(l.locate("b.c"), Some((4, 3)));
    }

    #[test]
    fn leading_comments_and_marker_are_one_document() {
        let text = "# about\n---\napiVersion: v\n";
        let segs = split_documents(text);
        assert_eq!(segs.len(), 1);
        assert_eq!(
            Locator::new(segs[0].text, segs[0].first_line).locate("apiVersion"),
            Some((3, 1))
        );
    }

    #[test]
    fn lists_keys_with_paths() {
        let l = Locator::new(DOC, 0);
        let keys = l.keys();
        let paths: Vec<&str> = keys.iter().map(|k| k.1.as_str()).collect();
        assert!(paths.contains(&"mirror.platform.channels[1].minVersion"), "{paths:?}");
        assert!(
            paths.contains(&"mirror.operators[0].packages[0].channels[0].name"),
            "{paths:?}"
        );
    }
}
