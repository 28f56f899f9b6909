//! `layer_from_tarball`: a tarball's entries moved under a folder, read back from the written
//! layer (digests recomputed from the file, entries listed with their owners and modes).

use ferry_imagebuild::{layer_from_tarball, read_layer_files};
use ferry_types::Digest;
use std::io::Read;

fn tarball(entries: &[(&str, tar::EntryType, &[u8], u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (p, kind, data, mode) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_uid(1000);
        h.set_mtime(1_700_000_000);
        if *kind == tar::EntryType::Link {
            h.set_link_name("channels/stable-4.9.yaml").unwrap();
        }
        // `append_data` would normalise the path; the raw header keeps "./" and ".." as given.
        let name = p.as_bytes();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

fn graph_data() -> Vec<u8> {
    tarball(&[
        ("./", tar::EntryType::Directory, b"", 0o775),
        ("./version", tar::EntryType::Regular, b"1.0.0\n", 0o664),
        ("./channels/", tar::EntryType::Directory, b"", 0o775),
        (
            "./channels/stable-4.9.yaml",
            tar::EntryType::Regular,
            b"name: stable-4.9\nversions:\n- 4.9.0\n",
            0o664,
        ),
        ("./hack/check.sh", tar::EntryType::Regular, b"#!/bin/sh\n", 0o775),
    ])
}

#[test]
fn entries_move_under_the_prefix_root_owned_with_digests_of_the_written_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let input = graph_data();
    let r = layer_from_tarball(
        &input[..],
        "var/lib/cincinnati-graph-data",
        "graph-data.tar.gz",
        dir.path(),
        "ferry: graph data",
    )
    .unwrap();
    assert_eq!(r.files, 3);
    let gz = std::fs::read(r.layer.file.path()).unwrap();
    assert_eq!(Digest::of(&gz), r.layer.digest);
    assert_eq!(gz.len() as u64, r.layer.size);
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut raw).unwrap();
    assert_eq!(Digest::of(&raw), r.layer.diff_id);

    let mut ar = tar::Archive::new(&raw[..]);
    let mut seen = Vec::new();
    for e in ar.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        assert_eq!((h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap()), (0, 0, 0));
        seen.push((e.path().unwrap().to_string_lossy().into_owned(), h.mode().unwrap()));
    }
    let p = "var/lib/cincinnati-graph-data";
    assert_eq!(
        seen,
        vec![
            ("var/".to_string(), 0o755),
            ("var/lib/".into(), 0o755),
            (format!("{p}/"), 0o755),
            (format!("{p}/version"), 0o644),
            (format!("{p}/channels/"), 0o755),
            (format!("{p}/channels/stable-4.9.yaml"), 0o644),
            (format!("{p}/hack/"), 0o755),
            (format!("{p}/hack/check.sh"), 0o755),
        ]
    );
    let files = read_layer_files(&gz[..]).unwrap();
    assert_eq!(files[0], (format!("{p}/version"), b"1.0.0\n".to_vec()));

    // The same tarball gives the same layer (no times, owners or order from the build host).
    let again = layer_from_tarball(&input[..], p, "graph-data.tar.gz", dir.path(), "ferry: graph data").unwrap();
    assert_eq!(again.layer.digest, r.layer.digest);
}

#[test]
fn bad_tarballs_are_refused_naming_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let p = "var/lib/cincinnati-graph-data";
    let err = |input: &[u8]| {
        layer_from_tarball(input, p, "https://graph.example/graph-data", dir.path(), "t")
            .unwrap_err()
            .to_string()
    };
    let e = err(b"<html>login required</html>");
    assert!(e.contains("https://graph.example/graph-data"), "{e}");
    assert!(e.contains("tar"), "{e}");

    let up = tarball(&[("../etc/passwd", tar::EntryType::Regular, b"x", 0o644)]);
    let e = err(&up);
    assert!(e.contains("../etc/passwd") && e.contains("unsafe"), "{e}");

    let link = tarball(&[
        ("channels/stable-4.9.yaml", tar::EntryType::Regular, b"x", 0o644),
        ("channels/copy.yaml", tar::EntryType::Link, b"", 0o644),
    ]);
    let e = err(&link);
    assert!(e.contains("channels/copy.yaml") && e.contains("Link"), "{e}");

    let empty = tarball(&[("./", tar::EntryType::Directory, b"", 0o755)]);
    let e = err(&empty);
    assert!(e.contains("no files"), "{e}");
}
