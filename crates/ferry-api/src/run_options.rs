//! The options of one `ferry mirror` run as one value, shared by both front ends: the CLI fills
//! it from its flags, the desktop app from its form ([`RunOptions::app`]), and the facade turns
//! it into the workflow options ([`MirrorOptions`], [`DiskOptions`], [`ImageSelection`]). The
//! mapping (which flag goes where, which flag a workflow refuses and why) lives here once, so a
//! flag cannot mean one thing in the CLI and another in the app.

use crate::disk::DiskOptions;
use crate::mirror::{ImageSelection, MirrorOptions};
use crate::registry::RegistrySettings;
use ferry_config::ImageSetConfiguration;
use ferry_types::{Destination, Error, Result};
use std::path::PathBuf;

/// Every option of a run, named after oc-mirror v1's flags.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--authfile`.
    pub authfile: Option<PathBuf>,
    /// `--ca-bundle`: extra CA certificates (PEM) added to every registry's trust.
    pub ca_bundle: Option<PathBuf>,
    pub source_skip_tls: bool,
    pub source_use_http: bool,
    pub dest_skip_tls: bool,
    pub dest_use_http: bool,
    /// `--max-per-registry`.
    pub max_per_registry: usize,
    /// `--dir`: the workspace (results, dry-run output).
    pub workspace: PathBuf,
    pub dry_run: bool,
    pub continue_on_error: bool,
    pub skip_missing: bool,
    /// `--strict-archive` (file:// only).
    pub strict_archive: bool,
    pub ignore_history: bool,
    pub skip_metadata_check: bool,
    /// `--skip-verification`: ship releases whose signature does not verify; with `--from`
    /// also skip the media's part-hash check.
    pub skip_verification: bool,
    /// `--skip-image-pin` (operator catalogs).
    pub skip_image_pin: bool,
    /// `--prune`.
    pub prune: bool,
    /// `--skip-cleanup`: refused (see [`RunOptions::check`]).
    pub skip_cleanup: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        let r = RegistrySettings::default();
        RunOptions {
            authfile: None,
            ca_bundle: None,
            source_skip_tls: false,
            source_use_http: false,
            dest_skip_tls: false,
            dest_use_http: false,
            max_per_registry: r.max_per_registry,
            workspace: MirrorOptions::default().workspace,
            dry_run: false,
            continue_on_error: false,
            skip_missing: false,
            strict_archive: false,
            ignore_history: false,
            skip_metadata_check: false,
            skip_verification: false,
            skip_image_pin: false,
            prune: false,
            skip_cleanup: false,
        }
    }
}

/// Which workflow a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Workflow {
    MirrorToMirror,
    MirrorToDisk,
    DiskToMirror,
}

impl Workflow {
    /// The workflow of a destination, and whether it imports (`--from`).
    pub fn of(destination: &Destination, from: bool) -> Result<Workflow> {
        match (destination, from) {
            (Destination::Registry { .. }, true) => Ok(Workflow::DiskToMirror),
            (Destination::Registry { .. }, false) => Ok(Workflow::MirrorToMirror),
            (Destination::Disk(_), false) => Ok(Workflow::MirrorToDisk),
            (Destination::Disk(_), true) => Err(Error::InvalidConfig(
                "--from imports into a registry: give a docker://host[/namespace] destination".into(),
            )),
        }
    }
}

impl RunOptions {
    /// The desktop app's runs: keep going past a failed image and list it in the summary (the
    /// set then does not count it as shipped, so the next run carries it).
    pub fn app(workspace: PathBuf) -> Self {
        RunOptions {
            workspace,
            continue_on_error: true,
            ..RunOptions::default()
        }
    }

    /// The flags this build cannot honour for `workflow` are refused with the reason, never
    /// silently ignored.
    pub fn check(&self, workflow: Workflow) -> Result<()> {
        if self.skip_cleanup {
            return Err(Error::InvalidConfig(
                "--skip-cleanup is not supported in this build: Ferry keeps no oc-mirror-workspace/src to clean up \
                 (blobs stream straight into the archive parts), so there is nothing it could keep; drop the flag"
                    .into(),
            ));
        }
        if self.strict_archive && workflow == Workflow::MirrorToMirror {
            return Err(Error::InvalidConfig(
                "--strict-archive limits the size of archive parts written to file://; a docker:// target gets no \
                 archive. Drop the flag"
                    .into(),
            ));
        }
        Ok(())
    }

    /// TLS, credentials and connection limits; the metadata registry's `skipTLS` comes from
    /// the image set's `storageConfig`, not from the `--source-*` flags.
    pub fn registry_settings(&self, cfg: Option<&ImageSetConfiguration>) -> RegistrySettings {
        RegistrySettings {
            authfile: self.authfile.clone(),
            source_skip_tls: self.source_skip_tls,
            source_use_http: self.source_use_http,
            dest_skip_tls: self.dest_skip_tls,
            dest_use_http: self.dest_use_http,
            ca_bundle: self.ca_bundle.clone(),
            max_per_registry: self.max_per_registry,
            ..RegistrySettings::default()
        }
        .with_storage(cfg.and_then(|c| c.storage_config.as_ref()))
    }

    /// Mirror-to-mirror (and planning) options; with the image set, its `storageConfig` and
    /// `mirror` section too.
    pub fn mirror_options(&self, cfg: Option<&ImageSetConfiguration>) -> MirrorOptions {
        let o = MirrorOptions {
            registry: self.registry_settings(cfg),
            workspace: self.workspace.clone(),
            dry_run: self.dry_run,
            continue_on_error: self.continue_on_error,
            skip_missing: self.skip_missing,
            ignore_history: self.ignore_history,
            skip_metadata_check: self.skip_metadata_check,
            prune: self.prune,
            ..MirrorOptions::default()
        };
        match cfg {
            Some(c) => o.with_config(c),
            None => o,
        }
    }

    /// Mirror-to-disk (`cfg` given) and import (`cfg` None) options.
    pub fn disk_options(&self, cfg: Option<&ImageSetConfiguration>) -> DiskOptions {
        let import = cfg.is_none();
        DiskOptions {
            registry: self.registry_settings(cfg),
            strict_archive: self.strict_archive,
            ignore_history: self.ignore_history,
            skip_metadata_check: self.skip_metadata_check,
            workspace: self.workspace.clone(),
            continue_on_error: self.continue_on_error,
            skip_missing: self.skip_missing,
            dry_run: self.dry_run,
            prune: self.prune,
            // With --from, oc-mirror's --skip-verification skips the media check before the push.
            skip_verify: import && self.skip_verification,
            ..DiskOptions::default()
        }
    }

    /// The image lists of the set, with the release and catalog switches applied.
    pub fn selection(&self, cfg: &ImageSetConfiguration) -> Result<ImageSelection> {
        let mut s = ImageSelection::from_config(cfg)?;
        s.release.skip_verification = self.skip_verification;
        s.skip_image_pin = self.skip_image_pin;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ImageSetConfiguration {
        ferry_config::parse_str(
            "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  registry:\n    imageURL: meta.example:5000/ws/meta:latest\n    skipTLS: true\nmirror:\n  additionalImages:\n  - name: quay.io/x/y:1\n",
            "isc.yaml",
        )
        .unwrap()
    }

    #[test]
    fn each_flag_reaches_the_workflow_that_uses_it() {
        let o = RunOptions {
            dest_use_http: true,
            continue_on_error: true,
            ignore_history: true,
            skip_verification: true,
            skip_image_pin: true,
            strict_archive: true,
            max_per_registry: 3,
            ..RunOptions::default()
        };
        let m = o.mirror_options(Some(&cfg()));
        assert!(m.registry.dest_use_http && m.continue_on_error && m.ignore_history);
        assert_eq!(m.registry.max_per_registry, 3);
        assert!(m.storage.is_some(), "storageConfig taken from the set");
        // storageConfig.registry.skipTLS governs the metadata registry.
        let meta = m.registry.metadata_registry.unwrap();
        assert_eq!((meta.host.as_str(), meta.skip_tls), ("meta.example:5000", true));
        let d = o.disk_options(Some(&cfg()));
        assert!(d.strict_archive && d.continue_on_error && !d.skip_verify);
        // --skip-verification skips the media check only on import.
        assert!(o.disk_options(None).skip_verify);
        let s = o.selection(&cfg()).unwrap();
        assert!(s.release.skip_verification && s.skip_image_pin);
        assert!(RunOptions::app("/ws".into()).continue_on_error);
    }

    #[test]
    fn unhonoured_flags_are_refused_with_the_reason() {
        let o = RunOptions {
            skip_cleanup: true,
            ..RunOptions::default()
        };
        assert!(o
            .check(Workflow::MirrorToDisk)
            .unwrap_err()
            .to_string()
            .contains("--skip-cleanup"));
        let o = RunOptions {
            strict_archive: true,
            ..RunOptions::default()
        };
        assert!(o
            .check(Workflow::MirrorToMirror)
            .unwrap_err()
            .to_string()
            .contains("file://"));
        assert!(o.check(Workflow::MirrorToDisk).is_ok());
        let disk = Destination::parse("file:///tmp/x").unwrap();
        assert!(Workflow::of(&disk, true).is_err());
    }
}
