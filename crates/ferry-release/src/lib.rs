//! OpenShift release payloads, on files and streams alone (no registry client here: images
//! are read through the `ferry-types` transport traits).
//!
//! - [`graph`]: the Cincinnati update graph (nodes, edges, conditional edges with risks).
//! - [`select`] / [`chain`]: oc-mirror v1's version selection per channel and architecture
//!   (min/max, full, shortest path, heads-only, the cross-channel chain, blocked edges), with
//!   semver comparisons and each architecture selected on its own.
//! - [`client`]: the `/graph` HTTP client (query set once, cache per channel and arch,
//!   `UPDATE_URL_OVERRIDE`, OKD upstream, proxy and TLS trust).
//! - [`signature`]: OpenPGP verification of release signatures against the built-in Red Hat
//!   keys, the signature stores, and the `release-signatures` ConfigMap.
//! - [`graphdata`]: the graph-data tarball download (`graph: true`).
//! - [`payload`]: `release-manifests/image-references` and `release-metadata` read from the
//!   release image's layers as they stream.

pub mod chain;
pub mod client;
pub mod configmap;
pub mod graph;
pub mod graphdata;
pub mod payload;
pub mod select;
pub mod signature;
pub mod sigstore;
pub mod testing;

pub use chain::{select_all, BlockedEdge, GraphSource, ReleaseSelection, SelectOptions};
pub use client::{GraphClient, HttpOptions};
pub use configmap::{signature_configmap, signature_file_name, update_service_yaml};
pub use graph::{Graph, Node, Risk};
pub use graphdata::{download_graph_data, graph_data_url, GraphData, GRAPH_DATA_URL, GRAPH_DATA_URL_ENV};
pub use payload::{read_release, Component, ReleaseContents};
pub use select::{select_channel, tag_arch, ChannelSelection, ChannelSpec, Release};
pub use signature::{verify, Keyring, SignatureError, VerifiedSignature};
pub use sigstore::{FetchedSignature, SignatureStores};
