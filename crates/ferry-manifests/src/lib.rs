//! What a run hands to the cluster administrator: `mapping.txt` and the mirror-configuration
//! resources, ready for `oc apply -f`.
//!
//! Compatibility with oc-mirror v1 (reference §5): mapping lines are `src@digest=dst:tag`; ICSPs
//! are grouped by image kind (`release` by repository, `operator` and `generic` by namespace),
//! one multi-document file where each document starts with `---`, documents sorted by name.
//! Deliberate fixes of v1's known problems: mirror entries are sorted (v1 used Go map order),
//! and an ICSP that overflows the 250 000-byte limit continues as `<kind>-1`, `<kind>-2`… (v1
//! named every overflow `<kind>-0`). Newer clusters get the same content as
//! ImageDigestMirrorSet, and images referenced by tag as ImageTagMirrorSet.
//!
//! ## Results folder and how planners add to it
//! [`write_results`]`(workspace, epoch, images, &extras)` writes `results-<epoch>/` atomically
//! (assembled under a hidden `.partial` name, renamed when complete) and returns
//! [`WrittenResults`]: the files and the [`ApplyCommands`], one `oc apply` command per cluster
//! version (ICSP before OpenShift 4.13; IDMS + ITMS from 4.13; never both).
//! Planners never edit this crate to add documents: they fill a [`ResultsExtras`]:
//!
//! ```
//! let mut extras = ferry_manifests::ResultsExtras::new();
//! extras.add_manifest("catalogSource-redhat-operator-index.yaml", "kind: CatalogSource\n"); // applied
//! extras.add_manifest("release-signatures/signature-sha256-0123456789abcdef.json", "{}\n"); // applied
//! extras.add_file("charts.txt", "podinfo-6.5.0.tgz\n"); // handed over, not applied
//! // extras.add_copy("charts/podinfo-6.5.0.tgz", "/path/to/podinfo-6.5.0.tgz"); // streamed copy
//! let dir = tempfile::tempdir().unwrap();
//! let written = ferry_manifests::write_results(dir.path(), 1700000000, &[], &extras).unwrap();
//! assert!(written.apply.from_4_13_command().unwrap().contains("catalogSource-"));
//! ```
//!
//! Which images go in is the workflow's decision (ferry-api): results cover everything mirrored
//! to the target so far, so each document name (`generic-0`…) stays stable per target and a
//! later run's file replaces an earlier one's with a superset.

use ferry_types::{ImageKind, ImageRef};

mod resources;
mod results;

pub use resources::{icsp_yaml, idms_yaml, itms_yaml, ICSP_SIZE_LIMIT};
pub use results::{
    write_results, ApplyCommands, ResultsExtras, WrittenResults, ICSP_FILE, IDMS_FILE, ITMS_FILE, MAPPING_FILE,
};

/// One mirrored image: where it came from and where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedImage {
    /// Source with its digest (and the tag it was requested by, if any).
    pub source: ImageRef,
    /// Destination `registry/userns/repo:tag` (digest optional; the source digest is preserved).
    pub dest: ImageRef,
    pub kind: ImageKind,
}

/// `mapping.txt`: one `source=destination` line per image, sorted, source digest-first,
/// destination tag-first.
pub fn mapping_txt(images: &[MappedImage]) -> String {
    let mut lines: Vec<String> = images
        .iter()
        .map(|m| {
            let dst = match (&m.dest.tag, &m.dest.digest) {
                (Some(t), _) => format!("{}:{}", m.dest.name(), t),
                (None, Some(d)) => format!("{}@{}", m.dest.name(), d),
                (None, None) => m.dest.name(),
            };
            format!("{}={}", m.source.exact(), dst)
        })
        .collect();
    lines.sort();
    lines.dedup();
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// Parse a mapping line `src=dst` (used when reading a mapping back). Rejects `==` and empties.
pub fn parse_mapping_line(line: &str) -> Result<(ImageRef, ImageRef), String> {
    let (src, dst) = line
        .split_once('=')
        .ok_or_else(|| format!("mapping line {line:?}: expected source=destination"))?;
    if dst.starts_with('=') || dst.contains('=') {
        return Err(format!("mapping line {line:?}: more than one '='"));
    }
    let s = ImageRef::parse(src).map_err(|e| format!("mapping line {line:?}: source: {}", e.reason))?;
    let d = ImageRef::parse(dst).map_err(|e| format!("mapping line {line:?}: destination: {}", e.reason))?;
    Ok((s, d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn img(src: &str, dst: &str, kind: ImageKind) -> MappedImage {
        MappedImage {
            source: ImageRef::parse(src).unwrap(),
            dest: ImageRef::parse(dst).unwrap(),
            kind,
        }
    }
    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn mapping_is_digest_first_and_sorted() {
        let a = img(
            &format!("quay.io/ns/b:v1@{D}"),
            "mirror.local:5000/x/ns/b:v1",
            ImageKind::Generic,
        );
        let b = img(
            &format!("quay.io/ns/a@{D}"),
            "mirror.local:5000/x/ns/a:e3b0c4",
            ImageKind::Generic,
        );
        let m = mapping_txt(&[a, b]);
        assert_eq!(
            m,
            format!("quay.io/ns/a@{D}=mirror.local:5000/x/ns/a:e3b0c4\nquay.io/ns/b@{D}=mirror.local:5000/x/ns/b:v1\n")
        );
        for line in m.lines() {
            let (s, d) = parse_mapping_line(line).unwrap();
            assert!(s.digest.is_some() && d.tag.is_some());
        }
        assert!(parse_mapping_line("a==b").is_err());
    }

    #[test]
    fn icsp_groups_by_namespace_and_kind() {
        let imgs = vec![
            img(
                &format!("quay.io/ns/a:v1@{D}"),
                "m.local:5000/x/ns/a:v1",
                ImageKind::Generic,
            ),
            img(
                &format!("quay.io/ns/b@{D}"),
                "m.local:5000/x/ns/b:e3b0c4",
                ImageKind::Generic,
            ),
            img(
                &format!("registry.redhat.io/rh/op@{D}"),
                "m.local:5000/x/rh/op:abc",
                ImageKind::OperatorBundle,
            ),
            img(
                &format!("quay.io/openshift-release-dev/ocp-release@{D}"),
                "m.local:5000/x/openshift/release-images:4.14.1-x86_64",
                ImageKind::OcpRelease,
            ),
        ];
        let y = icsp_yaml(&imgs);
        let docs: Vec<&str> = y.split("---\n").filter(|d| !d.is_empty()).collect();
        assert_eq!(docs.len(), 3, "{y}");
        assert!(
            docs[0].contains("name: generic-0") && docs[0].contains("source: quay.io/ns\n"),
            "{}",
            docs[0]
        );
        assert!(docs[0].contains("- m.local:5000/x/ns\n"));
        assert!(
            docs[1].contains("name: operator-0") && docs[1].contains("operators.openshift.org/catalog: 'true'"),
            "{}",
            docs[1]
        );
        assert!(
            docs[2].contains("name: release-0")
                && docs[2].contains("source: quay.io/openshift-release-dev/ocp-release\n")
        );
        let idms = idms_yaml(&imgs);
        assert!(idms.contains("kind: ImageDigestMirrorSet") && idms.contains("imageDigestMirrors:"));
        // Only the tag-requested image appears in the ITMS.
        let itms = itms_yaml(&imgs);
        assert!(
            itms.contains("kind: ImageTagMirrorSet") && itms.contains("source: quay.io/ns\n"),
            "{itms}"
        );
        assert!(!itms.contains("registry.redhat.io"));
    }

    #[test]
    fn overflow_gets_unique_names() {
        let imgs: Vec<MappedImage> = (0..4000)
            .map(|i| {
                img(
                    &format!("quay.io/ns{i}/some-fairly-long-repository-name-{i}@{D}"),
                    &format!("m.local:5000/mirror/ns{i}/some-fairly-long-repository-name-{i}:t"),
                    ImageKind::Generic,
                )
            })
            .collect();
        let y = icsp_yaml(&imgs);
        let names: Vec<&str> = y.lines().filter(|l| l.trim_start().starts_with("name: ")).collect();
        assert!(names.len() >= 2, "expected an overflow document");
        let unique: BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "names must be unique: {names:?}");
        for doc in y.split("---\n").filter(|d| !d.is_empty()) {
            assert!(doc.len() <= ICSP_SIZE_LIMIT, "document of {} bytes", doc.len());
        }
    }

    #[test]
    fn writes_results_folder_with_extras_and_apply_commands() {
        let t = tempfile::tempdir().unwrap();
        let imgs = vec![img(
            &format!("quay.io/ns/a:v1@{D}"),
            "m.local:5000/x/ns/a:v1",
            ImageKind::Generic,
        )];
        let chart = t.path().join("podinfo-6.5.0.tgz");
        std::fs::write(&chart, b"chart bytes").unwrap();
        let mut extras = ResultsExtras::new();
        extras
            .add_manifest("catalogSource-redhat-operator-index.yaml", "kind: CatalogSource\n")
            .add_copy("charts/podinfo-6.5.0.tgz", &chart)
            .add_file("charts.txt", "podinfo-6.5.0.tgz\n");
        let ws = t.path().join("ws");
        let r = write_results(&ws, 1700000000, &imgs, &extras).unwrap();
        assert!(r.dir.ends_with("results-1700000000"));
        for f in [
            "mapping.txt",
            "imageContentSourcePolicy.yaml",
            "imageDigestMirrorSet.yaml",
            "imageTagMirrorSet.yaml",
            "catalogSource-redhat-operator-index.yaml",
            "charts.txt",
        ] {
            assert!(r.dir.join(f).is_file(), "{f}");
        }
        assert_eq!(
            std::fs::read(r.dir.join("charts/podinfo-6.5.0.tgz")).unwrap(),
            b"chart bytes"
        );
        assert_eq!(r.files.len(), 7, "{:?}", r.files);
        let old = r.apply.before_4_13_command().unwrap();
        let new = r.apply.from_4_13_command().unwrap();
        assert!(
            old.contains("imageContentSourcePolicy.yaml") && !old.contains("MirrorSet"),
            "{old}"
        );
        assert!(
            new.contains("imageDigestMirrorSet.yaml") && new.contains("imageTagMirrorSet.yaml"),
            "{new}"
        );
        assert!(!new.contains("imageContentSourcePolicy"), "{new}");
        for c in [&old, &new] {
            assert!(c.contains("catalogSource-redhat-operator-index.yaml"), "{c}");
            assert!(!c.contains("charts"), "charts are handed over, not applied: {c}");
        }
        assert!(r.apply.to_text().contains("OpenShift 4.13 and later"));
        // Reading the folder back gives the same commands (the app and the m2m CLI use this).
        assert_eq!(ApplyCommands::for_dir(&r.dir).unwrap(), r.apply);
        // A second run in the same second gets its own folder; nothing half-written is left.
        let again = write_results(&ws, 1700000000, &imgs, &ResultsExtras::new()).unwrap();
        assert!(again.dir.ends_with("results-1700000001"), "{}", again.dir.display());
        let names: Vec<String> = std::fs::read_dir(&ws)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains("partial")), "{names:?}");
    }

    #[test]
    fn digest_only_results_have_no_tag_mirror_set() {
        let t = tempfile::tempdir().unwrap();
        let imgs = vec![img(
            &format!("quay.io/ns/a@{D}"),
            "m.local:5000/x/ns/a:e3b0c4",
            ImageKind::Generic,
        )];
        let r = write_results(t.path(), 1, &imgs, &ResultsExtras::new()).unwrap();
        assert!(!r.dir.join(ITMS_FILE).exists());
        assert_eq!(
            r.apply.from_4_13_command().unwrap(),
            format!("oc apply -f {}", r.dir.join(IDMS_FILE).display())
        );
    }

    #[test]
    fn oc_mirror_folder_with_only_an_icsp_applies_it_everywhere() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join(MAPPING_FILE), "a=b\n").unwrap();
        std::fs::write(t.path().join(ICSP_FILE), "---\n").unwrap();
        std::fs::write(t.path().join("catalogSource-x.yaml"), "kind: CatalogSource\n").unwrap();
        std::fs::create_dir(t.path().join("charts")).unwrap();
        std::fs::write(t.path().join("charts/x.yaml"), "not a resource\n").unwrap();
        let a = ApplyCommands::for_dir(t.path()).unwrap();
        assert_eq!(a.before_4_13, a.from_4_13);
        assert_eq!(a.before_4_13.len(), 2, "{a:?}");
        assert!(a.before_4_13[0].ends_with(ICSP_FILE));
    }

    #[test]
    fn bad_extras_are_refused_and_leave_nothing() {
        let t = tempfile::tempdir().unwrap();
        for bad in ["../escape.yaml", "/etc/passwd", "mapping.txt", ""] {
            let mut x = ResultsExtras::new();
            x.add_manifest(bad, "x");
            let e = write_results(t.path(), 5, &[], &x).unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{bad}: {e}");
            assert!(e.to_string().contains("results extra"), "{e}");
        }
        let mut dup = ResultsExtras::new();
        dup.add_manifest("a.yaml", "x").add_file("a.yaml", "y");
        assert!(write_results(t.path(), 5, &[], &dup).is_err());
        let missing = {
            let mut x = ResultsExtras::new();
            x.add_copy("charts/x.tgz", t.path().join("nope.tgz"));
            x
        };
        let e = write_results(t.path(), 5, &[], &missing).unwrap_err();
        assert!(e.to_string().contains("nope.tgz"), "{e}");
        assert_eq!(
            std::fs::read_dir(t.path()).unwrap().count(),
            0,
            "nothing half-written stays"
        );
    }
}
