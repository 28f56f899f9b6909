//! Every ImageSetConfiguration among the shared oc-mirror fixtures: v1alpha2 ones parse and
//! round-trip without loss; v1alpha1 and v2-only ones fail with a message that says why.

use ferry_config::{parse_documents, parse_str, ImageSetConfiguration};
use std::path::{Path, PathBuf};

fn fixtures_root() -> Option<PathBuf> {
    ferry_testkit::fixture("oc-mirror")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(p);
        }
    }
}

/// (path relative to the oc-mirror fixtures folder, text) of every YAML file whose kind is an
/// image set configuration.
fn config_files(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    walk(root, &mut files);
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let is_config = text.lines().any(|l| {
                let l = l.trim();
                l == "kind: ImageSetConfiguration" || l == "kind: DeleteImageSetConfiguration"
            });
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            is_config.then_some((rel, text))
        })
        .collect()
}

/// oc-mirror's e2e configs are templates: its test script replaces these upper-case words
/// before use (they are not valid image references as written). Same substitution here.
const E2E_PLACEHOLDERS: &[(&str, &str)] = &[
    ("METADATA_CATALOGNAMESPACE", "localhost:5000/e2e/test-catalogs"),
    (
        "CATALOG_DIGEST",
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ),
    ("TARGET_CATALOG_NAME", "new-catalog-name"),
    ("TARGET_CATALOG_TAG", "v1.0"),
    ("OCI_REGISTRY_NAMESPACE", "e2e-namespace"),
    ("OCI_CTLG", "oci-catalog"),
    ("DATA_TMP", "/tmp/e2e-data"),
];

fn fill_placeholders(text: &str) -> String {
    let mut t = text.to_string();
    for (k, v) in E2E_PLACEHOLDERS {
        t = t.replace(k, v);
    }
    t
}

fn api_version_of(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("apiVersion:").map(str::trim))
}

/// v1alpha2 files that are rightly refused, and the words the error must contain.
const EXPECTED_REFUSALS: &[(&str, &str)] = &[
    // A v2-era `delete` file that carries the v1alpha2 apiVersion.
    (
        "delete-Imageset-config-full.yaml",
        "DeleteImageSetConfiguration (oc-mirror v2's `delete` workflow) is not supported by v1alpha2",
    ),
    // The example itself says "`bundles` field is available for oc-mirror v2 only".
    (
        "imageset-config-filter-catalog-by-bundle.yaml",
        "unknown field `bundles` at mirror.operators[0].packages[0].bundles",
    ),
];

#[test]
fn every_v1alpha2_fixture_parses_and_round_trips() {
    let Some(root) = fixtures_root() else { return };
    let files = config_files(&root);
    assert!(
        files.len() >= 38,
        "expected the 38 configuration fixtures, found {}",
        files.len()
    );
    let mut parsed_docs = 0;
    let mut refused = 0;
    for (rel, text) in &files {
        if api_version_of(text) != Some("mirror.openshift.io/v1alpha2") {
            continue;
        }
        let text = &fill_placeholders(text);
        let result = parse_documents(text, rel);
        if let Some((_, words)) = EXPECTED_REFUSALS.iter().find(|(f, _)| rel.ends_with(f)) {
            let err = result.expect_err(&format!("{rel} must be refused")).to_string();
            assert!(err.contains(words), "{rel}: error does not say `{words}`:\n{err}");
            assert!(
                err.starts_with(rel.as_str()),
                "{rel}: error does not name the file: {err}"
            );
            refused += 1;
            continue;
        }
        let docs = result.unwrap_or_else(|e| panic!("{rel} does not parse:\n{e}"));
        assert!(!docs.is_empty(), "{rel}: no documents");
        for (i, cfg) in docs.iter().enumerate() {
            round_trip(&format!("{rel} document {i}"), cfg);
        }
        parsed_docs += docs.len();
    }
    assert_eq!(refused, EXPECTED_REFUSALS.len(), "every expected refusal was seen");
    // 17 docs examples (one file holds 6 documents) + ref + 3 pkg configs + 17 e2e configs,
    // minus the two refusals.
    assert!(parsed_docs >= 40, "parsed only {parsed_docs} documents");
    eprintln!("parsed and round-tripped {parsed_docs} v1alpha2 documents; refused {refused} v2-only files");
}

fn round_trip(what: &str, cfg: &ImageSetConfiguration) {
    let yaml = cfg.to_yaml();
    let again = parse_str(&yaml, what).unwrap_or_else(|e| panic!("{what}: written YAML does not parse:\n{e}\n{yaml}"));
    assert_eq!(&again, cfg, "{what}: round trip changed the configuration:\n{yaml}");
    // Stable: writing the re-read value gives the same text.
    assert_eq!(again.to_yaml(), yaml, "{what}: second write differs");
}

#[test]
fn reference_config_has_every_section() {
    let Some(root) = fixtures_root() else { return };
    let rel = "oc-mirror/release-4.16/docs/imageset-config-ref.yaml";
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    let cfg = parse_str(&text, rel).unwrap();
    let reg = cfg.storage_config.as_ref().and_then(|s| s.registry.as_ref()).unwrap();
    assert_eq!(reg.image_url, "localhost:5000/test:latest");
    assert_eq!(reg.skip_tls, Some(true));
    let p = cfg.mirror.platform.as_ref().unwrap();
    assert_eq!(p.architectures, vec!["s390x"]);
    assert_eq!(p.channels.len(), 2);
    assert_eq!(p.channels[1].name, "stable-4.7");
    assert_eq!(p.channels[1].min_version.as_deref(), Some("4.6.13"));
    assert_eq!(p.channels[1].max_version.as_deref(), Some("4.7.18"));
    assert_eq!(p.graph, Some(true));
    let op = &cfg.mirror.operators[0];
    assert_eq!(op.catalog, "registry.redhat.io/redhat/redhat-operator-index:v4.12");
    assert_eq!(op.full, Some(false));
    assert_eq!(op.packages.len(), 3);
    assert_eq!(op.packages[1].min_version.as_deref(), Some("3.67.0"));
    assert_eq!(op.packages[2].channels[0].max_version.as_deref(), Some("1.7.5"));
    assert_eq!(
        cfg.mirror.additional_images[0].name,
        "registry.redhat.io/ubi8/ubi:latest"
    );
    let blocked: Vec<&str> = cfg.mirror.blocked_images.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(blocked, ["alpine", "redis", "^blocked-registry.com"]);
    let helm = cfg.mirror.helm.as_ref().unwrap();
    assert_eq!(helm.local[0].path.as_deref(), Some("/test/podinfo-5.0.0.tar.gz"));
    assert_eq!(helm.repositories[0].url, "https://stefanprodan.github.io/podinfo");
    assert_eq!(helm.repositories[0].charts[0].version.as_deref(), Some("5.0.0"));
    // As written: no archiveSize in the file, so none in the value; the default is separate.
    assert_eq!(cfg.archive_size, None);
    assert_eq!(cfg.archive_size_bytes(), 500 * 1024 * 1024 * 1024);
}

#[test]
fn lowercase_keys_of_upstream_test_config_are_accepted_with_a_warning() {
    let Some(root) = fixtures_root() else { return };
    let rel = "oc-mirror/v1/pkg/config/testdata/config/valid.yaml";
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    let cfg = parse_str(&text, rel).unwrap();
    assert_eq!(
        cfg.mirror.additional_images[0].name,
        "registry.redhat.io/ubi8/ubi:latest"
    );
    assert_eq!(cfg.mirror.blocked_images.len(), 2);
    assert_eq!(cfg.mirror.samples.len(), 3);
    let diags = ferry_config::diagnostics(&text);
    let spelled = diags
        .iter()
        .find(|d| d.path == "mirror.additionalimages")
        .unwrap_or_else(|| panic!("no spelling warning in {diags:#?}"));
    assert!(!spelled.is_error());
    assert!(
        spelled.message.contains("write `additionalImages`"),
        "{}",
        spelled.message
    );
    // `additionalimages:` is on line 31, column 3 of that file.
    assert_eq!((spelled.line, spelled.column), (Some(31), Some(3)));
    assert!(diags.iter().any(|d| d.path == "mirror.samples" && !d.is_error()));
    // Written back with the canonical spelling.
    assert!(cfg.to_yaml().contains("additionalImages:"));
}

#[test]
fn v1alpha1_fixture_gets_old_api_version_error() {
    let Some(root) = fixtures_root() else { return };
    let rel = "oc-mirror/v1/pkg/api/v1alpha1/testdata/config/valid.yaml";
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    let err = parse_str(&text, rel).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("old apiVersion mirror.openshift.io/v1alpha1"), "{msg}");
    assert!(msg.contains("rename `mirror.ocp` to `mirror.platform`"), "{msg}");
    assert!(msg.contains("`headsOnly: false` on a catalog to `full: true`"), "{msg}");
    // Points at the apiVersion line (line 2 after the `---`).
    assert!(msg.starts_with(&format!("{rel}:2:1: ")), "{msg}");
    assert_eq!(err.diagnostics[0].path, "apiVersion");
}

#[test]
fn multi_document_fixture_is_refused_by_parse_str_naming_the_second_document() {
    let Some(root) = fixtures_root() else { return };
    let rel = "oc-mirror/release-4.16/docs/examples/imageset-config-filter-catalog.yaml";
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    assert_eq!(parse_documents(&text, rel).unwrap().len(), 6);
    let err = parse_str(&text, rel).unwrap_err();
    let d = &err.diagnostics[0];
    assert!(d.message.contains("holds 6 YAML documents"), "{}", d.message);
    let second_marker = text.lines().enumerate().find(|(_, l)| *l == "---").unwrap().0 as u32 + 1;
    assert_eq!(d.line, Some(second_marker));
}

#[test]
fn e2e_templates_as_written_fail_only_on_their_placeholder_references() {
    let Some(root) = fixtures_root() else { return };
    let rel = "oc-mirror/v1/test/e2e/configs/imageset-config-headsonly.yaml";
    let text = std::fs::read_to_string(root.join(rel)).unwrap();
    let err = parse_str(&text, rel).unwrap_err();
    assert_eq!(err.diagnostics.len(), 1, "{err}");
    let d = &err.diagnostics[0];
    assert_eq!(d.path, "mirror.operators[0].catalog");
    assert!(d.message.contains("METADATA_CATALOGNAMESPACE"), "{}", d.message);
    // `- catalog:` is on line 9; the key starts at column 5.
    assert_eq!((d.line, d.column), (Some(9), Some(5)));
    assert!(parse_str(&fill_placeholders(&text), rel).is_ok());
}

/// Single-document fixtures that parse (placeholders filled): (relative path, text).
fn parseable_single_docs(root: &Path) -> Vec<(String, String)> {
    config_files(root)
        .into_iter()
        .filter(|(rel, text)| {
            api_version_of(text) == Some("mirror.openshift.io/v1alpha2")
                && !EXPECTED_REFUSALS.iter().any(|(f, _)| rel.ends_with(f))
        })
        .map(|(rel, text)| (rel, fill_placeholders(&text)))
        .filter(|(rel, text)| parse_documents(text, rel).map(|d| d.len() == 1).unwrap_or(false))
        .collect()
}

/// Block-style `key:` on a line (after indentation and any `- ` item markers): (key, 0-based column).
fn key_on_line(line: &str) -> Option<(&str, usize)> {
    let mut col = line.len() - line.trim_start_matches(' ').len();
    let mut rest = &line[col..];
    while let Some(r) = rest.strip_prefix("- ") {
        let r2 = r.trim_start_matches(' ');
        col += rest.len() - r2.len();
        rest = r2;
    }
    let end = rest.find(':')?;
    let key = &rest[..end];
    let after = &rest[end + 1..];
    let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric());
    (plain && key.as_bytes()[0].is_ascii_alphabetic() && (after.is_empty() || after.starts_with(' ')))
        .then_some((key, col))
}

/// Follow `a.b[1].c` through a parsed YAML value.
fn navigate<'v>(mut v: &'v serde_yaml_ng::Value, path: &str) -> Option<&'v serde_yaml_ng::Value> {
    for part in path.split('.') {
        let (key, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            v = v.as_mapping()?.get(key)?;
        }
        for idx in indexes.split('[').filter(|s| !s.is_empty()) {
            v = v.as_sequence()?.get(idx.trim_end_matches(']').parse::<usize>().ok()?)?;
        }
    }
    Some(v)
}

fn with_line(text: &str, i: usize, new_line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines[i] = new_line;
    lines.join("\n") + "\n"
}

/// Misspell every key of every real configuration, one at a time: the error must name the
/// misspelled key's exact line and column, and a path that leads to that key in the file.
#[test]
fn every_misspelled_key_of_every_fixture_is_reported_at_its_path_line_and_column() {
    let Some(root) = fixtures_root() else { return };
    let mut checked = 0;
    for (rel, text) in parseable_single_docs(&root) {
        let original: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with('#') {
                continue;
            }
            let Some((key, col)) = key_on_line(line) else { continue };
            let typo = format!("{key}Typo");
            let mutated = with_line(&text, i, &format!("{}{typo}{}", &line[..col], &line[col + key.len()..]));
            let err = parse_str(&mutated, &rel).expect_err(&format!("{rel}:{}: `{typo}` was accepted", i + 1));
            let d = &err.diagnostics[0];
            let at = format!("{rel}:{}:{} ({typo})", i + 1, col + 1);
            if col == 0 && (key == "apiVersion" || key == "kind") {
                assert!(d.message.contains(&format!("missing `{key}`")), "{at}: {}", d.message);
                checked += 1;
                continue;
            }
            assert_eq!(
                (d.line, d.column),
                (Some(i as u32 + 1), Some(col as u32 + 1)),
                "{at}: {d:?}"
            );
            assert!(
                d.message.contains(&format!("unknown field `{typo}`")),
                "{at}: {}",
                d.message
            );
            assert!(
                d.path == typo || d.path.ends_with(&format!(".{typo}")),
                "{at}: path {}",
                d.path
            );
            // The reported path, with the real key, leads to the key in the original file.
            let real_path = format!("{}{key}", &d.path[..d.path.len() - typo.len()]);
            assert!(
                navigate(&original, &real_path).is_some(),
                "{at}: {real_path} not in the file"
            );
            assert!(
                err.to_string().starts_with(&format!("{rel}:{}:{}: ", i + 1, col + 1)),
                "{at}: {err}"
            );

            // A one-letter slip gets a suggestion of the intended key.
            let mut slip = key.to_string();
            slip.remove(key.len() / 2);
            if slip.len() >= 3 {
                let mutated = with_line(&text, i, &format!("{}{slip}{}", &line[..col], &line[col + key.len()..]));
                let msg = parse_str(&mutated, &rel).unwrap_err().diagnostics[0].message.clone();
                let suggested = msg.split("did you mean `").nth(1).and_then(|r| r.split('`').next());
                assert!(
                    suggested.is_some_and(|s| s.eq_ignore_ascii_case(key)),
                    "{rel}:{}: `{slip}` should suggest `{key}`: {msg}",
                    i + 1
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 250, "only {checked} keys checked");
    eprintln!("misspelled {checked} keys across the fixtures; every error had the right path, line and column");
}

/// The editor's live check and the loader agree, and neither panics, on every prefix of and
/// every single-line deletion from every real configuration.
#[test]
fn diagnostics_agree_with_parse_and_never_panic_on_damaged_fixtures() {
    let Some(root) = fixtures_root() else { return };
    let mut variants = 0;
    for (rel, text) in parseable_single_docs(&root) {
        let lines: Vec<&str> = text.lines().collect();
        let mut damaged = Vec::new();
        for i in 0..lines.len() {
            damaged.push(lines[..i].join("\n"));
            let mut without = lines.clone();
            without.remove(i);
            damaged.push(without.join("\n"));
            // Indentation slip: the line moves one space left.
            if let Some(stripped) = lines[i].strip_prefix(' ') {
                damaged.push(with_line(&text, i, stripped));
            }
        }
        for t in damaged {
            let diags = ferry_config::diagnostics(&t);
            let n_lines = t.lines().count().max(1) as u32;
            for d in &diags {
                if let Some(l) = d.line {
                    assert!(
                        l >= 1 && l <= n_lines + 1,
                        "{rel}: line {l} outside 1..={n_lines}: {d:?}\n{t}"
                    );
                }
                assert!(!d.message.is_empty());
            }
            let has_error = diags.iter().any(|d| d.is_error());
            let parsed = parse_str(&t, &rel);
            assert_eq!(
                parsed.is_ok(),
                !has_error,
                "{rel}: parse_str and diagnostics disagree on:\n{t}\n{diags:#?}"
            );
            if let Err(e) = parsed {
                // Same findings: the loader's errors are the editor's errors.
                let editor: Vec<_> = diags.iter().filter(|d| d.is_error()).cloned().collect();
                assert_eq!(e.diagnostics, editor, "{rel}:\n{t}");
            }
            variants += 1;
        }
    }
    eprintln!("checked {variants} damaged variants");
    assert!(variants > 1000);
}

/// The `.metadata.json` of oc-mirror's v1 fixtures (plain files and inside the test archives).
fn metadata_documents(root: &Path) -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for rel in [
        "oc-mirror/v1/pkg/config/testdata/metadata/valid.json",
        "oc-mirror/v1/pkg/cli/mirror/testdata/configs/one.json",
    ] {
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        out.push((rel.to_string(), serde_json::from_str(&text).unwrap()));
    }
    for rel in [
        "oc-mirror/v1/pkg/cli/mirror/testdata/artifacts/testbundle_seq2.tar",
        "oc-mirror/v1/pkg/cli/mirror/testdata/artifacts/testbundle_seq3.tar",
    ] {
        let bytes = std::fs::read(root.join(rel)).unwrap();
        let json = tar_member(&bytes, "publish/.metadata.json").unwrap_or_else(|| panic!("{rel}: no metadata"));
        out.push((
            format!("{rel}!publish/.metadata.json"),
            serde_json::from_slice(json).unwrap(),
        ));
    }
    out
}

/// A member of an uncompressed ustar archive (enough for these small fixtures).
fn tar_member<'a>(tar: &'a [u8], wanted: &str) -> Option<&'a [u8]> {
    let mut off = 0;
    while off + 512 <= tar.len() {
        let h = &tar[off..off + 512];
        if h.iter().all(|&b| b == 0) {
            return None;
        }
        let name = String::from_utf8_lossy(&h[..100]).trim_end_matches('\0').to_string();
        let size_field = String::from_utf8_lossy(&h[124..136]);
        let size = usize::from_str_radix(size_field.trim_matches(|c: char| c == '\0' || c == ' '), 8).ok()?;
        let data = off + 512;
        if name.trim_start_matches("./") == wanted {
            return tar.get(data..data + size);
        }
        off = data + size.div_ceil(512) * 512;
    }
    None
}

/// The metadata writer embeds `mirror` in oc-mirror's JSON: the real files' `pastMirror.mirror`
/// sections decode strictly into [`ferry_config::Mirror`] and encode back to the same JSON.
#[test]
fn mirror_section_of_real_metadata_round_trips_as_json() {
    let Some(root) = fixtures_root() else { return };
    let mut seen = 0;
    for (rel, doc) in metadata_documents(&root) {
        let original = &doc["pastMirror"]["mirror"];
        assert!(original.is_object(), "{rel}: no pastMirror.mirror");
        let mirror: ferry_config::Mirror =
            serde_json::from_value(original.clone()).unwrap_or_else(|e| panic!("{rel}: {e}"));
        assert!(
            !mirror.additional_images.is_empty() && !mirror.blocked_images.is_empty(),
            "{rel}"
        );
        let back = serde_json::to_value(&mirror).unwrap();
        assert_eq!(&back, original, "{rel}: JSON differs after decode/encode");
        seen += 1;
    }
    assert_eq!(seen, 4);
    // And a field the Go struct does not have is refused there too.
    let bad = serde_json::json!({"additionalImages": [{"name": "redis", "tag": "x"}]});
    let err = serde_json::from_value::<ferry_config::Mirror>(bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown field `tag`"), "{err}");
}

/// Files saved by Windows editors (CRLF line ends, a UTF-8 byte-order mark) mean the same
/// configuration, with the same finding positions, as the original fixture.
#[test]
fn crlf_and_bom_copies_of_every_fixture_are_the_same_configuration() {
    let Some(root) = fixtures_root() else { return };
    let mut n = 0;
    for (rel, text) in parseable_single_docs(&root) {
        let cfg = parse_str(&text, &rel).unwrap();
        let positions = |t: &str| {
            ferry_config::diagnostics(t)
                .into_iter()
                .map(|d| (d.path, d.line, d.column, d.severity))
                .collect::<Vec<_>>()
        };
        let expected = positions(&text);
        let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
        for (what, variant) in [
            ("CRLF", crlf.clone()),
            ("BOM", format!("\u{feff}{text}")),
            ("BOM+CRLF", format!("\u{feff}{crlf}")),
        ] {
            let again = parse_str(&variant, &rel).unwrap_or_else(|e| panic!("{rel} ({what}): {e}"));
            assert_eq!(again, cfg, "{rel} ({what})");
            assert_eq!(positions(&variant), expected, "{rel} ({what}): finding positions moved");
        }
        n += 1;
    }
    assert!(n >= 35, "only {n} fixtures");
}
