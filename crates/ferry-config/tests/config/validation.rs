//! One test per validation rule: oc-mirror's (duplicate catalogs by unique name, duplicate
//! release channels, minVersion with minBundle, package- and channel-level ranges together) and
//! Ferry's earlier checks. Each finding has the field path and, from the text, line and column.

use ferry_config::{diagnostics, parse_str, Diagnostic, Severity};

const HEAD: &str = "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\n";

fn diags(body: &str) -> Vec<Diagnostic> {
    diagnostics(&format!("{HEAD}{body}"))
}

fn errors(body: &str) -> Vec<Diagnostic> {
    diags(body)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

fn warnings(body: &str) -> Vec<Diagnostic> {
    diags(body)
        .into_iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect()
}

fn single_error(body: &str) -> Diagnostic {
    let e = errors(body);
    assert_eq!(e.len(), 1, "{e:#?}");
    // parse_str refuses the same text with the same finding.
    let err = parse_str(&format!("{HEAD}{body}"), "v.yaml").unwrap_err();
    assert_eq!(err.diagnostics, e);
    e.into_iter().next().unwrap()
}

#[test]
fn duplicate_catalogs_by_unique_name() {
    let body = "mirror:\n  operators:\n  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16\n  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16\n    full: true\n";
    let d = single_error(body);
    assert_eq!(d.path, "mirror.operators[1].catalog");
    assert_eq!((d.line, d.column), (Some(6), Some(5)));
    assert!(d.message.contains("duplicate found in configuration"), "{}", d.message);
    assert!(d.message.contains("mirror.operators[0]"), "{}", d.message);

    // Same source, different targetTag → different unique names → fine (oc-mirror's rule).
    let ok = "mirror:\n  operators:\n  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16\n  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16\n    targetTag: other\n";
    assert!(errors(ok).is_empty(), "{:#?}", errors(ok));

    // Different sources rebuilt into the same target → duplicate.
    let clash = "mirror:\n  operators:\n  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16\n    targetCatalog: mirror/catalog\n    targetTag: v1\n  - catalog: registry.redhat.io/redhat/certified-operator-index:v4.16\n    targetCatalog: mirror/catalog\n    targetTag: v1\n";
    assert_eq!(single_error(clash).path, "mirror.operators[1].catalog");
}

#[test]
fn catalog_unique_name_matches_oc_mirror() {
    use ferry_config::{catalog_unique_name, Operator};
    let op = |catalog: &str, name: Option<&str>, cat: Option<&str>, tag: Option<&str>| Operator {
        catalog: catalog.into(),
        target_name: name.map(Into::into),
        target_catalog: cat.map(Into::into),
        target_tag: tag.map(Into::into),
        ..Default::default()
    };
    // Cases from oc-mirror's types_config_test.go (TestGetUniqueName).
    let idx = "registry.redhat.io/redhat/redhat-operator-index:v4.12";
    assert_eq!(catalog_unique_name(&op(idx, None, None, None)), idx);
    assert_eq!(
        catalog_unique_name(&op(idx, Some("abc"), None, None)),
        "registry.redhat.io/redhat/abc:v4.12"
    );
    assert_eq!(
        catalog_unique_name(&op(idx, None, Some("def/abc"), Some("v1"))),
        "registry.redhat.io/def/abc:v1"
    );
    assert_eq!(
        catalog_unique_name(&op(
            "oci:///home/user/catalogs/rhop4.12",
            None,
            Some("my/catalog"),
            None
        )),
        "my/catalog"
    );
    assert_eq!(
        catalog_unique_name(&op("docker://quay.io/ns/cat@sha256:1234", None, None, Some("t"))),
        "quay.io/ns/cat:t"
    );
    assert_eq!(
        catalog_unique_name(&op("quay.io/ns/cat@sha256:1234", Some("n"), None, None)),
        "quay.io/ns/n@sha256:1234"
    );
}

#[test]
fn duplicate_release_channels() {
    let d = single_error(
        "mirror:\n  platform:\n    channels:\n    - name: stable-4.16\n    - name: stable-4.16\n      type: okd\n",
    );
    assert_eq!(d.path, "mirror.platform.channels[1].name");
    assert_eq!((d.line, d.column), (Some(7), Some(7)));
    assert!(
        d.message.contains("release channel `stable-4.16`: duplicate"),
        "{}",
        d.message
    );
}

#[test]
fn min_version_with_min_bundle_at_package_and_channel_level() {
    let pkg = single_error("mirror:\n  operators:\n  - catalog: a.io/c/index:v1\n    packages:\n    - name: p\n      minVersion: 1.0.0\n      minBundle: p.v1.0.0\n");
    assert_eq!(pkg.path, "mirror.operators[0].packages[0].minBundle");
    assert_eq!((pkg.line, pkg.column), (Some(9), Some(7)));
    assert!(pkg.message.contains("mutually exclusive"), "{}", pkg.message);

    let ch = single_error("mirror:\n  operators:\n  - catalog: a.io/c/index:v1\n    packages:\n    - name: p\n      channels:\n      - name: stable\n        minVersion: 1.0.0\n        minBundle: p.v1.0.0\n");
    assert_eq!(ch.path, "mirror.operators[0].packages[0].channels[0].minBundle");
    assert_eq!(ch.line, Some(11));
}

#[test]
fn package_and_channel_ranges_together() {
    let d = single_error("mirror:\n  operators:\n  - catalog: a.io/c/index:v1\n    packages:\n    - name: p\n      maxVersion: 2.0.0\n      channels:\n      - name: stable\n        minVersion: 1.0.0\n");
    assert_eq!(d.path, "mirror.operators[0].packages[0].channels[0]");
    assert_eq!((d.line, d.column), (Some(10), Some(7)));
    assert!(
        d.message
            .contains("package- and channel-level ranges are mutually exclusive"),
        "{}",
        d.message
    );
    // A channel filter without a range under a package range is fine.
    assert!(errors("mirror:\n  operators:\n  - catalog: a.io/c/index:v1\n    packages:\n    - name: p\n      minVersion: 1.0.0\n      channels:\n      - name: stable\n").is_empty());
}

#[test]
fn versions_must_be_semver_and_ordered() {
    let d = single_error("mirror:\n  platform:\n    channels:\n    - name: stable-4.16\n      minVersion: '4.16'\n");
    assert_eq!(d.path, "mirror.platform.channels[0].minVersion");
    assert!(d.message.contains("not a semantic version"), "{}", d.message);
    let d = single_error("mirror:\n  platform:\n    channels:\n    - name: stable-4.16\n      minVersion: 4.16.9\n      maxVersion: 4.16.2\n");
    assert!(d.message.contains("higher than maxVersion"), "{}", d.message);
    // Pre-release versions such as oc-mirror's own example 5.3.2-20 are valid.
    assert!(errors("mirror:\n  operators:\n  - catalog: a.io/c/index:v1\n    packages:\n    - name: p\n      minVersion: 5.3.2-20\n").is_empty());
}

#[test]
fn architectures_are_checked() {
    let d = single_error("mirror:\n  platform:\n    architectures: [x86_64]\n    channels:\n    - name: stable-4.16\n");
    assert_eq!(d.path, "mirror.platform.architectures[0]");
    assert!(d.message.contains("amd64"), "{}", d.message);
}

#[test]
fn storage_config_rules() {
    let both = single_error("storageConfig:\n  registry:\n    imageURL: localhost:5000/meta:latest\n  local:\n    path: ./meta\nmirror:\n  additionalImages:\n  - name: a.io/b:c\n");
    assert_eq!(both.path, "storageConfig");
    assert!(both.message.contains("keep only one"), "{}", both.message);
    let empty =
        single_error("storageConfig:\n  local:\n    path: ''\nmirror:\n  additionalImages:\n  - name: a.io/b:c\n");
    assert_eq!(empty.path, "storageConfig.local.path");
    let bad = single_error(
        "storageConfig:\n  registry:\n    imageURL: 'Not An Image'\nmirror:\n  additionalImages:\n  - name: a.io/b:c\n",
    );
    assert_eq!(bad.path, "storageConfig.registry.imageURL");
    assert_eq!(bad.line, Some(5));
}

#[test]
fn image_names_and_blocked_patterns() {
    let d = single_error("mirror:\n  additionalImages:\n  - name: registry.example.com/UPPER/case:1\n");
    assert_eq!(d.path, "mirror.additionalImages[0].name");
    assert!(d.message.contains("lowercase"), "{}", d.message);
    let d = single_error("mirror:\n  additionalImages:\n  - name: a.io/b:c\n  blockedImages:\n  - name: '(unclosed'\n");
    assert_eq!(d.path, "mirror.blockedImages[0].name");
    assert!(d.message.contains("regular expression"), "{}", d.message);
    let d = single_error("mirror:\n  additionalImages:\n  - name: a.io/b:c\n  blockedImages:\n  - name: ''\n");
    assert!(d.message.contains("block every image"), "{}", d.message);
}

#[test]
fn helm_rules() {
    let d = single_error("mirror:\n  helm:\n    local:\n    - name: podinfo\n");
    assert_eq!(d.path, "mirror.helm.local[0]");
    assert!(d.message.contains("needs a `path`"), "{}", d.message);
    let d = single_error("mirror:\n  helm:\n    repositories:\n    - name: r\n      url: https://example.com/charts\n      charts:\n      - name: c\n");
    assert_eq!(d.path, "mirror.helm.repositories[0].charts[0]");
    assert!(d.message.contains("needs a `version`"), "{}", d.message);
}

#[test]
fn empty_required_names() {
    let e = errors("mirror:\n  operators:\n  - packages:\n    - channels:\n      - minVersion: 1.0.0\n");
    let paths: Vec<&str> = e.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(paths, vec!["mirror.operators[0].catalog"], "{e:#?}");
    let e = errors("mirror:\n  operators:\n  - catalog: a.io/c/index:v1\n    packages:\n    - channels:\n      - minVersion: 1.0.0\n");
    let paths: Vec<&str> = e.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "mirror.operators[0].packages[0].name",
            "mirror.operators[0].packages[0].channels[0].name"
        ]
    );
}

#[test]
fn warnings_do_not_block_parsing() {
    let body = "mirror:\n  operators:\n  - catalog: a.io/c/index:v1\n    targetName: old\n    targetCatalog: new/cat\n    originalRef: x\n";
    let w = warnings(body);
    let paths: Vec<&str> = w.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        vec!["mirror.operators[0].targetName", "mirror.operators[0].originalRef"],
        "{w:#?}"
    );
    assert!(parse_str(&format!("{HEAD}{body}"), "w.yaml").is_ok());
    let nothing = warnings("mirror: {}\n");
    assert_eq!(nothing.len(), 1);
    assert!(nothing[0].message.contains("selects nothing"));
}

#[test]
fn every_error_is_reported_at_once() {
    let e = errors("mirror:\n  platform:\n    channels:\n    - name: a\n    - name: a\n  operators:\n  - catalog: a.io/c/index:v1\n  - catalog: a.io/c/index:v1\n  additionalImages:\n  - name: ''\n");
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e.iter().all(|d| d.line.is_some() && d.column.is_some()), "{e:#?}");
}

#[test]
fn catalog_targets_are_checked() {
    let op = |extra: &str| {
        format!("mirror:\n  operators:\n  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16\n{extra}")
    };
    let d = single_error(&op("    targetCatalog: My/Catalog\n"));
    assert_eq!(d.path, "mirror.operators[0].targetCatalog");
    assert_eq!(d.line, Some(6));
    assert!(d.message.contains("`My`"), "{}", d.message);
    let d = single_error(&op("    targetTag: -bad\n"));
    assert_eq!(d.path, "mirror.operators[0].targetTag");
    let d = single_error(&op("    targetName: a/b\n"));
    assert_eq!(d.path, "mirror.operators[0].targetName");
    // Valid values: clean, apart from the deprecation / tag-placement advice.
    assert!(errors(&op(
        "    targetCatalog: mirror-ns/sub_ns/redhat.index\n    targetTag: v4.16_1\n"
    ))
    .is_empty());
    let w = warnings(&op("    targetName: my-index\n"));
    assert!(w[0].message.contains("deprecated"), "{w:#?}");
    let w = warnings(&op("    targetCatalog: ns/index:v1\n"));
    assert!(w[0].message.contains("targetTag: v1"), "{w:#?}");
    // An oci: catalog needs a path.
    let d = single_error("mirror:\n  operators:\n  - catalog: 'oci://'\n");
    assert!(d.message.contains("OCI layout"), "{}", d.message);
}

#[test]
fn positions_in_flow_style_fall_back_to_the_enclosing_line() {
    let d = single_error("mirror:\n  platform:\n    channels: [{name: a}, {name: a}]\n");
    assert_eq!(d.path, "mirror.platform.channels[1].name");
    assert_eq!((d.line, d.column), (Some(5), Some(5)), "the `channels:` line");
}

#[test]
fn positions_survive_crlf_line_endings_and_comments() {
    let body = "# header comment\r\nmirror:\r\n  platform:  # releases\r\n    channels:\r\n    - name: stable-4.16\r\n    - name: stable-4.16 # again\r\n";
    let d = single_error(&body.replace("\r\n", "\n"));
    let crlf = errors(body);
    assert_eq!(crlf.len(), 1, "{crlf:#?}");
    assert_eq!((crlf[0].line, crlf[0].column), (d.line, d.column));
    assert_eq!((d.line, d.column), (Some(8), Some(7)));
}

#[test]
fn anchors_and_merge_keys_are_understood() {
    let text = "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror:\n  operators:\n  - &rh\n    catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16\n    full: true\n  - <<: *rh\n    catalog: registry.redhat.io/redhat/certified-operator-index:v4.16\n";
    let cfg = parse_str(text, "a.yaml").unwrap();
    assert_eq!(cfg.mirror.operators.len(), 2);
    assert_eq!(cfg.mirror.operators[1].full, Some(true));
    assert!(cfg.mirror.operators[1].catalog.contains("certified"));
}

#[test]
fn errors_inside_merged_documents_still_name_the_field() {
    let text = "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror:\n  operators:\n  - &rh\n    catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16\n  - <<: *rh\n    ful: true\n";
    let e = parse_str(text, "m.yaml").unwrap_err();
    assert!(
        e.to_string().contains("unknown field `ful` at mirror.operators[1].ful"),
        "{e}"
    );
    assert_eq!(
        (e.diagnostics[0].line, e.diagnostics[0].column),
        (Some(8), Some(5)),
        "{e}"
    );
}
