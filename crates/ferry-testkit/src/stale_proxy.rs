//! A loopback TCP front for a real docker-registry that closes a kept-alive connection the moment
//! the next request arrives on it. Each connection carries one request and its answer; the first
//! bytes of a second request make the front drop both ends without an answer. That is the race a
//! server's or proxy's idle timeout causes when it closes a connection just as the client takes
//! it from its pool ("connection closed before message completed"), made to happen every time.
//!
//! Bytes pass through unchanged (the registry builds upload locations from the `Host` header,
//! which names the front), so uploads, manifests and blobs work as against the registry itself.

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub struct StaleFront {
    port: u16,
    killed: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl StaleFront {
    /// Start the front for a plain-HTTP registry at `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> StaleFront {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let killed = Arc::new(Mutex::new(Vec::new()));
        let (upstream, log) = (upstream.to_string(), killed.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, log) = (upstream.clone(), log.clone());
                tokio::spawn(async move {
                    if let Ok(up) = TcpStream::connect(&upstream).await {
                        relay(client, up, log).await;
                    }
                });
            }
        });
        StaleFront { port, killed, task }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The first line of every request the front dropped (`PUT /v2/ns/app/blobs/uploads/… HTTP/1.1`).
    pub fn killed(&self) -> Vec<String> {
        self.killed.lock().unwrap().clone()
    }
}

impl Drop for StaleFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Both directions of one connection until either side closes, or until the client sends bytes
/// after the registry has answered (a second request): then both sockets are dropped at once.
async fn relay(mut client: TcpStream, mut up: TcpStream, killed: Arc<Mutex<Vec<String>>>) {
    let (mut cbuf, mut ubuf) = (vec![0u8; 64 << 10], vec![0u8; 64 << 10]);
    let mut answered = false;
    loop {
        tokio::select! {
            r = client.read(&mut cbuf) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                if answered {
                    let head = String::from_utf8_lossy(&cbuf[..n]);
                    killed.lock().unwrap().push(head.lines().next().unwrap_or("").to_string());
                    // Dropping a socket with unread bytes resets it, as a closing server does.
                    return;
                }
                if up.write_all(&cbuf[..n]).await.is_err() {
                    return;
                }
            }
            r = up.read(&mut ubuf) => {
                let n = match r { Ok(0) | Err(_) => return, Ok(n) => n };
                if client.write_all(&ubuf[..n]).await.is_err() {
                    return;
                }
                answered = true;
            }
        }
    }
}
