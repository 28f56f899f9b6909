//! A real CNCF distribution registry (Debian's `docker-registry`) per test, on a loopback port
//! chosen at run time, in plain HTTP, TLS (with a CA generated for the test) or htpasswd mode.

use base64::Engine as _;
use std::io::Read as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the distribution server binary is expected (Debian package `docker-registry`).
pub const REGISTRY_BIN: &str = "/usr/bin/docker-registry";

/// How to run one registry.
#[derive(Debug, Clone, Default)]
pub struct RegistryOpts {
    /// Serve HTTPS with a certificate signed by a CA made for this registry ([`RegistryServer::ca_pem_path`]).
    pub tls: bool,
    /// htpasswd basic auth with this user and password.
    pub auth: Option<(String, String)>,
    /// `storage.delete.enabled` (manifest DELETE answers 202 instead of 405).
    pub delete_enabled: bool,
}

/// A running registry; dropping it kills the process (by its PID) and removes its directories.
pub struct RegistryServer {
    child: Child,
    port: u16,
    opts: RegistryOpts,
    // Declared last so the process is gone before its files are removed.
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for RegistryServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryServer")
            .field("addr", &self.host())
            .field("tls", &self.opts.tls)
            .field("auth", &self.opts.auth.as_ref().map(|(u, _)| u))
            .field("pid", &self.child.id())
            .finish()
    }
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("ferry-testkit: cannot run {what}: {e} (is it installed? see scripts/setup.sh)"));
    assert!(
        out.status.success(),
        "ferry-testkit: {what} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes `ca.pem`, and `server.pem`/`server.key` for 127.0.0.1 signed by it, with the openssl CLI.
/// EC keys keep this fast (a few milliseconds) compared with RSA generation.
fn make_tls(dir: &Path) {
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    run(
        Command::new("openssl").args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.pem"),
            "-days",
            "3",
            "-subj",
            "/CN=Ferry Test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]),
        "openssl (test CA)",
    );
    run(
        Command::new("openssl").args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &p("server.key"),
            "-out",
            &p("server.csr"),
            "-subj",
            "/CN=127.0.0.1",
        ]),
        "openssl (server key)",
    );
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write server.ext");
    run(
        Command::new("openssl").args([
            "x509",
            "-req",
            "-in",
            &p("server.csr"),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-out",
            &p("server.pem"),
            "-days",
            "3",
            "-extfile",
            &p("server.ext"),
        ]),
        "openssl (server certificate)",
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("ferry-testkit: no free loopback port")
}

fn config_yaml(dir: &Path, port: u16, opts: &RegistryOpts) -> String {
    let d = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let mut y = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: {}\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: ferry-testkit-{port}\n",
        d("storage"),
        opts.delete_enabled
    );
    if opts.tls {
        y.push_str(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            d("server.pem"),
            d("server.key")
        ));
    }
    if opts.auth.is_some() {
        y.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: ferry-test\n    path: {}\n",
            d("htpasswd")
        ));
    }
    y
}

impl RegistryServer {
    /// A plain-HTTP registry without auth or deletes (what most end-to-end tests need).
    pub fn plain() -> RegistryServer {
        RegistryServer::start(RegistryOpts {
            tls: false,
            auth: None,
            delete_enabled: false,
        })
    }

    /// Starts a registry on a free 127.0.0.1 port and waits until it accepts connections.
    /// Panics with a clear message when `/usr/bin/docker-registry` is missing: tests never skip
    /// silently for want of a registry.
    pub fn start(opts: RegistryOpts) -> RegistryServer {
        assert!(
            Path::new(REGISTRY_BIN).exists(),
            "ferry-testkit: {REGISTRY_BIN} is missing; install it with `apt-get install docker-registry` \
             (scripts/setup.sh does). Registry tests cannot run without it."
        );
        let dir = tempfile::Builder::new()
            .prefix("ferry-registry-")
            .tempdir()
            .expect("tempdir");
        std::fs::create_dir_all(dir.path().join("storage")).expect("storage dir");
        if opts.tls {
            make_tls(dir.path());
        }
        if let Some((user, pass)) = &opts.auth {
            // bcrypt is the only htpasswd hash distribution accepts.
            let out = Command::new("htpasswd")
                .args(["-Bbn", user, pass])
                .output()
                .expect("ferry-testkit: cannot run htpasswd (apt-get install apache2-utils)");
            assert!(
                out.status.success(),
                "htpasswd failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            std::fs::write(dir.path().join("htpasswd"), &out.stdout).expect("write htpasswd");
        }
        // Another process may take the port between our probe and the registry's bind: retry.
        let mut last_log = String::new();
        for _attempt in 0..5 {
            let port = free_port();
            let config = dir.path().join("config.yml");
            std::fs::write(&config, config_yaml(dir.path(), port, &opts)).expect("write registry config");
            let log_path = dir.path().join("registry.log");
            let log = std::fs::File::create(&log_path).expect("registry log");
            let mut child = Command::new(REGISTRY_BIN)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log handle"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("ferry-testkit: cannot start {REGISTRY_BIN}: {e}"));
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(status) = child.try_wait().expect("registry status") {
                    last_log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    eprintln!("ferry-testkit: registry on port {port} exited ({status}); retrying:\n{last_log}");
                    break;
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                    && (opts.tls || http_ping(addr))
                {
                    return RegistryServer { child, port, opts, dir };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    panic!("ferry-testkit: registry on 127.0.0.1:{port} did not answer within 20 s:\n{log}");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("ferry-testkit: docker-registry failed to start five times; last log:\n{last_log}");
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` or `https://...`
    pub fn base_url(&self) -> String {
        format!("{}://{}", if self.opts.tls { "https" } else { "http" }, self.host())
    }

    pub fn is_tls(&self) -> bool {
        self.opts.tls
    }

    /// The PEM of the CA that signed this registry's certificate (TLS registries only).
    pub fn ca_pem_path(&self) -> Option<PathBuf> {
        self.opts.tls.then(|| self.dir.path().join("ca.pem"))
    }

    pub fn credentials(&self) -> Option<(String, String)> {
        self.opts.auth.clone()
    }

    /// Writes a Docker `config.json` holding this registry's credentials (an empty `auths` when
    /// the registry has none).
    pub fn write_auth_file(&self, path: &Path) {
        let mut auths = serde_json::Map::new();
        if let Some((u, p)) = &self.opts.auth {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            auths.insert(self.host(), serde_json::json!({ "auth": token }));
        }
        let doc = serde_json::json!({ "auths": auths });
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("auth file dir");
        }
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap())
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// distribution's filesystem root (blobs under `docker/registry/v2/blobs/sha256/xx/<hex>/data`).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// The registry's own log (errors only), for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A minimal blocking `GET /v2/` so `start` returns only once the HTTP handler answers.
fn http_ping(addr: SocketAddr) -> bool {
    use std::io::Write as _;
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).is_ok() && buf.starts_with(b"HTTP/1.1 ")
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
