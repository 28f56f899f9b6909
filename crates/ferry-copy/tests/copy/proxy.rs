//! A real TCP proxy on 127.0.0.1 in front of a registry that drops connections after a byte
//! budget and/or limits bandwidth: the network faults the engine must survive, produced on the
//! wire rather than by a mocked transport.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Clone, Copy, Default)]
pub struct Faults {
    /// The first `n` connections are cut after this many bytes flowed in `direction`.
    pub cut_first: usize,
    pub cut_after: u64,
    /// true: cut on registry→client bytes (downloads); false: client→registry (uploads).
    pub cut_downstream: bool,
    /// Registry→client bytes per second (0 = unlimited).
    pub rate: u64,
}

pub struct FaultyProxy {
    host: String,
    cuts: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultyProxy {
    pub async fn start(upstream: String, faults: Faults) -> FaultyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy on loopback");
        let host = listener.local_addr().unwrap().to_string();
        let cuts = Arc::new(AtomicUsize::new(0));
        let accepted = Arc::new(AtomicUsize::new(0));
        let cuts2 = cuts.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let n = accepted.fetch_add(1, Ordering::SeqCst);
                let faulty = n < faults.cut_first;
                let upstream = upstream.clone();
                let cuts = cuts2.clone();
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let budget = |down: bool| (faulty && faults.cut_downstream == down).then_some(faults.cut_after);
                    let up = pump(cr, sw, budget(false), 0);
                    let down = pump(sr, cw, budget(true), faults.rate);
                    // Whichever side ends (or is cut) first closes both directions, like a
                    // dropped connection would.
                    let cut = tokio::select! { c = up => c, c = down => c };
                    if cut {
                        cuts.fetch_add(1, Ordering::SeqCst);
                    }
                });
            }
        });
        FaultyProxy { host, cuts, task }
    }

    pub fn host(&self) -> String {
        self.host.clone()
    }

    /// Connections cut so far.
    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }
}

/// Copies until EOF or until the budget is spent (returns true when it cut the connection).
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    budget: Option<u64>,
    rate: u64,
) -> bool {
    let mut buf = vec![0u8; 64 * 1024];
    let mut sent = 0u64;
    let start = Instant::now();
    loop {
        let want = match budget {
            Some(b) if sent >= b => return true,
            Some(b) => ((b - sent) as usize).min(buf.len()),
            None => buf.len(),
        };
        let n = match from.read(&mut buf[..want]).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return false;
            }
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).await.is_err() {
            return false;
        }
        sent += n as u64;
        if rate > 0 {
            let due = Duration::from_secs_f64(sent as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
    }
}
