//! Shared vocabulary of the Ferry engine: image references, digests, mirror destinations,
//! media types, the typed error every transport returns, and the [`transport`] traits that
//! let the copy engine move images between registries and removable-media archives alike.
//!
//! This crate sits at the bottom of the dependency graph: it depends on no other Ferry crate.

pub mod backoff;
pub mod digest;
pub mod error;
pub mod kind;
pub mod media;
pub mod private_file;
pub mod redact;
pub mod reference;
pub mod transport;

pub use digest::{Digest, DigestError, Sha256Hasher};
pub use error::{Error, ErrorCode, Result};
pub use kind::{ImageKind, MirrorGroup};
pub use redact::redact_query_strings;
pub use reference::{Destination, ImageRef, RefError};
pub use transport::{BlobStream, ImageDestination, ImageSource, Manifest};
