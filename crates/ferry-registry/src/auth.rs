//! `WWW-Authenticate` challenges and the bearer-token dance of the distribution spec.

use ferry_auth::Secret;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// What a registry asked for on its last 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        /// Scope the registry named in the challenge (used when the request had none).
        scope: Option<String>,
    },
}

/// Parses one `WWW-Authenticate` value: `Bearer realm="...",service="...",scope="..."` or
/// `Basic realm="..."`. Unknown schemes give `None`.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    let params = parse_params(rest);
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        }),
        _ => None,
    }
}

/// `key="quoted, value",key2=token` → map (keys lower-cased; quotes and `\` escapes handled).
fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut chars = s.chars().peekable();
    loop {
        while matches!(chars.peek(), Some(c) if c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            key.push(c);
            chars.next();
        }
        if chars.next().is_none() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            value.push(n)
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
}

/// The token endpoint's answer (`token` or the OAuth2 `access_token`). The tokens are
/// [`Secret`]s and the `Debug` is written by hand, so a token never reaches a log or an error.
#[derive(serde::Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    pub token: Option<Secret>,
    #[serde(default)]
    pub access_token: Option<Secret>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenResponse(<redacted>, expires_in {:?})", self.expires_in)
    }
}

impl TokenResponse {
    pub fn into_token(self) -> Option<(Secret, Duration)> {
        let t = self.token.filter(|t| !t.is_empty()).or(self.access_token)?;
        // The spec's default lifetime is 60 s when the server does not say.
        Some((t, Duration::from_secs(self.expires_in.unwrap_or(60).max(1))))
    }
}

/// Tokens per scope set, dropped a little before they expire so a long upload does not start
/// with a token about to lapse.
#[derive(Default)]
pub(crate) struct TokenCache {
    tokens: HashMap<String, (Secret, Instant)>,
}

impl TokenCache {
    pub fn key(scopes: &[String]) -> String {
        let mut s = scopes.to_vec();
        s.sort();
        s.dedup();
        s.join(" ")
    }

    pub fn get(&self, key: &str) -> Option<Secret> {
        let (t, until) = self.tokens.get(key)?;
        (Instant::now() < *until).then(|| t.clone())
    }

    pub fn insert(&mut self, key: String, token: Secret, lifetime: Duration) {
        let margin = (lifetime / 10).min(Duration::from_secs(30));
        self.tokens.insert(key, (token, Instant::now() + lifetime - margin));
    }

    pub fn clear(&mut self) {
        self.tokens.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_and_basic() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(
            c,
            Challenge::Bearer {
                realm: "https://auth.example.com/token".into(),
                service: Some("registry.example.com".into()),
                scope: Some("repository:a/b:pull,push".into()),
            }
        );
        assert_eq!(parse_challenge(r#"Basic realm="ferry-test""#), Some(Challenge::Basic));
        assert_eq!(
            parse_challenge("bearer realm=https://x/t"),
            Some(Challenge::Bearer {
                realm: "https://x/t".into(),
                service: None,
                scope: None
            })
        );
        assert_eq!(parse_challenge("Negotiate abc"), None);
        assert_eq!(
            parse_challenge("Bearer service=\"x\""),
            None,
            "a bearer challenge needs a realm"
        );
    }

    #[test]
    fn token_cache_keys_ignore_order_and_expire() {
        let a = TokenCache::key(&["repository:x:pull".into(), "repository:y:pull,push".into()]);
        let b = TokenCache::key(&["repository:y:pull,push".into(), "repository:x:pull".into()]);
        assert_eq!(a, b);
        let mut c = TokenCache::default();
        c.insert(a.clone(), Secret::new("t"), Duration::from_secs(60));
        assert_eq!(c.get(&b).as_ref().map(Secret::expose), Some("t"));
        c.insert("short".into(), Secret::new("u"), Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(c.get("short").is_none());
        let r: TokenResponse = serde_json::from_str(r#"{"access_token":"z-s3cret","expires_in":300}"#).unwrap();
        // Debug output never shows a token.
        assert!(!format!("{r:?}").contains("s3cret"), "{r:?}");
        let (t, life) = r.into_token().unwrap();
        assert_eq!((t.expose(), life), ("z-s3cret", Duration::from_secs(300)));
    }
}
