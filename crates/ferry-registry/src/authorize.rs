//! Credentials and `Authorization` values: which credential serves a repository, Basic auth, and
//! the bearer-token request of the distribution spec (cached per scope set).

use crate::auth::{Challenge, TokenCache, TokenResponse};
use crate::client::{Host, RegistryClient};
use crate::errors::{map_send_error, status_error};
use ferry_auth::{Credential, ResolvedCredential};
use ferry_types::{Error, Result};
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;
use std::time::Duration;

impl RegistryClient {
    /// The credential for `repo` on `host`, looked up once; logs which source served the host.
    fn credential(&self, host: &Host, repo: &str) -> Option<ResolvedCredential> {
        let mut a = host.auth.lock().unwrap();
        if let Some(c) = a.creds.get(repo) {
            return c.clone();
        }
        let c = self.inner.creds.resolve(&host.name, repo);
        match &c {
            Some(rc) if a.logged_sources.insert(rc.source.clone()) => {
                tracing::info!(registry = %host.name, source = %rc.source, "using credentials for {} from {}", host.name, rc.source);
            }
            None if a.logged_sources.insert(String::new()) => {
                tracing::info!(registry = %host.name, sources = %self.inner.creds.sources(), "no credentials for {}: anonymous access", host.name);
            }
            _ => {}
        }
        a.creds.insert(repo.to_string(), c.clone());
        c
    }

    /// Names the credential source for a 401 message: the file that served the credential, or
    /// every source consulted when none had one.
    pub(crate) fn tried(&self, host: &Host, repo: Option<&str>) -> String {
        match self.credential(host, repo.unwrap_or("")) {
            Some(rc) => rc.source,
            None => self.inner.creds.sources(),
        }
    }

    /// The `Authorization` value for a request, fetching a bearer token when needed.
    pub(crate) async fn authorization(
        &self,
        host: &Host,
        repo: Option<&str>,
        scopes: &[String],
    ) -> Result<Option<String>> {
        let challenge = host.auth.lock().unwrap().challenge.clone();
        let Some(challenge) = challenge else { return Ok(None) };
        let cred = self.credential(host, repo.unwrap_or(""));
        match challenge {
            Challenge::Basic => Ok(cred.and_then(|rc| match rc.credential {
                Credential::Basic { username, password } => {
                    use base64::Engine as _;
                    let raw = format!("{username}:{}", password.expose());
                    Some(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(raw)
                    ))
                }
                Credential::IdentityToken(_) => None,
            })),
            Challenge::Bearer { realm, service, scope } => {
                let mut scopes = scopes.to_vec();
                if scopes.is_empty() {
                    scopes.extend(scope);
                }
                let key = TokenCache::key(&scopes);
                if let Some(t) = host.auth.lock().unwrap().tokens.get(&key) {
                    return Ok(Some(format!("Bearer {}", t.expose())));
                }
                let (token, lifetime) = self
                    .fetch_token(host, repo, &realm, service.as_deref(), &scopes, cred)
                    .await?;
                let header = format!("Bearer {}", token.expose());
                host.auth.lock().unwrap().tokens.insert(key, token, lifetime);
                Ok(Some(header))
            }
        }
    }

    async fn fetch_token(
        &self,
        host: &Host,
        repo: Option<&str>,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
        cred: Option<ResolvedCredential>,
    ) -> Result<(ferry_auth::Secret, Duration)> {
        let mut url = url::Url::parse(realm).map_err(|e| Error::Registry {
            registry: host.name.clone(),
            operation: "token request".into(),
            status: 401,
            detail: format!("the registry named an invalid token realm {realm:?}: {e}"),
        })?;
        // The token server belongs to the registry (often on another host, signed by the same
        // private CA): it gets the registry's TLS policy, as containers/image does.
        let http = host.http.clone();
        let req = match cred.as_ref().map(|c| &c.credential) {
            Some(Credential::IdentityToken(refresh)) => {
                let mut form: Vec<(&str, &str)> = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.expose()),
                    ("client_id", "ferry"),
                ];
                if let Some(s) = service {
                    form.push(("service", s));
                }
                let scope = scopes.join(" ");
                if !scope.is_empty() {
                    form.push(("scope", &scope));
                }
                let body = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(form)
                    .finish();
                http.post(url.as_str())
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body)
            }
            other => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    for s in scopes {
                        q.append_pair("scope", s);
                    }
                }
                let r = http.get(url.as_str());
                match other {
                    Some(Credential::Basic { username, password }) => r.basic_auth(username, Some(password.expose())),
                    _ => r,
                }
            }
        };
        let resp = req.send().await.map_err(|e| map_send_error(&host.name, e))?;
        let status = resp.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Error::Unauthorized {
                registry: host.name.clone(),
                tried: self.tried(host, repo),
            });
        }
        if !status.is_success() {
            return Err(status_error(&host.name, "token request", None, resp).await);
        }
        let body: TokenResponse = resp.json().await.map_err(|e| Error::Registry {
            registry: host.name.clone(),
            operation: "token request".into(),
            status: status.as_u16(),
            detail: format!("unreadable token response: {e}"),
        })?;
        body.into_token().ok_or_else(|| Error::Registry {
            registry: host.name.clone(),
            operation: "token request".into(),
            status: status.as_u16(),
            detail: "the token server answered without a token".into(),
        })
    }
}
