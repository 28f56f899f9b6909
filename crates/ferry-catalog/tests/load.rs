//! Loading: JSON streams and YAML, `.indexignore`, unknown schemas kept, bad input named by
//! file, line and document; the configs directory rebuilt from image layers with whiteouts.

use ferry_catalog::layers::{configs_dir, ConfigsExtractor, CONFIGS_LABEL, DATABASE_LABEL};
use ferry_catalog::{filter, load_dir, load_files, write_json, CatalogFilter, ChannelFilter, PackageFilter};
use std::collections::BTreeMap;

fn files(list: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

const PKG: &str = "schema: olm.package\nname: p\ndefaultChannel: stable\n---\nschema: olm.channel\nname: stable\npackage: p\nentries:\n- name: p.v1.0.0\n---\nschema: olm.bundle\nname: p.v1.0.0\npackage: p\nimage: quay.io/p/bundle@sha256:1111111111111111111111111111111111111111111111111111111111111111\nproperties:\n- type: olm.package\n  value: {packageName: p, version: 1.0.0}\n";

#[test]
fn json_stream_real_redhat_packages_load() {
    let Some(dir) = ferry_testkit::fixture("fbc/oc-mirror/v1/pkg/cli/mirror/testdata/artifacts/olm_artifacts/configs")
    else {
        return;
    };
    let cat = load_dir(&dir).unwrap();
    assert!(cat.packages.contains_key("aws-load-balancer-operator"));
    assert!(cat.packages.contains_key("node-observability-operator"));
    let imgs = ferry_catalog::images::catalog_images(&cat);
    assert!(imgs.iter().any(|i| i.image.starts_with("registry.redhat.io/")));
}

#[test]
fn unknown_schemas_are_kept_and_written_after_their_package() {
    let Some(dir) = ferry_testkit::fixture(
        "fbc/oc-mirror/tests/integration/image-builders/operator/catalogs/test-catalog-extra-blobs",
    ) else {
        return;
    };
    let cat = load_dir(&dir).unwrap();
    let others: usize = cat.packages.values().map(|p| p.others.len()).sum::<usize>() + cat.others.len();
    assert!(
        others > 0,
        "the io.openshift.operators.lifecycles.v1alpha1 blobs are kept"
    );
    let out = write_json(&cat);
    assert!(out.contains("io.openshift.operators.lifecycles.v1alpha1"));
}

#[test]
fn indexignore_excludes_files() {
    let cat = load_files(&files(&[
        ("p/catalog.yaml", PKG),
        ("p/README.md", "# not a catalog\n"),
        (".indexignore", "*.md\n"),
    ]))
    .unwrap();
    assert_eq!(cat.bundle_count(), 1);
    let err = load_files(&files(&[
        ("p/catalog.yaml", PKG),
        ("p/README.md", "# not a catalog\nhello: [\n"),
    ]))
    .unwrap_err()
    .to_string();
    assert!(err.contains("p/README.md:"), "{err}");
}

#[test]
fn invalid_fbc_names_file_line_and_document() {
    let bad_yaml = format!("{PKG}---\nschema: olm.bundle\nname: p.v2\npackage: p\nproperties: [\n");
    let e = load_files(&files(&[("p/catalog.yaml", &bad_yaml)]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("p/catalog.yaml:") && e.contains("document 4") && e.contains("invalid YAML"),
        "{e}"
    );

    let bad_json = "{\"schema\":\"olm.package\",\"name\":\"p\",\"defaultChannel\":\"stable\"}\n\n{\"schema\": \"olm.channel\",\n \"name\": }\n";
    let e = load_files(&files(&[("p/index.json", bad_json)]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("p/index.json:4 (document 2)") && e.contains("invalid JSON"),
        "{e}"
    );

    let no_version = PKG.replace("version: 1.0.0", "version: one");
    let e = load_files(&files(&[("p/catalog.yaml", &no_version)]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("p/catalog.yaml:11 (document 3)")
            && e.contains("\"p.v1.0.0\"")
            && e.contains("not a semantic version"),
        "{e}"
    );

    let missing = PKG.replace("- name: p.v1.0.0", "- name: p.v9");
    let e = load_files(&files(&[("p/catalog.yaml", &missing)]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("p/catalog.yaml:5 (document 2)") && e.contains("\"p.v9\""),
        "{e}"
    );

    let no_schema = "name: x\n";
    let e = load_files(&files(&[("x.yaml", no_schema)])).unwrap_err().to_string();
    assert!(e.contains("x.yaml:1 (document 1)") && e.contains("schema"), "{e}");
}

#[test]
fn labels_decide_the_catalog_kind() {
    let mut l = BTreeMap::new();
    assert!(configs_dir(&l, "reg/cat:1")
        .unwrap_err()
        .to_string()
        .contains("no operators.operatorframework.io.index.configs.v1 label"));
    l.insert(DATABASE_LABEL.to_string(), "/database/index.db".to_string());
    let e = configs_dir(&l, "reg/cat:1").unwrap_err().to_string();
    assert!(
        e.contains("not supported: sqlite catalogs (OpenShift 4.10 and older)"),
        "{e}"
    );
    l.insert(CONFIGS_LABEL.to_string(), "/configs".to_string());
    assert_eq!(configs_dir(&l, "reg/cat:1").unwrap(), "configs");
}

fn tar_gz(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    for (p, c) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(c.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, p, c.as_bytes()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

#[test]
fn layers_apply_in_order_with_whiteouts() {
    let base = tar_gz(&[
        ("bin/opm", "binary"),
        ("configs/p/catalog.yaml", PKG),
        ("configs/old/catalog.yaml", "garbage: ["),
    ]);
    // The second layer deletes the old package and adds an ignored file.
    let upper = tar_gz(&[
        ("configs/.wh.old", ""),
        ("configs/p/notes.md", "x"),
        ("configs/.indexignore", "*.md\n"),
        ("tmp/cache/x", "y"),
    ]);
    let mut x = ConfigsExtractor::new("configs", "reg/cat:1");
    x.apply_layer(&base[..], "application/vnd.oci.image.layer.v1.tar+gzip", "sha256:base")
        .unwrap();
    x.apply_layer(
        &upper[..],
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "sha256:upper",
    )
    .unwrap();
    let cat = x.into_catalog().unwrap();
    assert_eq!(cat.packages.keys().collect::<Vec<_>>(), ["p"]);

    // An opaque whiteout of the configs directory empties it: a clear error names the image.
    let opaque = tar_gz(&[("configs/.wh..wh..opq", "")]);
    let mut x = ConfigsExtractor::new("configs", "reg/cat:1");
    x.apply_layer(&base[..], "application/vnd.docker.image.rootfs.diff.tar.gzip", "a")
        .unwrap();
    x.apply_layer(&opaque[..], "application/vnd.docker.image.rootfs.diff.tar.gzip", "b")
        .unwrap();
    let e = x.into_catalog().unwrap_err().to_string();
    assert!(
        e.contains("reg/cat:1") && e.contains("/configs is missing or empty"),
        "{e}"
    );

    let mut x = ConfigsExtractor::new("configs", "reg/cat:1");
    let e = x
        .apply_layer(&base[..], "application/vnd.oci.image.layer.v1.tar+zstd", "sha256:z")
        .unwrap_err()
        .to_string();
    assert!(e.contains("not supported in this build: zstd"), "{e}");
}

#[test]
fn default_channel_fallbacks_follow_oc_mirror_order() {
    // ibm-mq: default v1.8; channels carry olm.channel priorities 2, 3, 4.
    let Some(dir) = ferry_testkit::fixture("fbc/oc-mirror/v1/pkg/operator/diff/internal/testdata") else {
        return;
    };
    let cat = load_dir(&dir).unwrap();
    let chans = |names: &[&str]| {
        names
            .iter()
            .map(|n| ChannelFilter {
                name: n.to_string(),
                ..Default::default()
            })
            .collect::<Vec<_>>()
    };
    let run = |channels, dc: Option<&str>| {
        filter(
            &cat,
            &CatalogFilter {
                packages: vec![PackageFilter {
                    name: "ibm-mq".into(),
                    channels,
                    default_channel: dc.map(String::from),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
    };
    let dc = |r: ferry_catalog::FilterResult| r.catalog.packages["ibm-mq"].default_channel().to_string();
    assert_eq!(dc(run(chans(&["v1.8", "v1.6"]), None).unwrap()), "v1.8");
    assert_eq!(dc(run(chans(&["v1.6", "v1.7"]), Some("v1.6")).unwrap()), "v1.6");
    assert_eq!(dc(run(chans(&["v1.6"]), None).unwrap()), "v1.6");
    assert_eq!(dc(run(chans(&["v1.6", "v1.7"]), None).unwrap()), "v1.7");
    let e = run(chans(&["v1.6", "v1.7"]), Some("v1.8")).unwrap_err().to_string();
    assert!(
        e.contains("defaultChannel \"v1.8\" is not among the selected channels"),
        "{e}"
    );
}

#[test]
fn no_priority_means_an_error_that_says_to_set_default_channel() {
    let two = format!("{PKG}---\nschema: olm.channel\nname: fast\npackage: p\nentries:\n- name: p.v1.0.0\n---\nschema: olm.channel\nname: candidate\npackage: p\nentries:\n- name: p.v1.0.0\n");
    let cat = load_files(&files(&[("p/catalog.yaml", &two)])).unwrap();
    let e = filter(
        &cat,
        &CatalogFilter {
            packages: vec![PackageFilter {
                name: "p".into(),
                channels: vec![
                    ChannelFilter {
                        name: "fast".into(),
                        ..Default::default()
                    },
                    ChannelFilter {
                        name: "candidate".into(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }],
            ..Default::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("package \"p\"") && e.contains("\"stable\" was filtered out") && e.contains("set `defaultChannel`"),
        "{e}"
    );
}
