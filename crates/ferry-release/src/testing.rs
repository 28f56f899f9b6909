//! A [`GraphSource`] over graphs already in memory (fixture files in tests and benchmarks).

use crate::chain::GraphSource;
use crate::graph::Graph;
use async_trait::async_trait;
use ferry_types::{Error, Result};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Graphs keyed by (channel, arch); a missing key behaves like Cincinnati for an unknown
/// channel (an empty graph).
#[derive(Default)]
pub struct StaticGraphs {
    graphs: HashMap<(String, String), Arc<Graph>>,
}

impl StaticGraphs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Load a `/graph` response file for (channel, arch).
    pub fn load(&mut self, channel: &str, arch: &str, file: &Path) -> Result<&mut Self> {
        let body = std::fs::read(file).map_err(|e| Error::io(file.display(), e))?;
        let g = Graph::parse(&body, channel, arch)?;
        self.graphs.insert((channel.into(), arch.into()), Arc::new(g));
        Ok(self)
    }
}

#[async_trait]
impl GraphSource for StaticGraphs {
    async fn graph(&self, _okd: bool, channel: &str, arch: &str) -> Result<Arc<Graph>> {
        match self.graphs.get(&(channel.to_string(), arch.to_string())) {
            Some(g) => Ok(g.clone()),
            None => Ok(Arc::new(Graph::parse(br#"{"nodes":[],"edges":[]}"#, channel, arch)?)),
        }
    }
}
