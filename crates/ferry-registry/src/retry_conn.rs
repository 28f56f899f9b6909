//! One immediate retry on a new connection for a request lost to a closed keep-alive connection.
//!
//! An HTTP/1.1 server, proxy or load balancer may close a kept-alive connection just as the
//! client takes it from its pool: the request goes out and the answer is an EOF or a reset
//! (hyper's "connection closed before message completed"). Nothing was answered, and another
//! idle connection of the pool may be just as dead (servers close idle connections together), so
//! the request is sent once more at once on a connection opened for it (a client that keeps no
//! idle connection). This retry does not wait and does not count against
//! [`crate::ClientOptions::retries`]: the backoff retries of `request.rs` stay for real failures
//! (a second drop, on a new connection, goes to them as before).
//!
//! Every request this client sends with a replayable body may be repeated: GET and HEAD,
//! manifest PUT and DELETE (idempotent), and the POSTs that open an upload session or ask for a
//! mount (a session the lost request may have opened is left to expire on the registry, as
//! `cancel_upload` is best effort anyway).
//!
//! A blob upload's body is a stream that a lost attempt has consumed, often whole (the socket
//! buffers take megabytes before the reset comes back), and the import reads the media once, so
//! its caller cannot always open the source again. [`put_blob`] therefore takes two ways:
//! - a blob of at most [`REPLAY_LIMIT`] bytes goes on a pooled connection and is kept as it is
//!   sent: lost that way, the upload starts over at once with a new session on new connections
//!   from the kept bytes (then whatever of the stream the lost attempt had not taken);
//! - a bigger blob (or one of unknown size) opens connections of its own: none of them can be
//!   a kept-alive one the server is closing, and one connection set-up is little next to the
//!   blob. Its other failures go up as before (`is_transient`) for the caller to retry.
//!
//! Memory: at most `REPLAY_LIMIT` per upload in flight.

use crate::client::{Host, Registry, RegistryClient};
use bytes::Bytes;
use ferry_types::{BlobStream, Digest, Error, Result};
use futures::Stream;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

/// Bytes of an upload kept so that a lost connection can restart it without the source.
pub(crate) const REPLAY_LIMIT: usize = 1 << 20;

tokio::task_local! {
    /// Set for an upload that must not meet a kept-alive connection (a big one, or a small one
    /// starting over): every request of that `blob_put` goes on a new connection.
    static FRESH: reqwest::Client;
}

/// Sends `rb`. A request lost to a closed connection is sent once more on a new connection when
/// its body can be replayed (a streamed body cannot: see [`put_blob`]).
pub(crate) async fn send(
    client: &RegistryClient,
    host: &Host,
    rb: reqwest::RequestBuilder,
) -> reqwest::Result<reqwest::Response> {
    let (pooled, req) = rb.build_split();
    let req = req?;
    if let Ok(fresh) = FRESH.try_with(|c| c.clone()) {
        return fresh.execute(req).await;
    }
    let spare = req.try_clone();
    match pooled.execute(req).await {
        Err(e) if lost_connection(&e) => match spare {
            Some(again) => {
                tracing::debug!(
                    registry = %host.name,
                    error = %crate::errors::chain(&e),
                    "the connection closed under the request: sending it again on a new connection"
                );
                // The policy was checked when the client was built; should the CA file have gone
                // since, the pooled client (a new connection when the pool is empty) still tries.
                host.conn.fresh(client, host).unwrap_or(pooled).execute(again).await
            }
            None => Err(e),
        },
        r => r,
    }
}

/// No answer because the connection went away under the request (not a refused connection or a
/// timeout: those are the backoff retries' business).
fn lost_connection(e: &reqwest::Error) -> bool {
    if e.is_timeout() || e.is_connect() {
        return false;
    }
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err
            .downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message())
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            if matches!(
                io.kind(),
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
            ) {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

/// A host's client for requests that must not meet a kept-alive connection (a field of `Host`).
#[derive(Default)]
pub(crate) struct HostConn {
    /// A client for the host that keeps no idle connection: each request opens its own.
    fresh: OnceLock<reqwest::Client>,
}

impl HostConn {
    fn fresh(&self, client: &RegistryClient, host: &Host) -> Result<reqwest::Client> {
        if let Some(c) = self.fresh.get() {
            return Ok(c.clone());
        }
        let c = crate::client::http_builder(&client.inner.opts, client.policy(&host.name))?
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| Error::Internal(format!("cannot build the HTTP client: {e}")))?;
        Ok(self.fresh.get_or_init(|| c).clone())
    }
}

/// `blob_put` on connections no server can be closing under it (see the module docs).
pub(crate) async fn put_blob(
    reg: &Registry,
    repo: &str,
    digest: &Digest,
    size: Option<u64>,
    body: BlobStream,
) -> Result<()> {
    let host = reg.client.host(&reg.host)?;
    let small = size.is_some_and(|n| n <= REPLAY_LIMIT as u64);
    if !small {
        return match host.conn.fresh(&reg.client, &host) {
            Ok(fresh) => FRESH.scope(fresh, reg.blob_put(repo, digest, size, body)).await,
            // The CA file went away since the client was built: the pooled client still tries.
            Err(_) => reg.blob_put(repo, digest, size, body).await,
        };
    }
    let head = Arc::new(Mutex::new(Head {
        rest: body,
        kept: Vec::new(),
        taken: 0,
        spilled: false,
        source_failed: false,
        done: false,
        replaying: false,
    }));
    let err = match reg
        .blob_put(repo, digest, size, Box::pin(Recording(head.clone())))
        .await
    {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    let lost = matches!(&err, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::ConnectionReset);
    let sent = {
        let mut h = head.lock().unwrap();
        if !lost || h.spilled || h.source_failed {
            return Err(err);
        }
        // From here the lost attempt's body (should hyper still hold it) yields nothing more:
        // every byte it took is in `kept`.
        h.replaying = true;
        h.taken
    };
    let Ok(fresh) = host.conn.fresh(&reg.client, &host) else {
        return Err(err);
    };
    tracing::debug!(
        registry = %reg.host, %digest, bytes_sent = sent, error = %err,
        "the connection closed under the upload: starting it over on a new connection"
    );
    FRESH
        .scope(
            fresh,
            reg.blob_put(repo, digest, size, Box::pin(Replay { head, next: 0 })),
        )
        .await
}

/// What an upload's first attempt took from the body.
struct Head {
    rest: BlobStream,
    /// The chunks taken, while they stay within `REPLAY_LIMIT`.
    kept: Vec<Bytes>,
    taken: usize,
    /// Over the limit: `kept` was dropped and no replay is possible.
    spilled: bool,
    /// The source itself failed: a replay would not help.
    source_failed: bool,
    /// `rest` has ended (never polled again).
    done: bool,
    /// The replay owns the body now; the first attempt gets no more bytes.
    replaying: bool,
}

/// The first attempt's body: passes the chunks on and keeps them while within the bound.
struct Recording(Arc<Mutex<Head>>);

impl Stream for Recording {
    type Item = std::io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut guard = self.0.lock().unwrap();
        let h = &mut *guard;
        if h.done || h.replaying {
            return Poll::Ready(None);
        }
        match h.rest.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                h.taken += chunk.len();
                if !h.spilled {
                    if h.taken <= REPLAY_LIMIT {
                        h.kept.push(chunk.clone());
                    } else {
                        h.spilled = true;
                        h.kept = Vec::new();
                    }
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                h.source_failed = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                h.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// The restarted attempt's body: the kept chunks, then the rest of the same stream.
struct Replay {
    head: Arc<Mutex<Head>>,
    next: usize,
}

impl Stream for Replay {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = self.next;
        let mut guard = self.head.lock().unwrap();
        let h = &mut *guard;
        if let Some(slot) = h.kept.get_mut(next) {
            // Handed on once: the memory goes with it.
            let chunk = std::mem::take(slot);
            drop(guard);
            self.next += 1;
            return Poll::Ready(Some(Ok(chunk)));
        }
        if h.done {
            return Poll::Ready(None);
        }
        match h.rest.as_mut().poll_next(cx) {
            Poll::Ready(None) => {
                h.done = true;
                Poll::Ready(None)
            }
            other => other,
        }
    }
}
