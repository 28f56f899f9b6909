//! Ranged parallel download of big blobs, delivered in order.
//!
//! One HTTP connection carries a blob at whatever one connection gets: a registry (or its storage
//! backend, a CDN) serving a big layer from one goroutine, a per-connection limit, one TCP
//! window over a long path. When a `GET` answers `200` with a `Content-Length` of at least
//! [`RangedDownloads::min_size`] and `Accept-Ranges: bytes`, the rest of the blob is fetched in
//! [`RangedDownloads::chunk`]-sized `Range` requests, up to [`RangedDownloads::connections`] at a
//! time, while the first answer delivers the first chunk (it is then dropped).
//!
//! The caller still sees one ordered stream: chunk k is handed on only once chunks 0..k were,
//! so whoever hashes the stream (the copy engine's verifier) hashes the contiguous prefix as it
//! completes and the digest is still checked as the bytes flow; nothing reaches the destination
//! out of order. The extra requests use download slots of the host that are free at that moment
//! (never waiting for one: a busy host keeps one connection per blob, as before), plus the
//! blob's own slot once its first answer is done.
//!
//! Memory: at most `connections` chunks are in flight or waiting per blob, and at most
//! [`RangedDownloads::max_blobs`] blobs per host are fetched this way at once (others stream on
//! one connection), so ranged downloads hold at most `max_blobs × connections × chunk` bytes
//! (32 MiB with the defaults), plus the chunk each blob is handing on. No extra disk is used.
//!
//! Ranges only pay when one connection is slow. The first answer is therefore timed over its
//! first chunk: when that chunk came at least [`RangedDownloads::keep_single_from`] bytes per
//! second (a registry on the same LAN or host, where one connection outruns the disk and the
//! hashing), the rest of the blob stays on that connection and no range request is sent; each
//! range request would only cost the registry a seek and a copy and cost us another buffer copy
//! (measured on loopback: a 1 GiB layer took 0.7 s longer to mirror to disk by ranges). A slower
//! first chunk (a far registry, a per-connection limit, TCP slow start over a long path) starts
//! the range requests.
//!
//! A lost chunk costs one chunk: a body cut short is fetched again (with the client's retry
//! budget and backoff). A server that advertises ranges but answers a range request with `200`
//! (a proxy that drops `Range`) gets no more range requests: that answer becomes the rest of the
//! stream, with the bytes already delivered skipped, so the download continues on one connection.

use crate::client::{Host, Registry};
use crate::errors::{self, status_error};
use crate::request::Req;
use bytes::{Bytes, BytesMut};
use ferry_types::{BlobStream, Digest, Error, Result};
use futures::{Stream, StreamExt};
use reqwest::header::{ACCEPT_RANGES, CONTENT_RANGE, RANGE};
use reqwest::{Method, StatusCode};
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinHandle;

/// When and how blobs are downloaded by ranges (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangedDownloads {
    /// Blobs at least this big are fetched by ranges; 0 turns ranged downloads off.
    pub min_size: u64,
    /// Bytes per range request.
    pub chunk: u64,
    /// Range requests in flight (or chunks waiting to be handed on) per blob.
    pub connections: usize,
    /// Blobs fetched by ranges at the same time, per host.
    pub max_blobs: usize,
    /// Bytes per second: a first chunk that arrives at least this fast keeps the whole blob on
    /// its one connection (see the module docs). 0 always uses ranges.
    pub keep_single_from: u64,
}

impl Default for RangedDownloads {
    fn default() -> Self {
        RangedDownloads {
            min_size: 64 << 20,
            chunk: 4 << 20,
            connections: 4,
            max_blobs: 2,
            // Half of what a 1 GbE link carries: a connection that fast is on a LAN (or the
            // same host), where more connections add overhead and no speed. The first chunk is
            // timed as we read it, so our own writing and hashing slow it too (loopback:
            // 140 MiB/s over the first 4 MiB of a 1 GiB layer, 2.7 GiB/s for curl alone).
            keep_single_from: 64 << 20,
        }
    }
}

impl RangedDownloads {
    /// The most bytes ranged downloads hold in memory at once, per host.
    pub fn memory_bound(&self) -> u64 {
        self.max_blobs as u64 * self.connections as u64 * self.chunk
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// What one range request brought back.
enum Fetched {
    Chunk(Bytes),
    /// The server ignored `Range` and sent the whole blob from byte 0.
    Whole(reqwest::Response),
}

/// Where the ordered stream is.
enum Phase {
    /// The first answer delivers `[0, first_len)`; it holds the blob's lane. `since`: when its
    /// first piece arrived, to time the first chunk (not from the answer's arrival: the
    /// consumer may start reading it later, when the destination is ready).
    First {
        body: ByteStream,
        _lane: OwnedSemaphorePermit,
        since: Option<std::time::Instant>,
    },
    Chunks,
    /// One stream from `skip` on (after a `200` to a range request).
    Single(ByteStream, u64),
    Done,
}

struct Ranged {
    reg: Registry,
    host: Arc<Host>,
    repo: String,
    digest: Digest,
    total: u64,
    first_len: u64,
    opts: RangedDownloads,
    /// Offset of the next chunk to request.
    next: u64,
    /// Bytes handed on so far.
    delivered: u64,
    /// Chunk requests in order of their offsets.
    queue: VecDeque<JoinHandle<Result<Fetched>>>,
    /// The blob's own download slot as one permit: the first answer holds it, then chunk
    /// requests take it when no other slot of the host is free.
    lane: Arc<Semaphore>,
    phase: Phase,
    /// The host download slot this blob holds for its whole life, and its ranged-blob permit.
    _held: (OwnedSemaphorePermit, OwnedSemaphorePermit),
}

impl Drop for Ranged {
    fn drop(&mut self) {
        for t in &self.queue {
            t.abort();
        }
    }
}

fn io_err(host: &str, d: &Digest, kind: std::io::ErrorKind, msg: String) -> std::io::Error {
    std::io::Error::new(kind, format!("{host}: reading blob {d}: {msg}"))
}

fn reqwest_io(host: &str, d: &Digest, e: &reqwest::Error) -> std::io::Error {
    let kind = if e.is_timeout() {
        std::io::ErrorKind::TimedOut
    } else {
        std::io::ErrorKind::ConnectionReset
    };
    io_err(host, d, kind, errors::chain(e))
}

/// Whether a `200` answer to a blob `GET` should continue as a ranged download.
pub(crate) fn wants_ranges(opts: &RangedDownloads, resp: &reqwest::Response) -> Option<u64> {
    if opts.min_size == 0 || opts.connections < 2 || opts.chunk == 0 || resp.status() != StatusCode::OK {
        return None;
    }
    let size = resp.content_length()?;
    let ranges = resp
        .headers()
        .get(ACCEPT_RANGES)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("bytes"));
    (ranges && size >= opts.min_size && size > opts.chunk).then_some(size)
}

/// Turns the `200` answer of a big blob into an ordered ranged stream, or gives the answer back
/// when no ranged-blob permit of the host is free (it then streams on one connection).
pub(crate) fn start(
    reg: &Registry,
    host: Arc<Host>,
    repo: &str,
    digest: &Digest,
    total: u64,
    resp: reqwest::Response,
    slot: OwnedSemaphorePermit,
) -> std::result::Result<BlobStream, Box<(reqwest::Response, OwnedSemaphorePermit)>> {
    let opts = reg.client.inner.opts.ranged.clone();
    let Ok(ranged_permit) = host.ranged_blobs.clone().try_acquire_owned() else {
        return Err(Box::new((resp, slot)));
    };
    let lane = Arc::new(Semaphore::new(1));
    let first_permit = lane.clone().try_acquire_owned().expect("a new lane has its permit");
    let first_len = opts.chunk.min(total);
    tracing::debug!(registry = %host.name, %repo, %digest, total, chunk = opts.chunk, connections = opts.connections, "ranged download");
    let mut st = Ranged {
        reg: reg.clone(),
        host,
        repo: repo.to_string(),
        digest: digest.clone(),
        total,
        first_len,
        opts,
        next: first_len,
        delivered: 0,
        queue: VecDeque::new(),
        lane,
        phase: Phase::First {
            body: Box::pin(resp.bytes_stream()),
            _lane: first_permit,
            since: None,
        },
        _held: (slot, ranged_permit),
    };
    if st.opts.keep_single_from == 0 {
        // Ranges whatever the first chunk's speed: start them at once.
        st.fill();
    }
    let stream = futures::stream::unfold(st, |mut st| async move {
        let item = st.next_item().await?;
        Some((item, st))
    });
    Ok(Box::pin(stream))
}

impl Ranged {
    /// Start chunk requests while the window has room and a slot is free.
    fn fill(&mut self) {
        while self.queue.len() < self.opts.connections && self.next < self.total {
            let permit = match self.lane.clone().try_acquire_owned() {
                Ok(p) => p,
                Err(_) => match self.host.download_slots.clone().try_acquire_owned() {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let (off, len) = (self.next, self.opts.chunk.min(self.total - self.next));
            self.next += len;
            let (reg, host, repo, digest, total) = (
                self.reg.clone(),
                self.host.clone(),
                self.repo.clone(),
                self.digest.clone(),
                self.total,
            );
            self.queue.push_back(tokio::spawn(async move {
                let r = fetch_chunk(&reg, &host, &repo, &digest, off, len, total).await;
                drop(permit);
                r
            }));
        }
    }

    /// The next piece of the ordered stream (`None` at its end).
    async fn next_item(&mut self) -> Option<std::io::Result<Bytes>> {
        loop {
            match &mut self.phase {
                Phase::Done => return None,
                Phase::First { body, since, .. } => {
                    let want = self.first_len - self.delivered;
                    if want == 0 {
                        // Dropping the first answer frees the lane for a chunk request.
                        self.phase = Phase::Chunks;
                        self.fill();
                        continue;
                    }
                    match body.next().await {
                        Some(Ok(mut b)) => {
                            // Timed from the first piece on: the wait for the first byte (the
                            // registry opening the blob, a cold disk seek) says nothing of the rate.
                            let started = *since.get_or_insert_with(std::time::Instant::now);
                            let took = started.elapsed();
                            if b.len() as u64 >= want
                                && fast_enough(&self.opts, self.first_len, self.queue.is_empty(), took)
                            {
                                tracing::debug!(registry = %self.host.name, digest = %self.digest, ?took, "first chunk came fast: one connection for the whole blob");
                                let Phase::First { body, .. } = std::mem::replace(&mut self.phase, Phase::Done) else {
                                    unreachable!("matched above")
                                };
                                self.phase = Phase::Single(body, 0);
                                self.delivered += b.len() as u64;
                                return Some(Ok(b));
                            }
                            if b.len() as u64 >= want && self.queue.is_empty() {
                                tracing::debug!(registry = %self.host.name, digest = %self.digest, ?took, "first chunk came slowly: ranges for the rest");
                            }
                            if b.len() as u64 > want {
                                b.truncate(want as usize);
                            }
                            self.delivered += b.len() as u64;
                            return Some(Ok(b));
                        }
                        Some(Err(e)) => return Some(Err(self.fail(reqwest_io(&self.host.name, &self.digest, &e)))),
                        None => {
                            let e = io_err(
                                &self.host.name,
                                &self.digest,
                                std::io::ErrorKind::UnexpectedEof,
                                format!("the answer ended after {} of {} bytes", self.delivered, self.total),
                            );
                            return Some(Err(self.fail(e)));
                        }
                    }
                }
                Phase::Chunks => {
                    let Some(task) = self.queue.pop_front() else {
                        if self.delivered == self.total {
                            self.phase = Phase::Done;
                            return None;
                        }
                        // Only when no slot was free and the lane was busy; the lane is free now.
                        self.fill();
                        if self.queue.is_empty() {
                            let e = io_err(
                                &self.host.name,
                                &self.digest,
                                std::io::ErrorKind::Other,
                                "no chunk request could be started".into(),
                            );
                            return Some(Err(self.fail(e)));
                        }
                        continue;
                    };
                    let got = match task.await {
                        Ok(r) => r,
                        Err(e) => Err(Error::Internal(format!("range request task: {e}"))),
                    };
                    match got {
                        Ok(Fetched::Chunk(b)) => {
                            self.delivered += b.len() as u64;
                            self.fill();
                            return Some(Ok(b));
                        }
                        Ok(Fetched::Whole(resp)) => {
                            tracing::debug!(registry = %self.host.name, digest = %self.digest, "range request answered 200: continuing on one connection");
                            for t in self.queue.drain(..) {
                                t.abort();
                            }
                            self.phase = Phase::Single(Box::pin(resp.bytes_stream()), self.delivered);
                        }
                        Err(e) => {
                            let kind = if e.is_transient() {
                                std::io::ErrorKind::ConnectionReset
                            } else {
                                std::io::ErrorKind::Other
                            };
                            let e = std::io::Error::new(kind, e.to_string());
                            return Some(Err(self.fail(e)));
                        }
                    }
                }
                Phase::Single(body, skip) => match body.next().await {
                    Some(Ok(mut b)) => {
                        if *skip > 0 {
                            let n = (*skip).min(b.len() as u64);
                            *skip -= n;
                            b = b.slice(n as usize..);
                            if b.is_empty() {
                                continue;
                            }
                        }
                        self.delivered += b.len() as u64;
                        return Some(Ok(b));
                    }
                    Some(Err(e)) => return Some(Err(self.fail(reqwest_io(&self.host.name, &self.digest, &e)))),
                    None => {
                        self.phase = Phase::Done;
                        return None;
                    }
                },
            }
        }
    }

    /// End the stream with `e`, stopping the chunk requests.
    fn fail(&mut self, e: std::io::Error) -> std::io::Error {
        for t in self.queue.drain(..) {
            t.abort();
        }
        self.phase = Phase::Done;
        e
    }
}

/// Whether a first chunk of `first_len` bytes, complete after `took`, came fast enough to stay on
/// one connection (never once range requests are out: `idle` is false then).
fn fast_enough(opts: &RangedDownloads, first_len: u64, idle: bool, took: std::time::Duration) -> bool {
    let from = opts.keep_single_from;
    // bytes / seconds >= from, without dividing by a zero duration.
    from != 0 && idle && first_len as f64 >= from as f64 * took.as_secs_f64()
}

/// `bytes a-b/total` → (a, b, total).
fn parse_content_range(v: &str) -> Option<(u64, u64, u64)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    Some((
        a.trim().parse().ok()?,
        b.trim().parse().ok()?,
        total.trim().parse().ok()?,
    ))
}

/// One range request, read whole. A body cut short is asked for again (the client's retry
/// budget and backoff); a `200` is handed back as it is (the server ignores ranges).
async fn fetch_chunk(
    reg: &Registry,
    host: &Host,
    repo: &str,
    digest: &Digest,
    off: u64,
    len: u64,
    total: u64,
) -> Result<Fetched> {
    let op = format!(
        "GET blob {digest} in {}/{repo} (bytes {off}-{})",
        host.name,
        off + len - 1
    );
    let opts = &reg.client.inner.opts;
    let mut attempt = 0u32;
    loop {
        let req = Req::new(
            Method::GET,
            reg.url(host, &format!("{repo}/blobs/{digest}")),
            Some(repo),
            &op,
        )
        .header(RANGE, &format!("bytes={off}-{}", off + len - 1));
        let resp = reg.client.send(host, req).await?;
        match resp.status() {
            StatusCode::PARTIAL_CONTENT => {}
            StatusCode::OK => return Ok(Fetched::Whole(resp)),
            _ => return Err(status_error(&host.name, &op, Some((repo, "pull")), resp).await),
        }
        let range = resp
            .headers()
            .get(CONTENT_RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_content_range);
        if range != Some((off, off + len - 1, total)) {
            return Err(Error::Registry {
                registry: host.name.clone(),
                operation: op,
                status: 206,
                detail: format!(
                    "the answer covers {:?} instead of bytes {off}-{} of {total}",
                    resp.headers().get(CONTENT_RANGE),
                    off + len - 1
                ),
            });
        }
        let mut buf = BytesMut::with_capacity(len as usize);
        let mut body = resp.bytes_stream();
        let mut cut = None;
        while let Some(piece) = body.next().await {
            match piece {
                Ok(b) if (buf.len() + b.len()) as u64 > len => {
                    return Err(Error::Registry {
                        registry: host.name.clone(),
                        operation: op,
                        status: 206,
                        detail: format!("the answer is longer than the {len} bytes asked for"),
                    })
                }
                Ok(b) => buf.extend_from_slice(&b),
                Err(e) => {
                    cut = Some(errors::chain(&e));
                    break;
                }
            }
        }
        if cut.is_none() && buf.len() as u64 == len {
            return Ok(Fetched::Chunk(buf.freeze()));
        }
        let why = cut.unwrap_or_else(|| format!("the answer ended after {} of {len} bytes", buf.len()));
        if attempt >= opts.retries {
            return Err(Error::Io {
                path: op,
                source: std::io::Error::new(std::io::ErrorKind::ConnectionReset, why),
            });
        }
        let d = ferry_types::backoff::delay(opts.retry_base_delay, attempt, None);
        tracing::debug!(registry = %host.name, %op, %why, "chunk cut short, asking again in {d:?}");
        tokio::time::sleep(d).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_is_parsed() {
        assert_eq!(parse_content_range("bytes 0-99/1000"), Some((0, 99, 1000)));
        assert_eq!(
            parse_content_range("bytes 4194304-8388607/1073741824"),
            Some((4194304, 8388607, 1073741824))
        );
        assert_eq!(parse_content_range("bytes */1000"), None);
        assert_eq!(parse_content_range("items 0-1/2"), None);
    }

    #[test]
    fn only_a_fast_first_chunk_keeps_one_connection() {
        let o = RangedDownloads::default();
        let ms = std::time::Duration::from_millis;
        // 4 MiB in 10 ms is 400 MiB/s; in 100 ms, 40 MiB/s (the default keeps from 64 MiB/s).
        assert!(fast_enough(&o, 4 << 20, true, ms(10)));
        assert!(!fast_enough(&o, 4 << 20, true, ms(100)));
        assert!(!fast_enough(&o, 4 << 20, false, ms(10)), "ranges already out");
        let always = RangedDownloads {
            keep_single_from: 0,
            ..o
        };
        assert!(!fast_enough(&always, 4 << 20, true, ms(0)));
    }

    #[test]
    fn the_default_memory_bound_is_32_mib() {
        assert_eq!(RangedDownloads::default().memory_bound(), 32 << 20);
    }
}
