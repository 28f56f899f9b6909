//! The built layers, configs and manifests are checked by reading the bytes back: digests
//! recomputed independently from the files, tar contents listed, JSON fields inspected.

use ferry_imagebuild::{
    build_layer, read_layer_files, rebuild_image, rebuild_index, whiteout_layer, ConfigEdit, LayerEntry,
};
use ferry_types::media::{DOCKER_V2S2, OCI_INDEX, OCI_MANIFEST};
use ferry_types::{Digest, Manifest};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Read;

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

#[test]
fn layer_digests_match_the_bytes_and_entries_are_root_owned() {
    let dir = tempfile::tempdir().unwrap();
    let entries = vec![
        LayerEntry::file("configs/foo/catalog.json", b"{\"schema\":\"olm.package\"}\n".to_vec()),
        LayerEntry::file("/configs/bar/catalog.json", b"{}".to_vec()),
    ];
    let l = build_layer(&entries, dir.path(), "test").unwrap();
    let gz = std::fs::read(l.file.path()).unwrap();
    assert_eq!(Digest::of(&gz), l.digest);
    assert_eq!(gz.len() as u64, l.size);
    let raw = gunzip(&gz);
    assert_eq!(Digest::of(&raw), l.diff_id);

    let mut ar = tar::Archive::new(&raw[..]);
    let mut seen = Vec::new();
    for e in ar.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        assert_eq!(h.uid().unwrap(), 0);
        assert_eq!(h.gid().unwrap(), 0);
        assert_eq!(h.mtime().unwrap(), 0);
        seen.push(e.path().unwrap().to_string_lossy().into_owned());
    }
    assert_eq!(
        seen,
        [
            "configs/",
            "configs/foo/",
            "configs/foo/catalog.json",
            "configs/bar/",
            "configs/bar/catalog.json"
        ]
    );
    let files = read_layer_files(&gz[..]).unwrap();
    assert_eq!(files[1], ("configs/bar/catalog.json".to_string(), b"{}".to_vec()));

    // Same input, same digests (no timestamps in the layer).
    let again = build_layer(&entries, dir.path(), "test").unwrap();
    assert_eq!(again.digest, l.digest);
}

#[test]
fn bad_paths_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = build_layer(
        &[LayerEntry::file("configs/../etc/passwd", b"x".to_vec())],
        dir.path(),
        "t",
    )
    .unwrap_err();
    assert!(err.to_string().contains("configs/../etc/passwd"), "{err}");
}

#[test]
fn whiteout_layer_holds_only_the_marker() {
    let dir = tempfile::tempdir().unwrap();
    let l = whiteout_layer(&["configs", "tmp/cache"], dir.path()).unwrap();
    let files = read_layer_files(std::fs::File::open(l.file.path()).unwrap()).unwrap();
    let names: Vec<_> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [".wh.configs", "tmp/.wh.cache"]);
    assert!(files.iter().all(|(_, b)| b.is_empty()));
}

fn base_config() -> Vec<u8> {
    serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Labels": {"operators.operatorframework.io.index.configs.v1": "/configs", "old": "x"},
                   "Entrypoint": ["/bin/opm"], "Cmd": ["serve", "/configs", "--cache-dir=/tmp/cache"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:1111111111111111111111111111111111111111111111111111111111111111"]},
        "history": [{"created_by": "base"}]
    }))
    .unwrap()
}

#[test]
fn rebuild_appends_layers_and_replaces_labels_and_cmd() {
    let dir = tempfile::tempdir().unwrap();
    let wh = whiteout_layer(&["configs"], dir.path()).unwrap();
    let cfgs = build_layer(
        &[LayerEntry::file("configs/index.json", b"{}".to_vec())],
        dir.path(),
        "configs",
    )
    .unwrap();
    let config = base_config();
    for mt in [DOCKER_V2S2, OCI_MANIFEST] {
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": mt,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": Digest::of(&config).to_string(), "size": config.len()},
            "layers": [{"mediaType": "x", "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222", "size": 5}]
        }))
        .unwrap();
        let mut labels = BTreeMap::new();
        labels.insert(
            "operators.operatorframework.io.index.configs.v1".to_string(),
            "/configs".to_string(),
        );
        let edit = ConfigEdit {
            labels: Some(labels),
            cmd: Some(vec!["serve".into(), "/configs".into()]),
            entrypoint: None,
        };
        let r = rebuild_image(&manifest, mt, &config, &[&wh, &cfgs], &edit).unwrap();
        assert_eq!(Digest::of(&r.config), r.config_digest);
        assert_eq!(r.manifest.media_type, mt);
        assert_eq!(Digest::of(&r.manifest.bytes), r.manifest.digest);
        let c: Value = serde_json::from_slice(&r.config).unwrap();
        assert_eq!(c["config"]["Cmd"], json!(["serve", "/configs"]));
        assert_eq!(c["config"]["Entrypoint"], json!(["/bin/opm"]));
        assert_eq!(
            c["config"]["Labels"],
            json!({"operators.operatorframework.io.index.configs.v1": "/configs"})
        );
        let ids = c["rootfs"]["diff_ids"].as_array().unwrap();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[2], json!(cfgs.diff_id.to_string()));
        assert_eq!(c["history"].as_array().unwrap().len(), 3);
        let m: Value = serde_json::from_slice(&r.manifest.bytes).unwrap();
        assert_eq!(m["config"]["digest"], json!(r.config_digest.to_string()));
        assert_eq!(m["config"]["size"], json!(r.config.len()));
        let layers = m["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 3);
        assert_eq!(layers[1]["digest"], json!(wh.digest.to_string()));
        assert_eq!(layers[2]["size"], json!(cfgs.size));
        let want = if mt == DOCKER_V2S2 {
            "application/vnd.docker.image.rootfs.diff.tar.gzip"
        } else {
            "application/vnd.oci.image.layer.v1.tar+gzip"
        };
        assert_eq!(layers[2]["mediaType"], json!(want));
    }
}

#[test]
fn rebuild_refuses_an_index_as_base() {
    let err = rebuild_image(
        br#"{"schemaVersion":2,"manifests":[]}"#,
        OCI_INDEX,
        &base_config(),
        &[],
        &ConfigEdit::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("cannot be rebuilt"), "{err}");
}

#[test]
fn index_children_are_replaced_or_dropped() {
    let a = Digest::of(b"a");
    let b = Digest::of(b"b");
    let c = Digest::of(b"c");
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": a.to_string(), "size": 1, "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": OCI_MANIFEST, "digest": b.to_string(), "size": 1, "platform": {"architecture": "unknown", "os": "unknown"}},
            {"mediaType": OCI_MANIFEST, "digest": c.to_string(), "size": 1, "platform": {"architecture": "arm64", "os": "linux"}}
        ]
    }))
    .unwrap();
    let new_a = Manifest::new(br#"{"new":"a"}"#.to_vec().into(), OCI_MANIFEST);
    let mut rep = BTreeMap::new();
    rep.insert(a.clone(), Some(new_a.clone()));
    rep.insert(b, None);
    let out = rebuild_index(&index, OCI_INDEX, &rep).unwrap();
    let v: Value = serde_json::from_slice(&out.bytes).unwrap();
    let ms = v["manifests"].as_array().unwrap();
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0]["digest"], json!(new_a.digest.to_string()));
    assert_eq!(ms[0]["size"], json!(new_a.bytes.len()));
    assert_eq!(ms[0]["platform"]["architecture"], json!("amd64"));
    assert_eq!(ms[1]["digest"], json!(c.to_string()));
}
