//! Release signatures: library-go's `pkg/verify` checks, with the `pgp` crate.
//!
//! A signature is an OpenPGP signed message (often compressed) whose literal data is a JSON
//! "atomic container signature". It is accepted when:
//! 1. it verifies against a key of the keyring (Red Hat release key 2 and beta key 2 built in,
//!    or the armored file in `OCP_SIGNATURE_VERIFICATION_PK`), and the signature has not expired;
//! 2. its JSON decodes with unknown fields refused, `critical.type` is
//!    `atomic container signature`, `critical.identity.docker-reference` is not empty (as in
//!    library-go, it is not compared with anything) and
//!    `critical.image.docker-manifest-digest` is the release digest.
//!
//! Like library-go (Go's `x/crypto/openpgp`), no policy is applied to the keys' own
//! self-signatures: the Red Hat keys' only user-ID binding is a 2009 SHA-1 signature.

use ferry_types::Digest;
use pgp::composed::{Deserializable, Message, SignedPublicKey};
use pgp::types::KeyDetails;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// Red Hat's public release keys (see `keys/README.md` for provenance).
pub const REDHAT_RELEASE_KEYS: &str = include_str!("../keys/redhat-release-keys.asc");
/// The environment variable naming an armored keyring that replaces the built-in keys.
pub const VERIFICATION_PK_ENV: &str = "OCP_SIGNATURE_VERIFICATION_PK";
/// `critical.type` of a release signature.
pub const SIGNATURE_TYPE: &str = "atomic container signature";

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("not an OpenPGP signed message: {0}")]
    Malformed(String),
    #[error("signed by a key that is not in the keyring ({keyring}){}", issuer.as_deref().map(|i| format!(": issuer {i}")).unwrap_or_default())]
    UnknownKey { keyring: String, issuer: Option<String> },
    #[error("the signature expired at {expired_at} (Unix seconds)")]
    Expired { expired_at: u64 },
    #[error("the signed document is not a release signature: {0}")]
    BadPayload(String),
    #[error("the signature is for {signed}, not {expected}")]
    WrongDigest { expected: String, signed: String },
    #[error("keyring {source_name}: {detail}")]
    BadKeyring { source_name: String, detail: String },
}

/// The public keys signatures are checked against.
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: Vec<SignedPublicKey>,
    /// Where the keys came from, for messages (`built-in Red Hat release keys`, a file path).
    pub source: String,
}

impl Keyring {
    /// Red Hat release key 2 and beta key 2.
    pub fn redhat() -> Keyring {
        Keyring::parse(REDHAT_RELEASE_KEYS.as_bytes(), "built-in Red Hat release keys")
            .expect("the built-in Red Hat keyring parses (covered by a test)")
    }

    /// The keyring of this run: the file in `OCP_SIGNATURE_VERIFICATION_PK` when set, else the
    /// built-in Red Hat keys.
    pub fn from_env() -> Result<Keyring, SignatureError> {
        match std::env::var_os(VERIFICATION_PK_ENV) {
            Some(p) if !p.is_empty() => {
                let path = std::path::PathBuf::from(p);
                let name = format!("{VERIFICATION_PK_ENV}={}", path.display());
                let bytes = std::fs::read(&path).map_err(|e| SignatureError::BadKeyring {
                    source_name: name.clone(),
                    detail: format!("cannot read the key file: {e}"),
                })?;
                Keyring::parse(&bytes, &name)
            }
            _ => Ok(Keyring::redhat()),
        }
    }

    /// Parse armored (`-----BEGIN PGP PUBLIC KEY BLOCK-----`) or binary public keys.
    pub fn parse(bytes: &[u8], source: &str) -> Result<Keyring, SignatureError> {
        let bad = |detail: String| SignatureError::BadKeyring {
            source_name: source.to_string(),
            detail,
        };
        let armored = bytes.windows(10).any(|w| w == b"-----BEGIN");
        let mut keys = Vec::new();
        if armored {
            let (iter, _) = SignedPublicKey::from_armor_many(bytes).map_err(|e| bad(e.to_string()))?;
            for k in iter {
                keys.push(k.map_err(|e| bad(format!("{e}; pass an armored OpenPGP public key file")))?);
            }
        } else {
            for k in SignedPublicKey::from_bytes_many(bytes).map_err(|e| bad(e.to_string()))? {
                keys.push(k.map_err(|e| bad(format!("{e}; pass an armored OpenPGP public key file")))?);
            }
        }
        if keys.is_empty() {
            return Err(bad("no public keys in it".into()));
        }
        Ok(Keyring {
            keys,
            source: source.to_string(),
        })
    }

    /// Fingerprints (upper-case hex) of the primary keys.
    pub fn fingerprints(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| hex_upper(k.fingerprint().as_bytes()))
            .collect()
    }
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// A signature that passed every check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedSignature {
    pub digest: String,
    /// `critical.identity.docker-reference` (informational only).
    pub identity: String,
    /// Fingerprint of the key that verified it.
    pub key: String,
    pub creator: Option<String>,
    pub timestamp: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    critical: Critical,
    #[serde(default)]
    optional: Option<Optional>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Critical {
    #[serde(rename = "type")]
    kind: String,
    image: CriticalImage,
    identity: CriticalIdentity,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CriticalImage {
    #[serde(rename = "docker-manifest-digest")]
    digest: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CriticalIdentity {
    #[serde(rename = "docker-reference")]
    reference: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Optional {
    #[serde(default)]
    creator: Option<String>,
    #[serde(default)]
    timestamp: Option<i64>,
}

/// Verify one signature against the keyring and the release digest.
pub fn verify(keyring: &Keyring, signature: &[u8], expected: &Digest) -> Result<VerifiedSignature, SignatureError> {
    let malformed = |e: &dyn std::fmt::Display| SignatureError::Malformed(e.to_string());
    let mut msg = Message::from_bytes(signature).map_err(|e| malformed(&e))?;
    // Compressed (ZIP/ZLIB) wrappers, possibly nested; the Red Hat signatures use one.
    for _ in 0..4 {
        if !msg.is_compressed() {
            break;
        }
        msg = msg.decompress().map_err(|e| malformed(&e))?;
    }
    if !msg.is_signed() && !msg.is_one_pass_signed() {
        return Err(SignatureError::Malformed("the message is not signed".into()));
    }
    // Reading the literal data to the end computes the hash the signature covers.
    let body = msg.as_data_vec().map_err(|e| malformed(&e))?;
    let mut verified = None;
    for key in &keyring.keys {
        if let Ok(sig) = msg.verify(key) {
            verified = Some((hex_upper(key.fingerprint().as_bytes()), sig.clone()));
            break;
        }
        for sub in &key.public_subkeys {
            if let Ok(sig) = msg.verify(sub) {
                verified = Some((hex_upper(key.fingerprint().as_bytes()), sig.clone()));
                break;
            }
        }
        if verified.is_some() {
            break;
        }
    }
    let Some((fingerprint, sig)) = verified else {
        let issuer = match &msg {
            Message::Signed { reader, .. } => reader
                .signature(0)
                .and_then(|s| s.issuer_key_id().first().map(|k| format!("{k:?}"))),
            _ => None,
        };
        return Err(SignatureError::UnknownKey {
            keyring: keyring.source.clone(),
            issuer,
        });
    };
    if let (Some(created), Some(life)) = (sig.created(), sig.signature_expiration_time()) {
        if life.as_secs() != 0 {
            let expires = created.as_secs() as u64 + life.as_secs() as u64;
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            if now > expires {
                return Err(SignatureError::Expired { expired_at: expires });
            }
        }
    }
    let p: Payload = serde_json::from_slice(&body).map_err(|e| SignatureError::BadPayload(e.to_string()))?;
    if p.critical.kind != SIGNATURE_TYPE {
        return Err(SignatureError::BadPayload(format!(
            "critical.type is {:?}, expected {SIGNATURE_TYPE:?}",
            p.critical.kind
        )));
    }
    if p.critical.identity.reference.is_empty() {
        return Err(SignatureError::BadPayload(
            "critical.identity.docker-reference is empty".into(),
        ));
    }
    if p.critical.image.digest != expected.to_string() {
        return Err(SignatureError::WrongDigest {
            expected: expected.to_string(),
            signed: p.critical.image.digest,
        });
    }
    let (creator, timestamp) = p.optional.map(|o| (o.creator, o.timestamp)).unwrap_or_default();
    Ok(VerifiedSignature {
        digest: expected.to_string(),
        identity: p.critical.identity.reference,
        key: fingerprint,
        creator,
        timestamp,
    })
}
