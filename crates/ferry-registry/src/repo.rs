//! Registry- and repository-level calls: ping, the push-permission probe, tag lists, and
//! abandoning upload sessions.

use crate::client::{Host, Registry};
use crate::errors::status_error;
use crate::request::{read_limited, scope_for, Req};
use ferry_types::{Error, Result};
use reqwest::{Method, StatusCode};

impl Registry {
    pub async fn ping(&self) -> Result<()> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let resp = self.call(&h, Method::GET, "", None, "ping /v2/").await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(status_error(&h.name, "ping /v2/", None, resp).await)
        }
    }

    /// Starts a blob upload in `repo` and cancels it: proves push permission before a long copy.
    pub async fn check_push_permission(&self, repo: &str) -> Result<()> {
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let op = format!("push check on {repo}");
        let resp = self
            .call(&h, Method::POST, &format!("{repo}/blobs/uploads/"), Some(repo), &op)
            .await?;
        if resp.status() != StatusCode::ACCEPTED && resp.status() != StatusCode::CREATED {
            return Err(status_error(&h.name, &op, Some((repo, "push")), resp).await);
        }
        self.cancel_upload(&h, repo, &resp).await;
        Ok(())
    }

    /// Best effort: abandons an upload session so the registry can drop it.
    pub(crate) async fn cancel_upload(&self, h: &Host, repo: &str, resp: &reqwest::Response) {
        let Some(loc) = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
        else {
            return;
        };
        let Ok(url) = url::Url::parse(&h.base).and_then(|b| b.join(loc)) else {
            return;
        };
        let mut req = Req::new(Method::DELETE, url.to_string(), Some(repo), "cancel upload");
        req.scopes = vec![scope_for(repo, &Method::POST)];
        if let Err(e) = self.client.send(h, req).await {
            tracing::debug!(registry = %h.name, error = %e, "cancelling an upload session failed");
        }
    }

    /// Every tag of `repo`, following `Link` pagination.
    pub async fn list_tags(&self, repo: &str) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let h = self.client.host(&self.host)?;
        let _slot = h.slots.acquire().await.expect("semaphore closed");
        let op = format!("list tags of {repo}");
        let mut url = self.url(&h, &format!("{repo}/tags/list?n=1000"));
        let mut tags = Vec::new();
        for _page in 0..10_000 {
            let resp = self
                .client
                .send(&h, Req::new(Method::GET, url.clone(), Some(repo), &op))
                .await?;
            if resp.status() == StatusCode::NOT_FOUND {
                return Err(Error::NotFound {
                    what: format!("repository {}/{repo}", h.name),
                    hint: Some("check the repository name".into()),
                });
            }
            if !resp.status().is_success() {
                return Err(status_error(&h.name, &op, Some((repo, "pull")), resp).await);
            }
            let next = resp
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(|l| {
                    l.split_once('<')
                        .and_then(|(_, r)| r.split_once('>'))
                        .map(|(u, _)| u.to_string())
                });
            let body = read_limited(&h.name, &op, resp, 64 << 20).await?;
            let list: TagList = serde_json::from_slice(&body).map_err(|e| Error::Registry {
                registry: h.name.clone(),
                operation: op.clone(),
                status: 200,
                detail: format!("unreadable tag list: {e}"),
            })?;
            tags.extend(list.tags.unwrap_or_default());
            match next {
                Some(n) => {
                    url = url::Url::parse(&h.base)
                        .and_then(|b| b.join(&n))
                        .map_err(|e| Error::Internal(format!("bad Link header {n:?}: {e}")))?
                        .to_string()
                }
                None => break,
            }
        }
        Ok(tags)
    }
}
