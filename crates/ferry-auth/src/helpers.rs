//! docker credential helpers: `docker-credential-<name> get` reads the server URL on stdin and
//! prints `{"ServerURL","Username","Secret"}`; `Username` `<token>` marks an identity token.
//! (Protocol: github.com/docker/docker-credential-helpers.)

use crate::{Credential, Secret};
use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Mutex;

#[derive(serde::Deserialize)]
struct HelperReply {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// The server string a helper is asked about. Docker Hub is stored under its legacy URL.
fn server_url(host: &str) -> String {
    if host == "docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        host.to_string()
    }
}

/// Ask `docker-credential-<helper>` (found on `PATH`) for `host`'s credential.
/// `Ok(None)`: the helper has none. Errors name the helper and the host, never a secret.
pub fn helper_get(helper: &str, host: &str) -> Result<Option<Credential>, String> {
    if helper.is_empty() || helper.contains(['/', '\\']) {
        return Err(format!(
            "credential helper name {helper:?} is not valid (expected e.g. \"pass\", \"secretservice\")"
        ));
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!("{host}: credential helper {program} is configured but not on PATH; install it or remove it from credHelpers/credsStore")
            } else {
                format!("{host}: cannot run credential helper {program}: {e}")
            }
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading stdin gives EPIPE here; its exit status tells more.
        let _ = stdin.write_all(server_url(host).as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{host}: credential helper {program} failed: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // The protocol's "not found" answer is a normal miss, not an error.
        if stdout.contains("credentials not found") || stdout.trim().is_empty() && out.stderr.is_empty() {
            return Ok(None);
        }
        // Only the first line, shortened: enough to diagnose, too little to carry a secret blob.
        let msg = String::from_utf8_lossy(if out.stderr.is_empty() {
            &out.stdout
        } else {
            &out.stderr
        });
        let first: String = msg.lines().next().unwrap_or("").chars().take(160).collect();
        return Err(format!(
            "{host}: credential helper {program} failed ({}): {first}",
            out.status
        ));
    }
    let reply: HelperReply = serde_json::from_str(stdout.trim())
        .map_err(|_| format!("{host}: credential helper {program} printed something that is not its JSON reply"))?;
    if reply.secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(if reply.username == "<token>" {
        Credential::IdentityToken(Secret::new(reply.secret))
    } else {
        Credential::Basic {
            username: reply.username,
            password: Secret::new(reply.secret),
        }
    }))
}

/// Remembers helper answers for the life of a resolver, so a mirror run spawns each helper once
/// per registry instead of once per request.
#[derive(Default)]
pub struct HelperCache {
    answers: Mutex<HashMap<(String, String), Option<Credential>>>,
}

impl std::fmt::Debug for HelperCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HelperCache(<redacted>)")
    }
}

impl HelperCache {
    pub fn get(&self, helper: &str, host: &str) -> Result<Option<Credential>, String> {
        let key = (helper.to_string(), host.to_string());
        if let Some(hit) = self.answers.lock().expect("helper cache poisoned").get(&key) {
            return Ok(hit.clone());
        }
        let answer = helper_get(helper, host)?;
        self.answers
            .lock()
            .expect("helper cache poisoned")
            .insert(key, answer.clone());
        Ok(answer)
    }
}
