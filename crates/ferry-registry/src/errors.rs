//! Turning transport failures and registry answers into [`ferry_types::Error`]s a user can act on.

use ferry_types::Error;
use reqwest::StatusCode;

/// The whole `source()` chain of an error on one line (reqwest's top message alone is vague).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let t = s.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = s.source();
    }
    parts.join(": ")
}

fn looks_like_tls(detail: &str) -> bool {
    let d = detail.to_ascii_lowercase();
    ["certificate", "ssl", "tls", "handshake", "x509", "wrong version number"]
        .iter()
        .any(|k| d.contains(k))
}

/// A request that got no HTTP answer: TLS failure, refused/unreachable, timeout, dropped.
pub(crate) fn map_send_error(host: &str, e: reqwest::Error) -> Error {
    let detail = chain(&e);
    // URLs in reqwest messages never carry credentials here (auth goes in headers), but strip
    // query strings anyway: upload URLs hold session state that is noise in a message.
    if looks_like_tls(&detail) {
        let hint = if detail.to_ascii_lowercase().contains("wrong version number") {
            " (the registry seems to speak plain HTTP: use --source-use-http/--dest-use-http)"
        } else {
            ""
        };
        return Error::Tls {
            registry: host.to_string(),
            detail: format!("{detail}{hint}"),
        };
    }
    if e.is_connect() || e.is_timeout() {
        return Error::Unreachable {
            registry: host.to_string(),
            detail,
        };
    }
    // Dropped mid-request/response: transient, the caller may retry.
    Error::Io {
        path: host.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::ConnectionReset, detail),
    }
}

/// Reads a non-success answer and names the registry, the operation and the registry's own
/// error text. 403 → [`Error::Denied`] when `access` names (repository, action).
pub(crate) async fn status_error(
    host: &str,
    operation: &str,
    access: Option<(&str, &str)>,
    resp: reqwest::Response,
) -> Error {
    let status = resp.status();
    let plain_to_tls = status == StatusCode::BAD_REQUEST;
    let body = resp.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_string();
    if status == StatusCode::FORBIDDEN {
        if let Some((repo, action)) = access {
            return Error::Denied {
                registry: host.to_string(),
                repository: repo.to_string(),
                action: action.to_string(),
            };
        }
    }
    if plain_to_tls && text.contains("HTTP request to an HTTPS server") {
        return Error::Tls {
            registry: host.to_string(),
            detail:
                "the registry speaks HTTPS but Ferry was told to use plain HTTP; drop --source-use-http/--dest-use-http"
                    .into(),
        };
    }
    Error::Registry {
        registry: host.to_string(),
        operation: operation.to_string(),
        status: status.as_u16(),
        detail: registry_errors(&text),
    }
}

/// `{"errors":[{"code":"MANIFEST_INVALID","message":"...","detail":...}]}` → `MANIFEST_INVALID: ...`.
fn registry_errors(text: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Body {
        errors: Vec<Item>,
    }
    #[derive(serde::Deserialize)]
    struct Item {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
        #[serde(default)]
        detail: Option<serde_json::Value>,
    }
    match serde_json::from_str::<Body>(text) {
        Ok(b) if !b.errors.is_empty() => b
            .errors
            .iter()
            .map(|i| {
                let mut s = format!("{}: {}", i.code, i.message);
                if let Some(d) = &i.detail {
                    if !d.is_null() {
                        let d = d.to_string();
                        s.push_str(&format!(" ({})", &d[..d.len().min(300)]));
                    }
                }
                s
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ if text.trim().is_empty() => "no details from the registry".into(),
        _ => text.trim().chars().take(300).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_error_bodies() {
        assert_eq!(
            registry_errors(
                r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"x"}}]}"#
            ),
            r#"MANIFEST_UNKNOWN: manifest unknown ({"Tag":"x"})"#
        );
        assert_eq!(registry_errors(""), "no details from the registry");
        assert_eq!(registry_errors("oops"), "oops");
        assert!(looks_like_tls("error:0A000086:SSL routines::certificate verify failed"));
        assert!(!looks_like_tls("tcp connect error: Connection refused (os error 111)"));
    }
}
