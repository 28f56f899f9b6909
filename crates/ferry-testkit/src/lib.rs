//! Ferry test harness: real docker-registry instances on loopback (HTTP, TLS, htpasswd) and
//! generated images.
//!
//! ```no_run
//! # async fn f() {
//! use ferry_testkit::*;
//! let reg = RegistryServer::start(RegistryOpts { tls: true, auth: Some(("u".into(), "p".into())), delete_enabled: false });
//! let spec = ImageSpec { format: ImageFormat::Oci, layers: vec![LayerSpec { size: 1 << 20, seed: 1 }], platforms: vec![] };
//! let img = push_image(&reg, "ns/app", "v1", &spec).await;
//! assert_eq!(manifest_digest(&reg, "ns/app", "v1").await, Some(img.digest));
//! # }
//! ```
//!
//! [`release`] builds signed OpenShift releases (release image, components, key, signature,
//! graph and signature servers) for the release suites and the release benchmark.
//!
//! The harness never uses ferry-registry: it pushes and reads with its own plain HTTP calls.

mod catalog;
mod catalog_read;
pub mod counting;
mod fixtures;
pub mod httpd;
mod image;
pub mod presigned;
pub mod release;
mod server;
pub mod stale_proxy;

pub use catalog::{
    catalog_image_refs, push_catalog_image, rewrite_catalog_images, save_oci_layout, PushedCatalog, CONFIGS_LABEL,
};
pub use catalog_read::{bundle_names, catalog_index_json, fbc_folder};
pub use fixtures::{fixture, fixtures};

pub use image::{
    blob_digest, get_blob, get_manifest, manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, PushedImage,
};
pub use server::{RegistryOpts, RegistryServer, REGISTRY_BIN};
