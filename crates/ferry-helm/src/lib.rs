//! Helm content for Ferry, on files alone (no network code here; the planner in
//! `ferry-plan::helm` downloads and calls this crate):
//!
//! - [`index`]: repository `index.yaml` (YAML and JSON forms, as helm reads both) and the
//!   chart versions a configuration asks for (an empty `charts:` list means every chart);
//! - [`chart`]: chart archives (`.tgz`) and unpacked chart folders, subcharts included;
//! - [`values`]: helm's values coalescing (parent overrides, aliases, `condition`, `tags`,
//!   `global`), with the configuration's `valuesFiles`/`values` merged in first;
//! - [`scan`]: the images a chart deploys, with provenance and hook/test flags;
//! - [`exact`]: optional exact mode through an external `helm template`.
//!
//! Why a static scan: no Rust crate renders real charts (`include`, `tpl`, Sprig and helm's
//! scoping), helm is not packaged in Debian and CI has no Go toolchain. oc-mirror v1 renders
//! with default values and drops hooks, so it misses pre-install images a real install needs
//! (ingress-nginx's certgen) and, before PR #1038, every aliased subchart. The scan
//! over-includes rather than misses; users review the list (with where each image came from).

pub mod chart;
pub mod exact;
pub mod expr;
pub mod ignore;
pub mod index;
pub mod scan;
pub mod templates;
pub mod values;
pub mod yaml;

pub use chart::{load_archive, load_path, Chart};
pub use index::{ChartVersion, IndexFile};
pub use scan::{scan, FoundImage, Provenance, ScanResult, Unreferenced, Unresolved};
pub use yaml::Map;

use ferry_types::{Error, Result};
use std::path::Path;

/// The user's values for one chart: `valuesFiles` in order, then the inline `values` (each
/// later source wins, as `helm -f a -f b --set` does). Relative files are resolved against
/// `base` (the configuration file's folder).
pub fn user_values(values_files: &[String], inline: Option<&Map>, base: &Path) -> Result<Map> {
    let mut out = Map::new();
    for f in values_files {
        let p = base.join(f);
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(format!("values file {}", p.display()), e))?;
        let m = yaml::parse_yaml(&text, &format!("values file {}", p.display()))?;
        out = yaml::overlay(&m, &out);
    }
    if let Some(m) = inline {
        out = yaml::overlay(m, &out);
    }
    Ok(out)
}
