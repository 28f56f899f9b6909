//! `ferry release mirror` and the release flags of `ferry mirror`, through the real binary.
//! (The release workflow itself is tested end to end in tests/tests/e2e_release_single.rs.)

mod common;

use common::{ferry, text};

#[test]
fn release_mirror_refuses_a_bad_pull_spec_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = ferry(
        &[
            "release",
            "mirror",
            "--from",
            "not a pull spec",
            "docker://127.0.0.1:9/ocp4",
        ],
        dir.path(),
    );
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("not a pull spec") && err.contains("ocp-release"), "{err}");

    // The release image must come from somewhere reachable: the error names the registry.
    let o = ferry(
        &[
            "release",
            "mirror",
            "--from",
            "127.0.0.1:9/openshift-release-dev/ocp-release:4.11.0-x86_64",
            "file://out",
            "--source-use-http",
        ],
        dir.path(),
    );
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("127.0.0.1:9"), "{err}");
    assert!(!dir.path().join("out").join("mirror_seq1_000000.tar").exists());
}

#[test]
fn release_flags_are_offered() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = text(&ferry(&["mirror", "--help"], dir.path()));
    assert!(
        out.contains("--include-conditional-edges") && out.contains("--graph-base-image"),
        "{out}"
    );
    let (out, _) = text(&ferry(&["release", "mirror", "--help"], dir.path()));
    assert!(out.contains("--from") && out.contains("--skip-verification"), "{out}");
}
