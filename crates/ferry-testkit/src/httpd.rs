//! A tiny real HTTP/1.1 server on 127.0.0.1 for behaviours docker-registry cannot show on demand
//! (update services, signature stores, chart repositories, 503/429 bursts, bearer-token auth,
//! concurrency counting). One request per connection. Tests start it on loopback.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path with query string.
    pub target: String,
    /// Lower-cased names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, body: &str) -> Self {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }
    pub fn bytes(status: u16, body: Vec<u8>) -> Self {
        Response {
            status,
            headers: vec![],
            body,
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
}

type Handler = Arc<dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync>;

pub struct Httpd {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Httpd {
    /// A static file server: each request target (path) answers its bytes, anything else 404.
    pub async fn serve_files(files: std::collections::BTreeMap<String, Vec<u8>>) -> Httpd {
        let files = Arc::new(files);
        Httpd::start(move |r: Request| {
            let files = files.clone();
            async move {
                match files.get(&r.target) {
                    Some(b) => Response::bytes(200, b.clone()),
                    None => Response::new(404, "not found"),
                }
            }
        })
        .await
    }

    pub async fn start<F, Fut>(handler: F) -> Httpd
    where
        F: Fn(Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        let handler: Handler = Arc::new(move |r| Box::pin(handler(r)));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let handler = handler.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut tmp = [0u8; 4096];
                    let head_end = loop {
                        let Ok(n) = sock.read(&mut tmp).await else { return };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&tmp[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i;
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                    let mut lines = head.split("\r\n");
                    let mut first = lines.next().unwrap_or("").split(' ');
                    let method = first.next().unwrap_or("").to_string();
                    let target = first.next().unwrap_or("").to_string();
                    let headers: HashMap<String, String> = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                        .collect();
                    // Read a (small) request body so the handler can look at it.
                    let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                    let mut body = buf[head_end + 4..].to_vec();
                    while body.len() < len {
                        let Ok(n) = sock.read(&mut tmp).await else { return };
                        if n == 0 {
                            break;
                        }
                        body.extend_from_slice(&tmp[..n]);
                    }
                    let resp = handler(Request {
                        method: method.clone(),
                        target,
                        headers,
                        body,
                    })
                    .await;
                    if resp.status == 0 {
                        // Status 0: drop the connection without an answer (a flaky network).
                        return;
                    }
                    let mut out = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", resp.status);
                    for (k, v) in &resp.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    let body = if method == "HEAD" { &[][..] } else { &resp.body[..] };
                    out.push_str(&format!("Content-Length: {}\r\n\r\n", resp.body.len()));
                    let _ = sock.write_all(out.as_bytes()).await;
                    let _ = sock.write_all(body).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Httpd { port, task }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Httpd {
    fn drop(&mut self) {
        self.task.abort();
    }
}
