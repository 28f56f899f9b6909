//! The blob pipeline stage that hashes bytes while they flow from source to destination.
//!
//! The destination only ever sees the stream through this wrapper. When the digest or size is
//! wrong, the wrapper yields an `io::Error` *instead of* its end, so a destination that commits
//! only on a clean end of stream (registry upload, archive entry) never makes the blob visible.

use bytes::Bytes;
use ferry_types::{BlobStream, Digest, Sha256Hasher};
use futures::Stream;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Emit a progress callback at most every this many bytes or this much time.
const PROGRESS_BYTES: u64 = 1 << 20;
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// What the verifier saw; read by the engine after the destination returned, to tell a
/// corrupt source from a failing destination.
#[derive(Debug, Default, Clone)]
pub(crate) struct Verdict {
    /// Bytes that passed through.
    pub bytes: u64,
    /// Set when the stream ended and digest and size matched.
    pub verified: bool,
    /// Set when the content did not match: (actual digest or what went wrong, bytes seen).
    pub mismatch: Option<(String, u64)>,
    /// The source stream itself failed (dropped connection, read error).
    pub source_error: Option<(std::io::ErrorKind, String)>,
}

pub(crate) type VerdictCell = Arc<Mutex<Verdict>>;

pub(crate) struct VerifyingStream {
    inner: BlobStream,
    hasher: Option<Sha256Hasher>,
    /// Set when the destination hashes the body itself ([`ImageDestination::checks_digests`]):
    /// only the size is checked here, so the bytes are not hashed twice on the same task.
    ///
    /// [`ImageDestination::checks_digests`]: ferry_types::ImageDestination::checks_digests
    count_only: bool,
    seen: u64,
    expected: Digest,
    expected_size: u64,
    verdict: VerdictCell,
    on_progress: Box<dyn FnMut(u64) + Send>,
    last_emit_bytes: u64,
    last_emit_at: Instant,
    finished: bool,
}

impl VerifyingStream {
    /// `on_progress` gets the cumulative byte count, throttled to ~1 MiB / 100 ms.
    #[cfg(test)]
    pub(crate) fn new(
        inner: BlobStream,
        expected: Digest,
        expected_size: u64,
        on_progress: Box<dyn FnMut(u64) + Send>,
    ) -> (Self, VerdictCell) {
        Self::with_check(inner, expected, expected_size, on_progress, true)
    }

    /// `hash`: false when the destination checks the digest itself; sizes, source errors and
    /// progress are still tracked, and `verified` then means "every byte passed".
    pub(crate) fn with_check(
        inner: BlobStream,
        expected: Digest,
        expected_size: u64,
        on_progress: Box<dyn FnMut(u64) + Send>,
        hash: bool,
    ) -> (Self, VerdictCell) {
        let verdict = VerdictCell::default();
        let s = VerifyingStream {
            inner,
            hasher: hash.then(Sha256Hasher::new),
            count_only: !hash,
            seen: 0,
            expected,
            expected_size,
            verdict: verdict.clone(),
            on_progress,
            last_emit_bytes: 0,
            last_emit_at: Instant::now(),
            finished: false,
        };
        (s, verdict)
    }

    /// Records the mismatch and makes the error that replaces the stream's end. `actual` is
    /// `None` when bytes kept coming after a verified full-size body (the digest of the whole
    /// is then unknown).
    fn fail(&mut self, actual: Option<Digest>, size: u64) -> std::io::Error {
        self.finished = true;
        let shown = actual.as_ref().map(|d| d.to_string()).unwrap_or_else(|| {
            if size > self.expected_size {
                "more data than declared"
            } else {
                "fewer bytes than declared"
            }
            .into()
        });
        let mut v = self.verdict.lock().unwrap();
        v.verified = false;
        v.mismatch = Some((shown.clone(), size));
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "blob content does not match {}: got {shown} ({size} bytes, expected {})",
                self.expected, self.expected_size
            ),
        )
    }
}

impl VerifyingStream {
    /// The size-only path: pass the chunk on unless it runs past the declared size.
    fn count(&mut self, chunk: Bytes) -> Option<std::io::Result<Bytes>> {
        let n = self.seen + chunk.len() as u64;
        self.seen = n;
        self.verdict.lock().unwrap().bytes = n;
        if n > self.expected_size {
            return Some(Err(self.fail(None, n)));
        }
        if n == self.expected_size {
            self.verdict.lock().unwrap().verified = true;
        }
        self.emit(n);
        Some(Ok(chunk))
    }

    fn emit(&mut self, n: u64) {
        if n == self.expected_size
            || n - self.last_emit_bytes >= PROGRESS_BYTES
            || self.last_emit_at.elapsed() >= PROGRESS_INTERVAL
        {
            self.last_emit_bytes = n;
            self.last_emit_at = Instant::now();
            (self.on_progress)(n);
        }
    }
}

impl Stream for VerifyingStream {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.finished {
            return Poll::Ready(None);
        }
        match this.inner.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                if chunk.is_empty() {
                    return Poll::Ready(Some(Ok(chunk)));
                }
                if this.count_only {
                    return Poll::Ready(this.count(chunk));
                }
                let Some(hasher) = this.hasher.as_mut() else {
                    // Bytes after the declared size was reached and verified.
                    let n = this.expected_size + chunk.len() as u64;
                    return Poll::Ready(Some(Err(this.fail(None, n))));
                };
                hasher.update(&chunk);
                let n = hasher.len();
                this.verdict.lock().unwrap().bytes = n;
                if n > this.expected_size {
                    // Stop at once: a source that sends more than the descriptor says is wrong,
                    // and must not make us upload an unbounded stream.
                    let actual = this.hasher.take().unwrap().finish();
                    return Poll::Ready(Some(Err(this.fail(Some(actual), n))));
                }
                if n == this.expected_size {
                    // Decide on the last chunk, not at end of stream: an HTTP body with a
                    // Content-Length is never polled past its last byte, so a check at the end
                    // would come too late to stop the upload. Withholding the last chunk means
                    // the destination never has the whole (wrong) body.
                    let actual = this.hasher.take().unwrap().finish();
                    if actual != this.expected {
                        return Poll::Ready(Some(Err(this.fail(Some(actual), n))));
                    }
                    this.verdict.lock().unwrap().verified = true;
                }
                this.emit(n);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.finished = true;
                this.verdict.lock().unwrap().source_error = Some((e.kind(), e.to_string()));
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                this.finished = true;
                if this.count_only {
                    let n = this.seen;
                    if n != this.expected_size {
                        return Poll::Ready(Some(Err(this.fail(None, n))));
                    }
                    this.verdict.lock().unwrap().verified = true;
                    (this.on_progress)(n);
                    return Poll::Ready(None);
                }
                if let Some(hasher) = this.hasher.take() {
                    // Short body (or an empty blob, which has no last chunk to decide on).
                    let n = hasher.len();
                    let actual = hasher.finish();
                    if actual != this.expected || n != this.expected_size {
                        return Poll::Ready(Some(Err(this.fail(Some(actual), n))));
                    }
                    this.verdict.lock().unwrap().verified = true;
                    (this.on_progress)(n);
                }
                Poll::Ready(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn stream_of(chunks: Vec<std::io::Result<Bytes>>) -> BlobStream {
        Box::pin(futures::stream::iter(chunks))
    }

    async fn drain(mut s: VerifyingStream) -> (Vec<u8>, Option<std::io::Error>) {
        let mut out = Vec::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(b) => out.extend_from_slice(&b),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    #[tokio::test]
    async fn passes_matching_content_and_reports_progress() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let chunks = data.chunks(64 * 1024).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let (s, verdict) = VerifyingStream::new(
            stream_of(chunks),
            Digest::of(&data),
            data.len() as u64,
            Box::new(move |n| seen2.lock().unwrap().push(n)),
        );
        let (out, err) = drain(s).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, data);
        let v = verdict.lock().unwrap().clone();
        assert!(v.verified);
        assert!(v.mismatch.is_none());
        let seen = seen.lock().unwrap();
        assert_eq!(
            *seen.last().unwrap(),
            data.len() as u64,
            "final progress is the full size"
        );
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "progress is cumulative: {seen:?}");
        assert!(seen.len() >= 3, "at least one event per MiB: {seen:?}");
    }

    #[tokio::test]
    async fn corrupt_content_errors_before_the_end() {
        let good = b"hello world".to_vec();
        let mut bad = good.clone();
        bad[0] ^= 1;
        let (s, verdict) = VerifyingStream::new(
            stream_of(vec![Ok(Bytes::from(bad.clone()))]),
            Digest::of(&good),
            good.len() as u64,
            Box::new(|_| {}),
        );
        let (_, err) = drain(s).await;
        let err = err.expect("a mismatch must surface as an error instead of a clean end");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
        assert!(err.to_string().contains(&Digest::of(&good).to_string()), "{err}");
        let v = verdict.lock().unwrap().clone();
        assert!(!v.verified);
        assert_eq!(v.mismatch, Some((Digest::of(&bad).to_string(), bad.len() as u64)));
    }

    #[tokio::test]
    async fn a_corrupt_last_chunk_is_withheld() {
        // A Content-Length body is never polled past its last byte, so the verdict must come
        // with the last chunk: the destination gets the first chunk, then an error.
        let good = vec![7u8; 100];
        let mut bad = good.clone();
        bad[90] = 8;
        let (s, verdict) = VerifyingStream::new(
            stream_of(vec![
                Ok(Bytes::copy_from_slice(&bad[..50])),
                Ok(Bytes::copy_from_slice(&bad[50..])),
            ]),
            Digest::of(&good),
            100,
            Box::new(|_| {}),
        );
        let mut s = s;
        assert_eq!(s.next().await.unwrap().unwrap().len(), 50);
        let second = s.next().await.unwrap();
        assert!(second.is_err(), "the last chunk must be replaced by an error");
        assert!(verdict.lock().unwrap().mismatch.is_some());

        // A matching body is verified as soon as its last byte passes, before the end of stream.
        let (mut s, verdict) = VerifyingStream::new(
            stream_of(vec![
                Ok(Bytes::copy_from_slice(&good)),
                Ok(Bytes::from_static(b"extra")),
            ]),
            Digest::of(&good),
            100,
            Box::new(|_| {}),
        );
        assert_eq!(s.next().await.unwrap().unwrap().len(), 100);
        assert!(verdict.lock().unwrap().verified);
        assert!(
            s.next().await.unwrap().is_err(),
            "bytes past the declared size fail the blob"
        );
        assert!(!verdict.lock().unwrap().verified);
    }

    #[tokio::test]
    async fn empty_blob_is_verified_at_the_end() {
        let (s, verdict) = VerifyingStream::new(stream_of(vec![]), Digest::of(b""), 0, Box::new(|_| {}));
        let (out, err) = drain(s).await;
        assert!(out.is_empty() && err.is_none());
        assert!(verdict.lock().unwrap().verified);
    }

    #[tokio::test]
    async fn oversize_and_short_streams_fail() {
        let data = b"0123456789".to_vec();
        // Longer than the descriptor: fails as soon as the excess arrives.
        let (s, verdict) = VerifyingStream::new(
            stream_of(vec![
                Ok(Bytes::from(data.clone())),
                Ok(Bytes::from_static(b"never read")),
            ]),
            Digest::of(&data[..4]),
            4,
            Box::new(|_| {}),
        );
        let (out, err) = drain(s).await;
        assert!(err.is_some());
        assert!(out.is_empty(), "the oversize chunk is not passed on");
        assert_eq!(verdict.lock().unwrap().mismatch.as_ref().unwrap().1, 10);

        // Shorter than the descriptor (truncated): fails at the end.
        let (s, _) = VerifyingStream::new(
            stream_of(vec![Ok(Bytes::from(data.clone()))]),
            Digest::of(&data),
            11,
            Box::new(|_| {}),
        );
        assert!(drain(s).await.1.is_some());
    }

    #[tokio::test]
    async fn count_only_checks_sizes_but_not_content() {
        // The destination hashes: a wrong body of the right size passes here (the destination
        // refuses it), a short or long one does not.
        let (s, verdict) = VerifyingStream::with_check(
            stream_of(vec![Ok(Bytes::from_static(b"abc")), Ok(Bytes::from_static(b"xyz"))]),
            Digest::of(b"abcdef"),
            6,
            Box::new(|_| {}),
            false,
        );
        let (out, err) = drain(s).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(out, b"abcxyz");
        let v = verdict.lock().unwrap().clone();
        assert!(v.verified && v.mismatch.is_none());
        assert_eq!(v.bytes, 6);

        let (s, verdict) = VerifyingStream::with_check(
            stream_of(vec![Ok(Bytes::from_static(b"abc"))]),
            Digest::of(b"abcdef"),
            6,
            Box::new(|_| {}),
            false,
        );
        let err = drain(s).await.1.expect("a short body fails");
        assert!(err.to_string().contains("fewer bytes than declared"), "{err}");
        assert_eq!(verdict.lock().unwrap().mismatch.as_ref().unwrap().1, 3);

        let (s, verdict) = VerifyingStream::with_check(
            stream_of(vec![Ok(Bytes::from_static(b"abcdefg"))]),
            Digest::of(b"abcdef"),
            6,
            Box::new(|_| {}),
            false,
        );
        let (out, err) = drain(s).await;
        assert!(out.is_empty() && err.is_some(), "the oversize chunk is not passed on");
        assert!(!verdict.lock().unwrap().verified);
    }

    #[tokio::test]
    async fn source_errors_are_recorded() {
        let (s, verdict) = VerifyingStream::new(
            stream_of(vec![
                Ok(Bytes::from_static(b"abc")),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "peer reset")),
            ]),
            Digest::of(b"abcdef"),
            6,
            Box::new(|_| {}),
        );
        let (out, err) = drain(s).await;
        assert_eq!(out, b"abc");
        assert_eq!(err.unwrap().kind(), std::io::ErrorKind::ConnectionReset);
        let v = verdict.lock().unwrap().clone();
        assert_eq!(v.source_error.unwrap().0, std::io::ErrorKind::ConnectionReset);
        assert!(v.mismatch.is_none());
    }
}
