//! Query strings of URLs are secrets: registries redirect blob downloads to pre-signed storage
//! URLs (S3, GCS, Azure, CDNs) whose query carries the signature or a token that grants access
//! for minutes to hours. [`redact_query_strings`] removes them from any text that leaves the
//! process (errors, log lines, progress events, history files).

/// Replace the query (and fragment) of every `http://` / `https://` URL in `text` with
/// `?<redacted>`. The scheme, host and path stay, so a message still says what failed.
pub fn redact_query_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = find_url(rest) {
        out.push_str(&rest[..start]);
        let url = &rest[start..];
        // A URL ends at whitespace or a character that closes it in prose, JSON or debug output.
        let end = url
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ')' | ']' | '}' | '\\'))
            .unwrap_or(url.len());
        let (u, tail) = url.split_at(end);
        match u.find(['?', '#']) {
            Some(q) => {
                out.push_str(&u[..q]);
                out.push_str("?<redacted>");
            }
            None => out.push_str(u),
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// A writer that strips query strings from what passes through it (log output: the CLI wraps
/// stderr in it). Each `write` is redacted on its own, so it expects whole lines per call, as
/// tracing's formatter writes them.
pub struct RedactingWriter<W: std::io::Write>(pub W);

impl<W: std::io::Write> std::io::Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(redact_query_strings(&text).as_bytes())?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn find_url(s: &str) -> Option<usize> {
    let lower = s.to_ascii_lowercase();
    match (lower.find("http://"), lower.find("https://")) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_signatures_and_keeps_the_rest() {
        let s = "GET https://bucket.s3.amazonaws.com/docker/blobs/data?X-Amz-Signature=abc123&X-Amz-Credential=AKIA failed: 403";
        let r = redact_query_strings(s);
        assert_eq!(
            r,
            "GET https://bucket.s3.amazonaws.com/docker/blobs/data?<redacted> failed: 403"
        );
        let j = r#"{"message":"error sending request for url (HTTPS://cdn.example/x?token=sekrit#frag)"}"#;
        let r = redact_query_strings(j);
        assert!(!r.contains("sekrit") && !r.contains("frag"), "{r}");
        assert!(r.contains("HTTPS://cdn.example/x?<redacted>)"), "{r}");
        assert_eq!(redact_query_strings("no url here?x=1"), "no url here?x=1");
        assert_eq!(
            redact_query_strings("http://h/a http://h/b?c"),
            "http://h/a http://h/b?<redacted>"
        );
        assert_eq!(
            redact_query_strings("ünïcode https://h/ä?ß=1 ok"),
            "ünïcode https://h/ä?<redacted> ok"
        );
    }

    #[test]
    fn the_writer_redacts_each_line() {
        use std::io::Write;
        let mut w = RedactingWriter(Vec::new());
        w.write_all(b"WARN retry GET https://cdn.example/b?sig=TOPSECRET\n")
            .unwrap();
        let out = String::from_utf8(w.0).unwrap();
        assert_eq!(out, "WARN retry GET https://cdn.example/b?<redacted>\n");
    }
}
