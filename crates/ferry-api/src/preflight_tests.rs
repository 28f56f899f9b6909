//! Unit tests of the guided flow's checks (the real-registry ones are in tests/tests/guided_preflight.rs).

use super::*;
use crate::wire::{PlanGroup, PlanImage, SourceKind};

fn plan(total: u64, sources: &[&str]) -> PlanSummary {
    PlanSummary {
        groups: vec![PlanGroup {
            kind: SourceKind::Additional,
            images: sources
                .iter()
                .map(|s| PlanImage {
                    source: s.to_string(),
                    destination: String::new(),
                    digest: None,
                    bytes: None,
                })
                .collect(),
        }],
        blocked: vec![],
        total_bytes: total,
        archive_size_bytes: None,
        parts: 1,
        destination: None,
        fits: None,
        releases: vec![],
    }
}

fn fat(path: &str) -> DestinationInfo {
    DestinationInfo {
        folder: FolderInfo {
            path: path.into(),
            exists: true,
            writable: true,
            free_bytes: 32 << 30,
            total_bytes: 32 << 30,
        },
        fs_type: "vfat".into(),
        max_file_bytes: Some(preflight_fs::FAT_MAX_FILE),
    }
}

#[test]
fn plural_forms() {
    assert_eq!(plural(1, "image"), "1 image");
    assert_eq!(plural(0, "image"), "0 images");
    assert_eq!(plural(2, "part"), "2 parts");
}

#[test]
fn registries_of_a_plan_are_its_source_hosts_once_each() {
    let p = plan(
        0,
        &["quay.io/a/b:1", "quay.io/a/c@sha256:00", "127.0.0.1:5000/e2e/app:1"],
    );
    assert_eq!(
        source_registries(&p),
        vec!["127.0.0.1:5000".to_string(), "quay.io".to_string()]
    );
}

#[test]
fn a_fat32_stick_refuses_parts_over_4_gib_and_offers_an_archive_size() {
    let yaml = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\narchiveSize: 8\n";
    let c = filesystem_check(&fat("/media/usb"), Some(yaml), &plan(10 << 30, &[]));
    assert_eq!(c.state, CheckState::Error);
    assert_eq!(c.fix, Some(FixAction::SetArchiveSize));
    assert_eq!(c.suggested_archive_size, Some(3));
    assert!(c.detail.contains("archiveSize 8"), "{}", c.detail);
    assert!(c.detail.contains("4 parts"), "{}", c.detail);
    // A small export fits whatever archiveSize says (its one part is small).
    let small = filesystem_check(&fat("/media/usb"), Some(yaml), &plan(100 << 20, &[]));
    assert_eq!(small.state, CheckState::Ok, "{}", small.detail);
    // archiveSize unset means oc-mirror's 500 GiB: a big export needs the fix too.
    let unset = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\n";
    let c = filesystem_check(&fat("/media/usb"), Some(unset), &plan(5 << 30, &[]));
    assert_eq!(c.state, CheckState::Error);
    // With the suggested size the parts fit.
    let fixed = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\narchiveSize: 3\n";
    assert_eq!(
        filesystem_check(&fat("/m"), Some(fixed), &plan(10 << 30, &[])).state,
        CheckState::Ok
    );
}

#[test]
fn destination_problems_name_the_folder_and_offer_another() {
    let mut checks = vec![];
    let gone = destination_checks(Some("/does/not/exist/ferry"), None, None, &mut checks);
    assert!(gone.is_none());
    assert_eq!(checks[0].state, CheckState::Error);
    assert_eq!(checks[0].fix, Some(FixAction::PickDestination));
    assert!(checks[0].title.contains("/does/not/exist/ferry"));
    let mut checks = vec![];
    destination_checks(Some("  "), None, None, &mut checks);
    assert_eq!(checks[0].title, "No destination folder");
}

#[test]
fn no_room_is_an_error_with_the_figures() {
    let dir = tempfile::tempdir().unwrap();
    let mut checks = vec![];
    // More than any test machine has free.
    let p = plan(1 << 60, &[]);
    let info = destination_checks(dir.path().to_str(), None, Some(&p), &mut checks).unwrap();
    assert!(info.folder.writable);
    let space = checks.iter().find(|c| c.id == "space").unwrap();
    assert_eq!(space.state, CheckState::Error);
    // 1 EiB plus the 1% margin, then the real free space of the temp folder.
    assert!(space.detail.starts_with("needs 1059062 TiB, "), "{}", space.detail);
    assert!(space.detail.contains(" free; pick a larger drive"), "{}", space.detail);
    assert_eq!(space.fix, Some(FixAction::PickDestination));
}

#[test]
fn format_bytes_matches_the_ui() {
    assert_eq!(format_bytes(512), "512 B");
    assert_eq!(format_bytes(1536), "1.5 KiB");
    assert_eq!(format_bytes(3 << 30), "3.0 GiB");
}
