//! One part read front to back on a thread of its own, handed on as [`Bytes`] pieces.
//!
//! The import reads every part once (see `stream_push`). Read through `tokio::fs`, each byte
//! was copied four times on its way to the socket (into tokio's buffer, into ours, into the
//! held-back chunk, through an in-memory pipe); the upload of a big blob then competed for the
//! CPU with the registry taking it, which on a small machine is what sets the import's pace.
//! Here a blocking thread reads the part into freshly allocated pieces (the kernel's copy is the
//! only one) and feeds the part's sha256 as it goes, so the async side only slices the pieces
//! (no copy) and hashes each blob. At most [`QUEUE`] pieces wait in the channel.

use bytes::Bytes;
use ferry_types::{Digest, Sha256Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// Bytes per read.
pub(super) const PIECE: usize = 1 << 20;
/// Pieces read ahead at most.
pub(super) const QUEUE: usize = 4;

/// The reading side of one part: ordered pieces, then the part's hash.
pub(super) struct PartReader {
    path: PathBuf,
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
    /// What is left of the last piece received.
    cur: Bytes,
    thread: Option<std::thread::JoinHandle<Sha256Hasher>>,
    /// Bytes handed on so far.
    pos: u64,
}

impl PartReader {
    pub fn open(path: &Path) -> std::io::Result<PartReader> {
        let mut f = std::fs::File::open(path)?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("ferry-part-read".into())
            .spawn(move || {
                let mut h = Sha256Hasher::new();
                loop {
                    let mut v = Vec::with_capacity(PIECE);
                    // `read_to_end` fills the spare capacity without zeroing it first.
                    match (&mut f).take(PIECE as u64).read_to_end(&mut v) {
                        Ok(0) => break,
                        Ok(_) => {
                            h.update(&v);
                            if tx.blocking_send(Ok(Bytes::from(v))).is_err() {
                                break; // the reader was dropped: the import stopped
                            }
                        }
                        Err(e) => {
                            let _ = tx.blocking_send(Err(e));
                            break;
                        }
                    }
                }
                h
            })?;
        Ok(PartReader {
            path: path.to_path_buf(),
            rx,
            cur: Bytes::new(),
            thread: Some(thread),
            pos: 0,
        })
    }

    /// Offset of the next byte.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// The next piece of at most `max` bytes (a slice of what was read: no copy); an error at
    /// the end of the part.
    pub async fn next(&mut self, max: u64) -> std::io::Result<Bytes> {
        if self.cur.is_empty() {
            self.cur = match self.rx.recv().await {
                Some(r) => r?,
                None => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "part ends early",
                    ))
                }
            };
        }
        let n = (self.cur.len() as u64).min(max) as usize;
        let piece = self.cur.split_to(n);
        self.pos += n as u64;
        Ok(piece)
    }

    /// Pass over `n` bytes, handing each piece to `each`.
    pub async fn over(&mut self, mut n: u64, mut each: impl FnMut(&[u8])) -> std::io::Result<()> {
        while n > 0 {
            let p = self.next(n).await?;
            each(&p);
            n -= p.len() as u64;
        }
        Ok(())
    }

    /// Read to the end of the part and return its sha256 (every byte, in order).
    pub async fn finish(mut self) -> std::io::Result<Digest> {
        self.cur = Bytes::new();
        while let Some(r) = self.rx.recv().await {
            r?;
        }
        let t = self.thread.take().expect("joined once");
        let h = tokio::task::spawn_blocking(move || t.join())
            .await
            .map_err(std::io::Error::other)?
            .map_err(|_| std::io::Error::other(format!("the reader of {} stopped", self.path.display())))?;
        Ok(h.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pieces_come_in_order_and_the_hash_covers_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("part.tar");
        let data: Vec<u8> = (0..(3 * PIECE + 777)).map(|i| (i * 13 % 251) as u8).collect();
        std::fs::write(&p, &data).unwrap();
        let mut r = PartReader::open(&p).unwrap();
        let mut got = Vec::new();
        r.over(10, |c| got.extend_from_slice(c)).await.unwrap();
        // Pieces never cross the asked-for bound.
        let b = r.next(PIECE as u64 * 2).await.unwrap();
        assert!(b.len() <= PIECE);
        got.extend_from_slice(&b);
        assert_eq!(r.pos(), got.len() as u64);
        let rest = data.len() as u64 - r.pos() - 100;
        r.over(rest, |c| got.extend_from_slice(c)).await.unwrap();
        assert_eq!(got, data[..data.len() - 100]);
        // The last 100 bytes are never handed on; the hash still covers them.
        assert_eq!(r.finish().await.unwrap(), Digest::of(&data));
    }

    #[tokio::test]
    async fn reading_past_the_end_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("short.tar");
        std::fs::write(&p, b"abc").unwrap();
        let mut r = PartReader::open(&p).unwrap();
        let e = r.over(4, |_| {}).await.unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
