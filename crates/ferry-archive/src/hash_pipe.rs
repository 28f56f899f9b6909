//! A sha256 computed on a thread of its own, fed the same bytes as they flow.
//!
//! A big blob written into a part is hashed twice over: its own digest (the copy engine leaves
//! that check to the writer, see `checks_digests`) and the part's sha256. Inline, those run one
//! after the other on the task that writes the part, which then sets the pace of the download. A [`HashPipe`]
//! takes one of them to another core: each piece is handed over as a [`Bytes`] (a reference
//! count, no copy) through a bounded channel, so the bytes held for it never exceed
//! [`QUEUE`] pieces and a slow hasher slows the writer instead of growing memory. Nothing is
//! skipped: the caller gets the finished hasher back and checks it before committing.
//!
//! Small blobs stay inline (a thread per blob would cost more than it saves): see [`MIN_SIZE`].

use bytes::Bytes;
use ferry_types::Sha256Hasher;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

/// Pieces waiting for the hashing thread at most.
pub const QUEUE: usize = 16;
/// Blobs smaller than this are hashed inline.
pub const MIN_SIZE: u64 = 16 << 20;

/// A hasher on its own thread, or inline when the blob is small.
pub enum HashPipe {
    Inline(Sha256Hasher),
    Thread {
        tx: Option<SyncSender<Bytes>>,
        done: Option<JoinHandle<Sha256Hasher>>,
    },
}

impl HashPipe {
    /// Continue `start` over the bytes to come; on a thread when `size` is big enough.
    pub fn new(start: Sha256Hasher, size: u64) -> HashPipe {
        if size < MIN_SIZE {
            return HashPipe::Inline(start);
        }
        let (tx, rx) = sync_channel::<Bytes>(QUEUE);
        // Kept in case no thread can be had (a resource limit): hashing inline is only slower.
        let backup = start.clone();
        let spawned = std::thread::Builder::new().name("ferry-hash".into()).spawn(move || {
            let mut h = start;
            for piece in rx {
                h.update(&piece);
            }
            h
        });
        match spawned {
            Ok(done) => HashPipe::Thread {
                tx: Some(tx),
                done: Some(done),
            },
            Err(e) => {
                tracing::debug!(error = %e, "no hashing thread; hashing inline");
                HashPipe::Inline(backup)
            }
        }
    }

    pub fn update(&mut self, piece: &Bytes) {
        match self {
            HashPipe::Inline(h) => h.update(piece),
            HashPipe::Thread { tx, .. } => {
                if let Some(t) = tx {
                    // A send fails only when the thread died; `finish` reports it.
                    let _ = t.send(piece.clone());
                }
            }
        }
    }

    /// Wait for the hasher to catch up and return it.
    pub fn finish(self) -> std::io::Result<Sha256Hasher> {
        match self {
            HashPipe::Inline(h) => Ok(h),
            HashPipe::Thread { mut tx, mut done } => {
                drop(tx.take());
                done.take()
                    .expect("joined once")
                    .join()
                    .map_err(|_| std::io::Error::other("the hashing thread stopped"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threaded_hash_equals_the_inline_one() {
        let data: Vec<u8> = (0..(MIN_SIZE as usize + 12_345))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let mut start = Sha256Hasher::new();
        start.update(b"header");
        let mut inline = start.clone();
        let mut pipe = HashPipe::new(start, data.len() as u64);
        assert!(matches!(pipe, HashPipe::Thread { .. }));
        for piece in data.chunks(1 << 20) {
            inline.update(piece);
            pipe.update(&Bytes::copy_from_slice(piece));
        }
        let threaded = pipe.finish().unwrap();
        assert_eq!(threaded.len(), inline.len());
        assert_eq!(threaded.finish(), inline.finish());
    }

    #[test]
    fn small_blobs_are_hashed_inline() {
        assert!(matches!(
            HashPipe::new(Sha256Hasher::new(), MIN_SIZE - 1),
            HashPipe::Inline(_)
        ));
    }
}
