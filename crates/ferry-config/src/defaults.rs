//! The one place where defaults are applied. Parsing keeps the configuration as written;
//! everything that needs effective values goes through here.

use crate::types::{ImageSetConfiguration, Platform, PlatformType};

/// oc-mirror's archive size when `archiveSize` is unset or 0, in GiB.
pub const DEFAULT_ARCHIVE_SIZE_GIB: u64 = 500;
/// Architecture mirrored when release channels are listed without `architectures`.
pub const DEFAULT_ARCHITECTURE: &str = "amd64";
const GIB: u64 = 1024 * 1024 * 1024;

/// Effective archive size in GiB (`archiveSize` unset or 0 → 500).
pub fn archive_size_gib(written: Option<u64>) -> u64 {
    match written {
        None | Some(0) => DEFAULT_ARCHIVE_SIZE_GIB,
        Some(n) => n,
    }
}

/// Effective architectures of a platform section: as written, or `[amd64]` when channels are
/// listed without architectures (oc-mirror's rule; no channels → nothing to default).
pub fn architectures(platform: &Platform) -> Vec<String> {
    if platform.architectures.is_empty() && !platform.channels.is_empty() {
        vec![DEFAULT_ARCHITECTURE.to_string()]
    } else {
        platform.architectures.clone()
    }
}

impl ImageSetConfiguration {
    /// A copy with every default made explicit: `archiveSize`, platform `architectures`, and each
    /// channel's `type` (ocp). Use it for planning; write the original back to disk.
    pub fn with_defaults(&self) -> ImageSetConfiguration {
        let mut cfg = self.clone();
        cfg.archive_size = Some(archive_size_gib(self.archive_size));
        if let Some(p) = cfg.mirror.platform.as_mut() {
            p.architectures = architectures(p);
            for c in &mut p.channels {
                c.platform_type.get_or_insert(PlatformType::Ocp);
            }
        }
        cfg
    }

    /// Effective archive size in GiB.
    pub fn archive_size_gib(&self) -> u64 {
        archive_size_gib(self.archive_size)
    }

    /// Effective archive size in bytes (GiB × 1024³), saturating on absurd values.
    pub fn archive_size_bytes(&self) -> u64 {
        self.archive_size_gib().saturating_mul(GIB)
    }
}

impl Platform {
    /// Effective architectures (see [`architectures`]).
    pub fn effective_architectures(&self) -> Vec<String> {
        architectures(self)
    }
}
