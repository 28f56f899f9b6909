//! Release files from the real 4.12.0 payload metadata in the shared fixtures.

use ferry_release::payload::{parse_image_references, parse_release_metadata};

const DIR: &str =
    "release/oc-mirror/tests/unit/testdata/working-dir-fake/hold-release/ocp-release/4.14.1-x86_64/release-manifests";

#[test]
fn real_image_references_and_release_metadata() {
    let Some(dir) = ferry_testkit::fixture(DIR) else { return };
    let refs = std::fs::read(dir.join("image-references")).unwrap();
    let (version, comps) = parse_image_references(&refs, "4.12.0 payload").unwrap();
    assert_eq!(version, "4.12.0", "the fixture's content is 4.12.0 despite its path");
    assert_eq!(comps.len(), 183);
    assert!(comps.iter().all(|c| c
        .image
        .starts_with("quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:")));
    assert!(comps.iter().any(|c| c.name == "etcd"));
    let meta = parse_release_metadata(&std::fs::read(dir.join("release-metadata")).unwrap(), "x").unwrap();
    assert_eq!(
        (meta.kind.as_str(), meta.version.as_str()),
        ("cincinnati-metadata-v0", "4.12.0")
    );
    assert_eq!(meta.previous.len(), 21);
}

#[test]
fn bad_image_references_name_the_release_and_the_tag() {
    let e = parse_image_references(br#"{"kind":"List","apiVersion":"v1"}"#, "release 4.1.0")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("release 4.1.0") && e.contains("expected kind ImageStream"),
        "{e}"
    );
    let unpinned = br#"{"kind":"ImageStream","apiVersion":"image.openshift.io/v1","metadata":{"name":"4.1.0"},
        "spec":{"tags":[{"name":"etcd","from":{"kind":"DockerImage","name":"quay.io/x/etcd:latest"}}]}}"#;
    let e = parse_image_references(unpinned, "release 4.1.0")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("spec.tags[0] (etcd)") && e.contains("not pinned by digest"),
        "{e}"
    );
    let e = parse_image_references(b"not json", "release 4.1.0")
        .unwrap_err()
        .to_string();
    assert!(e.contains("release-manifests/image-references: not JSON"), "{e}");
}
