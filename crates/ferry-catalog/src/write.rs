//! The filtered catalog as oc-mirror writes it: opm's `declcfg.WriteJSON` after a round trip
//! through opm's model (`ConvertFromModel`).
//!
//! * Order: packages by name; for each, the `olm.package` blob, its channels by name, its bundles
//!   by name, its other documents by schema (stable); package-less documents last.
//! * Within a channel, entries by name; within a bundle, properties de-duplicated and sorted by
//!   type, then by value text (what `ConvertFromModel` does).
//! * Form: Go's `json.Encoder` with `SetIndent("", "    ")` and `SetEscapeHTML(false)`: 4-space
//!   indent, `{}`/`[]` for empty containers, one newline after each document, `<>&` unescaped,
//!   U+2028/U+2029 escaped as Go does.

use crate::model::*;
use serde::Serialize;

/// Go's `json.Indent(dst, src, "", "    ")` over compact-or-not JSON text (whitespace outside
/// strings is dropped and re-created).
fn go_indent(src: &str, out: &mut String) {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    let mut need_indent = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("    ");
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            // Copy string bytes through, escaping U+2028/U+2029 (E2 80 A8/A9) like Go.
            if c == 0xE2
                && i + 2 < bytes.len()
                && bytes[i + 1] == 0x80
                && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9)
            {
                out.push_str(if bytes[i + 2] == 0xA8 { "\\u2028" } else { "\\u2029" });
                i += 3;
                continue;
            }
            let ch_len = utf8_len(c);
            out.push_str(&src[i..i + ch_len]);
            if esc {
                esc = false;
            } else if c == b'\\' {
                esc = true;
            } else if c == b'"' {
                in_str = false;
            }
            i += ch_len;
            continue;
        }
        if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
            continue;
        }
        if need_indent && c != b']' && c != b'}' {
            need_indent = false;
            depth += 1;
            newline(out, depth);
        }
        match c {
            b'"' => {
                in_str = true;
                out.push('"');
            }
            b'{' | b'[' => {
                need_indent = true;
                out.push(c as char);
            }
            b',' => {
                out.push(',');
                newline(out, depth);
            }
            b':' => out.push_str(": "),
            b'}' | b']' => {
                if need_indent {
                    // Empty container: `{}` / `[]`.
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(out, depth);
                }
                out.push(c as char);
            }
            _ => out.push(c as char),
        }
        i += 1;
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

fn encode<T: Serialize>(v: &T, out: &mut String) {
    let compact = serde_json::to_string(v).expect("catalog documents serialise");
    go_indent(&compact, out);
    out.push('\n');
}

/// The catalog in `declcfg.WriteJSON` form (the `index.json` of a filtered catalog).
pub fn write_json(cat: &Catalog) -> String {
    let mut out = String::new();
    for pkg in cat.packages.values() {
        encode(&pkg.doc, &mut out);
        for ch in pkg.channels.values() {
            let mut ch = ch.clone();
            ch.entries.sort_by(|a, b| a.name.cmp(&b.name));
            encode(&ch, &mut out);
        }
        for b in pkg.bundles.values() {
            let mut doc = b.doc.clone();
            doc.properties
                .sort_by(|a, b| a.type_.cmp(&b.type_).then_with(|| a.value.get().cmp(b.value.get())));
            doc.properties
                .dedup_by(|a, b| a.type_ == b.type_ && a.value.get() == b.value.get());
            encode(&doc, &mut out);
        }
        let mut others: Vec<&Meta> = pkg.others.iter().collect();
        others.sort_by(|a, b| a.schema.cmp(&b.schema));
        for m in others {
            go_indent(m.blob.get(), &mut out);
            out.push('\n');
        }
    }
    for m in &cat.others {
        go_indent(m.blob.get(), &mut out);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indent_like_go() {
        let mut s = String::new();
        let input = concat!(
            r#"{"a":[],"b":{},"c":[1,{"d":"x\"y"}],"e":"<&>  ","f":"l"#,
            "\u{2028}",
            r#"s"}"#
        );
        go_indent(input, &mut s);
        assert_eq!(
            s,
            "{\n    \"a\": [],\n    \"b\": {},\n    \"c\": [\n        1,\n        {\n            \"d\": \"x\\\"y\"\n        }\n    ],\n    \"e\": \"<&>  \",\n    \"f\": \"l\\u2028s\"\n}"
        );
        let mut t = String::new();
        go_indent("{ \"a\" :\n [ 1 , 2 ] }", &mut t);
        assert_eq!(t, "{\n    \"a\": [\n        1,\n        2\n    ]\n}");
    }
}
