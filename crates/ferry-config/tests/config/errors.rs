//! Parse errors: misspelled fields at several depths name the field path, line and column;
//! wrong types, old and foreign formats get a message that says what to do.

use ferry_config::{diagnostics, load, parse_str, ConfigError};

const HEAD: &str = "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\n";

fn err(body: &str) -> ConfigError {
    let yaml = format!("{HEAD}{body}");
    parse_str(&yaml, "isc.yaml").expect_err("must be refused")
}

/// (path, line, column, message) of the single error.
fn one(e: &ConfigError) -> (&str, Option<u32>, Option<u32>, &str) {
    assert_eq!(e.diagnostics.len(), 1, "{e}");
    let d = &e.diagnostics[0];
    (d.path.as_str(), d.line, d.column, d.message.as_str())
}

#[test]
fn misspelled_field_in_platform() {
    let e = err("mirror:\n  platform:\n    chanels:\n    - name: stable-4.16\n");
    let (path, line, col, msg) = one(&e);
    assert_eq!(path, "mirror.platform.chanels");
    assert_eq!((line, col), (Some(5), Some(5)));
    assert!(
        msg.starts_with("unknown field `chanels` at mirror.platform.chanels"),
        "{msg}"
    );
    assert!(msg.contains("did you mean `channels`?"), "{msg}");
    assert!(
        msg.contains("expected one of `graph`, `channels`, `architectures`"),
        "{msg}"
    );
    assert_eq!(
        e.to_string().lines().next().unwrap(),
        format!("isc.yaml:5:5: {msg}"),
        "FILE:LINE:COL: message"
    );
}

#[test]
fn misspelled_field_deep_in_an_operator_channel() {
    let e = err("mirror:\n  operators:\n  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16\n    packages:\n    - name: rhacs-operator\n      channels:\n      - name: stable\n        minVersoin: 4.1.0\n");
    let (path, line, col, msg) = one(&e);
    assert_eq!(path, "mirror.operators[0].packages[0].channels[0].minVersoin");
    assert_eq!((line, col), (Some(10), Some(9)));
    assert!(msg.contains("did you mean `minVersion`?"), "{msg}");
    // The all-lowercase aliases are accepted but not advertised.
    assert!(!msg.contains("`minversion`"), "{msg}");
}

#[test]
fn misspelled_top_level_and_storage_fields() {
    let e = err("archiveSise: 4\n");
    let (path, line, col, msg) = one(&e);
    assert_eq!((path, line, col), ("archiveSise", Some(3), Some(1)));
    assert!(msg.contains("did you mean `archiveSize`?"), "{msg}");

    let e = err("storageConfig:\n  registry:\n    imageUrl: localhost:5000/meta:latest\n");
    let (path, line, col, msg) = one(&e);
    assert_eq!((path, line, col), ("storageConfig.registry.imageUrl", Some(5), Some(5)));
    assert!(msg.contains("did you mean `imageURL`?"), "{msg}");
}

#[test]
fn unknown_field_in_flow_style_points_at_the_key() {
    let e = err("mirror:\n  additionalImages: [{name: a.io/b:c, tag: x}]\n");
    let (path, line, col, _) = one(&e);
    assert_eq!(path, "mirror.additionalImages[0].tag");
    assert_eq!((line, col), (Some(4), Some(39)));
}

#[test]
fn v2_only_fields_get_a_hint() {
    let e = err("mirror:\n  platform:\n    release: quay.io/openshift-release-dev/ocp-release:4.16.0-x86_64\n");
    assert!(one(&e).3.contains("only in oc-mirror v2 (v2alpha1)"), "{e}");
    let e = err("mirror:\n  additionalImages:\n  - name: a.io/b:c\n    targetRepo: x\n");
    assert!(one(&e).3.contains("v2alpha1"), "{e}");
    let e = err("delete:\n  additionalImages: []\n");
    assert!(one(&e).3.contains("not supported by v1alpha2"), "{e}");
}

#[test]
fn wrong_types_name_the_field() {
    let e = err("archiveSize: big\n");
    let (path, line, col, msg) = one(&e);
    assert_eq!((path, line, col), ("archiveSize", Some(3), Some(14)));
    assert!(msg.contains("invalid type") && msg.contains("archiveSize"), "{msg}");

    let e = err("archiveSize: -1\n");
    assert_eq!(one(&e).0, "archiveSize", "{e}");

    let e = err("mirror:\n  operators:\n  - catalog: a.io/b:c\n    full: \"yes\"\n");
    let (path, line, ..) = one(&e);
    assert_eq!((path, line), ("mirror.operators[0].full", Some(6)));

    let e = err("mirror:\n  platform:\n    channels:\n    - name: x\n      type: OKD\n");
    let (path, _, _, msg) = one(&e);
    assert_eq!(path, "mirror.platform.channels[0].type");
    assert!(msg.contains("`ocp`") && msg.contains("`okd`"), "{msg}");
}

#[test]
fn old_api_version_explains_the_migration() {
    let yaml =
        "apiVersion: mirror.openshift.io/v1alpha1\nkind: ImageSetConfiguration\nmirror:\n  ocp:\n    channels: []\n";
    let e = parse_str(yaml, "old.yaml").unwrap_err();
    let (path, line, col, msg) = one(&e);
    assert_eq!((path, line, col), ("apiVersion", Some(1), Some(1)));
    assert!(msg.contains("old apiVersion"), "{msg}");
    assert!(msg.contains("`mirror.ocp` to `mirror.platform`"), "{msg}");
    assert!(msg.contains("set `apiVersion: mirror.openshift.io/v1alpha2`"), "{msg}");
}

#[test]
fn v2alpha1_delete_and_foreign_documents_are_refused() {
    let e = parse_str(
        "apiVersion: mirror.openshift.io/v2alpha1\nkind: ImageSetConfiguration\nmirror: {}\n",
        "v2.yaml",
    )
    .unwrap_err();
    assert!(one(&e).3.contains("not supported by v1alpha2"), "{e}");
    let e = parse_str(
        "apiVersion: mirror.openshift.io/v2alpha1\nkind: DeleteImageSetConfiguration\ndelete: {}\n",
        "d.yaml",
    )
    .unwrap_err();
    assert!(one(&e).3.contains("DeleteImageSetConfiguration"), "{e}");
    let e = parse_str("apiVersion: v1\nkind: ConfigMap\n", "cm.yaml").unwrap_err();
    assert!(one(&e).3.contains("unsupported apiVersion `v1`"), "{e}");
    let e = parse_str("apiVersion: mirror.openshift.io/v1alpha2\nkind: Metadata\n", "m.yaml").unwrap_err();
    assert!(one(&e).3.contains("unsupported kind `Metadata`"), "{e}");
    let e = parse_str("kind: ImageSetConfiguration\nmirror: {}\n", "n.yaml").unwrap_err();
    assert!(one(&e).3.contains("missing `apiVersion`"), "{e}");
    let e = parse_str("# nothing yet\n", "empty.yaml").unwrap_err();
    assert!(one(&e).3.contains("the file is empty"), "{e}");
    let e = parse_str("- a\n- b\n", "list.yaml").unwrap_err();
    assert!(one(&e).3.contains("not a YAML mapping"), "{e}");
}

#[test]
fn yaml_syntax_errors_carry_a_position() {
    let e = parse_str(&format!("{HEAD}mirror:\n  additionalImages: [\n"), "bad.yaml").unwrap_err();
    let d = &e.diagnostics[0];
    assert!(d.line.is_some() && d.column.is_some(), "{e}");
    assert!(e.to_string().starts_with("bad.yaml:"), "{e}");
    // Tabs for indentation: a classic.
    let e = parse_str(&format!("{HEAD}mirror:\n\tplatform: {{}}\n"), "tab.yaml").unwrap_err();
    assert_eq!(e.diagnostics[0].line, Some(4), "{e}");
}

#[test]
fn duplicate_keys_are_errors() {
    let e = err("mirror: {}\nmirror: {}\n");
    assert!(one(&e).3.contains("duplicate"), "{e}");
}

#[test]
fn null_sections_are_empty_not_errors() {
    let cfg = parse_str(
        &format!(
            "{HEAD}storageConfig:\n  local:\n    path: ./meta\nmirror:\n  operators:\n  additionalImages:\n  helm:\n"
        ),
        "n.yaml",
    )
    .unwrap();
    assert!(cfg.mirror.operators.is_empty());
    assert!(cfg.mirror.additional_images.is_empty());
    assert_eq!(cfg.mirror.helm, None);
}

#[test]
fn load_names_the_file_and_converts_to_the_engine_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("isc.yaml");
    std::fs::write(&path, format!("{HEAD}mirror:\n  platfrom: {{}}\n")).unwrap();
    let e = load(&path).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(&format!("{}:4:3: unknown field `platfrom`", path.display())),
        "{text}"
    );
    let engine: ferry_types::Error = e.into();
    assert_eq!(engine.code(), ferry_types::ErrorCode::InvalidConfig);
    assert_eq!(engine.to_string(), text);

    let missing = load(&dir.path().join("nope.yaml")).unwrap_err();
    assert!(
        missing.to_string().contains("nope.yaml") && missing.to_string().contains("cannot read"),
        "{missing}"
    );
}

#[test]
fn diagnostics_never_panic_on_garbage() {
    for text in [
        "",
        "---\n---\n",
        ": :\n",
        "[",
        "apiVersion: 3\nkind: [1]\n",
        "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror: 5\n",
        "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror:\n  operators: [[]]\n",
        "a: &x [*x]\n",
        "\u{feff}apiVersion: mirror.openshift.io/v1alpha2\n",
        "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\n\u{0}\n",
    ] {
        let d = diagnostics(text);
        assert!(d.iter().any(|d| d.is_error()), "{text:?} → {d:?}");
    }
}

#[test]
fn byte_order_mark_is_ignored() {
    let cfg = parse_str(
        &format!("\u{feff}{HEAD}mirror:\n  additionalImages:\n  - name: a.io/b:c\n"),
        "bom.yaml",
    )
    .unwrap();
    assert_eq!(cfg.mirror.additional_images.len(), 1);
    let e = parse_str(&format!("\u{feff}{HEAD}mirror:\n  platfrom: {{}}\n"), "bom.yaml").unwrap_err();
    assert_eq!(
        (e.diagnostics[0].line, e.diagnostics[0].column),
        (Some(4), Some(3)),
        "{e}"
    );
}

#[test]
fn trailing_empty_document_is_ignored() {
    let cfg = parse_str(
        &format!("{HEAD}mirror:\n  additionalImages:\n  - name: a.io/b:c\n---\n# nothing\n"),
        "t.yaml",
    );
    assert!(cfg.is_ok(), "{cfg:?}");
    // Positions in a later document still line up when an empty one precedes it.
    let e = parse_str(&format!("---\n---\n{HEAD}mirror:\n  platfrom: {{}}\n"), "t.yaml").unwrap_err();
    assert_eq!(
        (e.diagnostics[0].line, e.diagnostics[0].column),
        (Some(6), Some(3)),
        "{e}"
    );
}

#[test]
fn duplicate_key_points_at_the_second_occurrence() {
    let e = err("mirror:\n  platform: {}\n  operators: []\n  platform: {}\n");
    let (path, line, col, msg) = one(&e);
    assert_eq!((path, line, col), ("mirror.platform", Some(6), Some(3)), "{msg}");
    assert!(msg.contains("first written on line 4"), "{msg}");
}

#[test]
fn scanner_errors_state_the_position_once() {
    let e = parse_str(&format!("{HEAD}mirror:\n\tplatform: {{}}\n"), "tab.yaml").unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("tab.yaml:4:"), "{text}");
    assert!(!text.contains(" at line "), "{text}");
}

#[test]
fn several_documents_read_the_same_in_parse_str_and_diagnostics() {
    let text = format!("{HEAD}mirror: {{}}\n---\n{HEAD}mirror: {{}}\n");
    let e = parse_str(&text, "two.yaml").unwrap_err();
    let d = diagnostics(&text);
    let from_editor = d.iter().find(|d| d.is_error()).unwrap();
    assert_eq!(&e.diagnostics[0], from_editor);
    assert_eq!(from_editor.line, Some(4));
}

#[test]
fn load_with_warnings_returns_the_positioned_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.yaml");
    std::fs::write(
        &path,
        format!("{HEAD}mirror:\n  additionalimages:\n  - name: a.io/b:c\n  samples:\n  - name: ruby\n"),
    )
    .unwrap();
    let (cfg, warnings) = ferry_config::load_with_warnings(&path).unwrap();
    assert_eq!(cfg.mirror.additional_images.len(), 1);
    let shown: Vec<String> = warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(
        shown
            .iter()
            .any(|w| w.starts_with("4:3: warning: `additionalimages` is accepted as `additionalImages`")),
        "{shown:?}"
    );
    assert!(
        shown
            .iter()
            .any(|w| w.starts_with("6:3: warning: samples are not implemented")),
        "{shown:?}"
    );
}
