//! Reading YAML text into [`ImageSetConfiguration`]: apiVersion/kind checks first (so an old or
//! foreign file gets a message about its version, not about its first unknown field), then a
//! strict decode whose errors say `LINE:COL: <what> at <field path>`.

use crate::error::{ConfigError, Diagnostic};
use crate::locate::{split_documents, Locator};
use crate::types::{ImageSetConfiguration, API_VERSION, KIND};
use serde::Deserialize;
use serde_yaml_ng::Value;

/// Parse every YAML document of `yaml` (a file may hold several, separated by `---`), each a
/// strictly decoded and validated ImageSetConfiguration. Warnings are not errors; get them with
/// [`crate::diagnostics`].
pub fn parse_documents(yaml: &str, file_name: &str) -> Result<Vec<ImageSetConfiguration>, ConfigError> {
    let docs = decode_documents(yaml).map_err(|d| ConfigError::new(file_name, d))?;
    let mut out = Vec::with_capacity(docs.len());
    let mut errors = Vec::new();
    for doc in docs {
        let errs: Vec<Diagnostic> = doc.validate_located().into_iter().filter(|d| d.is_error()).collect();
        if errs.is_empty() {
            out.push(doc.config);
        } else {
            errors.extend(errs);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ConfigError::new(file_name, errors))
    }
}

/// Parse one ImageSetConfiguration (strict, validated). A file with several YAML documents is
/// an error naming the line of the second one: oc-mirror silently used only the first.
pub fn parse_str(yaml: &str, file_name: &str) -> Result<ImageSetConfiguration, ConfigError> {
    parse_str_with_warnings(yaml, file_name).map(|(cfg, _)| cfg)
}

/// [`parse_str`], also returning the warnings (deprecated or ignored fields, non-canonical
/// key spellings, …) with their positions, for the CLI to print before it starts a run.
pub fn parse_str_with_warnings(
    yaml: &str,
    file_name: &str,
) -> Result<(ImageSetConfiguration, Vec<Diagnostic>), ConfigError> {
    let docs = decode_documents(yaml).map_err(|d| ConfigError::new(file_name, d))?;
    if docs.len() > 1 {
        return Err(ConfigError::single(file_name, several_documents(&docs)));
    }
    let doc = docs
        .into_iter()
        .next()
        .expect("decode_documents returns at least one document");
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) =
        doc.validate_located().into_iter().partition(|d| d.is_error());
    if errors.is_empty() {
        Ok((doc.config, warnings))
    } else {
        Err(ConfigError::new(file_name, errors))
    }
}

/// Parse + validate for an editor: every error and warning, never panics, never fails.
pub fn diagnostics(yaml: &str) -> Vec<Diagnostic> {
    match decode_documents(yaml) {
        Err(d) => d,
        Ok(docs) => {
            let mut out = Vec::new();
            if docs.len() > 1 {
                out.push(several_documents(&docs));
            }
            for doc in docs {
                out.extend(doc.validate_located());
            }
            out
        }
    }
}

/// The same finding for [`parse_str`] and [`diagnostics`]: where the second document starts.
fn several_documents(docs: &[Decoded]) -> Diagnostic {
    let mut d = Diagnostic::error(
        "",
        format!(
            "this file holds {} YAML documents; an ImageSetConfiguration file must hold exactly one. \
             Split it into one file per configuration",
            docs.len()
        ),
    );
    d.line = docs[1].first_line;
    d.column = Some(1);
    d
}

/// One decoded document plus what is needed to point at its lines.
pub(crate) struct Decoded<'a> {
    pub config: ImageSetConfiguration,
    pub locator: Locator<'a>,
    pub first_line: Option<u32>,
}

impl Decoded<'_> {
    fn validate_located(&self) -> Vec<Diagnostic> {
        let mut diags = crate::validate::validate(&self.config);
        diags.extend(crate::validate::spelling_warnings(&self.locator));
        for d in &mut diags {
            if d.line.is_none() {
                if let Some((l, c)) = self.locator.locate_nearest(&d.path) {
                    d.line = Some(l);
                    d.column = Some(c);
                }
            }
        }
        diags
    }
}

/// Decode all documents, or return every problem found (one per failing document).
pub(crate) fn decode_documents(yaml: &str) -> Result<Vec<Decoded<'_>>, Vec<Diagnostic>> {
    // A UTF-8 byte-order mark (files saved by Notepad) is not content; it is zero-width, so
    // stripping it keeps every line and column right.
    let yaml = yaml.strip_prefix('\u{feff}').unwrap_or(yaml);
    // Pass 1: loose values, to check the YAML syntax and apiVersion/kind of each document.
    let mut values = Vec::new();
    for de in serde_yaml_ng::Deserializer::from_str(yaml) {
        match Value::deserialize(de) {
            Ok(v) => values.push(v),
            Err(e) => {
                let mut d = yaml_error(&e, None);
                if d.message.starts_with("duplicate entry with key") {
                    place_duplicate_key(&mut d, yaml);
                }
                return Err(vec![d]);
            }
        }
    }
    let segments = split_documents(yaml);
    // The segment split is a plain line scan that drops empty documents; only trust it when it
    // agrees with the parser about the non-empty ones.
    let segments_ok = segments.len() == values.iter().filter(|v| !v.is_null()).count();
    let mut segment = 0;
    let mut decoded = Vec::new();
    let mut errors = Vec::new();
    if values.iter().all(|v| v.is_null()) {
        return Err(vec![Diagnostic::error(
            "",
            format!("the file is empty; it must hold an ImageSetConfiguration (apiVersion: {API_VERSION}, kind: {KIND}). `ferry init` prints a template"),
        )]);
    }
    for (value, de) in values.iter().zip(serde_yaml_ng::Deserializer::from_str(yaml)) {
        if value.is_null() {
            // An empty document (a trailing `---`, or only comments) holds no configuration.
            continue;
        }
        let i = segment;
        segment += 1;
        let (locator, first_line) = if segments_ok {
            let s = &segments[i];
            (Locator::new(s.text, s.first_line), Some(s.first_line + 1))
        } else {
            (Locator::new("", 0), None)
        };
        if let Some(d) = check_type_meta(value, &locator) {
            errors.push(d);
            continue;
        }
        // Typed decoding straight from the text keeps exact error positions but does not
        // resolve YAML merge keys (`<<: *anchor`), which oc-mirror's YAML library does; only
        // documents that use them go through the merged Value (positions then come from the
        // locator).
        let merged = has_merge_key(value);
        let typed = if merged {
            let mut merged = value.clone();
            merged
                .apply_merge()
                .and_then(|()| serde_yaml_ng::from_value::<ImageSetConfiguration>(merged))
        } else {
            ImageSetConfiguration::deserialize(de)
        };
        match typed {
            Ok(config) => decoded.push(Decoded {
                config,
                locator,
                first_line,
            }),
            Err(e) if merged => errors.push(place_unknown_field(yaml_error(&e, Some(&locator)), &locator)),
            Err(e) => errors.push(yaml_error(&e, Some(&locator))),
        }
    }
    if errors.is_empty() {
        Ok(decoded)
    } else {
        Err(errors)
    }
}

/// The YAML parser reports a repeated key at the document start; find the second occurrence
/// (same path twice) in the text so the editor underlines the right line.
fn place_duplicate_key(d: &mut Diagnostic, yaml: &str) {
    for seg in split_documents(yaml) {
        let mut first: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        for (key, path, line, col) in Locator::new(seg.text, seg.first_line).keys() {
            if let Some(first_line) = first.get(&path) {
                d.message = format!("duplicate key `{key}` at {path} (first written on line {first_line}); keep one");
                d.path = path;
                d.line = Some(line);
                d.column = Some(col);
                return;
            }
            first.insert(path, line);
        }
    }
}

/// Errors decoded from a Value carry neither path nor position; for an unknown field, find the
/// key in the text instead (the first key with that exact name: good enough for a typo).
fn place_unknown_field(mut d: Diagnostic, locator: &Locator) -> Diagnostic {
    let Some(field) = d
        .message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    else {
        return d;
    };
    if let Some((_, path, line, col)) = locator.keys().into_iter().find(|k| k.0 == field) {
        d.message = d
            .message
            .replacen(&format!(" at {}", d.path), &format!(" at {path}"), 1);
        d.path = path;
        d.line = Some(line);
        d.column = Some(col);
    }
    d
}

fn has_merge_key(value: &Value) -> bool {
    match value {
        Value::Mapping(m) => m.iter().any(|(k, v)| k.as_str() == Some("<<") || has_merge_key(v)),
        Value::Sequence(s) => s.iter().any(has_merge_key),
        Value::Tagged(t) => has_merge_key(&t.value),
        _ => false,
    }
}

fn type_meta_field<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    value.as_mapping()?.iter().find_map(|(k, v)| {
        let k = k.as_str()?;
        (k == key || k.eq_ignore_ascii_case(key)).then_some(v)
    })
}

/// Refuse documents that are not a v1alpha2 ImageSetConfiguration, saying what they are and
/// what to do about it.
fn check_type_meta(value: &Value, locator: &Locator) -> Option<Diagnostic> {
    let at = |path: &str, msg: String| {
        let mut d = Diagnostic::error(path, msg);
        if let Some((l, c)) = locator.locate(path) {
            d.line = Some(l);
            d.column = Some(c);
        }
        d
    };
    if !value.is_mapping() {
        let mut d = Diagnostic::error(
            "",
            "the document is not a YAML mapping; an ImageSetConfiguration starts with `apiVersion:` and `kind:`",
        );
        d.line = locator.first_content_line();
        d.column = d.line.map(|_| 1);
        return Some(d);
    }
    let api_version = type_meta_field(value, "apiVersion").and_then(Value::as_str);
    let kind = type_meta_field(value, "kind").and_then(Value::as_str);
    if kind == Some("DeleteImageSetConfiguration") {
        return Some(at(
            "kind",
            "kind DeleteImageSetConfiguration (oc-mirror v2's `delete` workflow) is not supported by v1alpha2; \
             Ferry mirrors with kind ImageSetConfiguration and prunes by what the configuration no longer lists"
                .to_string(),
        ));
    }
    match api_version {
        None => {
            return Some(at(
                "",
                format!("missing `apiVersion`; an ImageSetConfiguration needs `apiVersion: {API_VERSION}`"),
            ))
        }
        Some(API_VERSION) => {}
        Some("mirror.openshift.io/v1alpha1") => {
            return Some(at(
                "apiVersion",
                format!(
                    "old apiVersion mirror.openshift.io/v1alpha1 is no longer read; migrate the file to {API_VERSION}: \
                     set `apiVersion: {API_VERSION}`, rename `mirror.ocp` to `mirror.platform`, \
                     `headsOnly: false` on a catalog to `full: true` (heads-only is now the default), \
                     package `startingVersion` to `minVersion`, channel `versions:` lists to `minVersion`/`maxVersion`, \
                     `helm.repos` to `helm.repositories`, and `additionalimages`/`blockedimages` to \
                     `additionalImages`/`blockedImages`"
                ),
            ))
        }
        Some(v) if v.ends_with("/v2alpha1") => {
            return Some(at(
                "apiVersion",
                format!(
                    "apiVersion {v} (oc-mirror v2) is not supported by v1alpha2; Ferry reads {API_VERSION} \
                     (oc-mirror v1 format: add `storageConfig` if you want incremental runs, and use \
                     `full`/`minVersion`/`maxVersion` instead of v2-only fields)"
                ),
            ))
        }
        Some(v) => {
            return Some(at(
                "apiVersion",
                format!("unsupported apiVersion `{v}`; Ferry reads `apiVersion: {API_VERSION}`"),
            ))
        }
    }
    match kind {
        Some(KIND) => None,
        None => Some(at("", format!("missing `kind`; it must be `kind: {KIND}`"))),
        Some(k) => Some(at(
            "kind",
            format!("unsupported kind `{k}`; a configuration file has `kind: {KIND}`"),
        )),
    }
}

/// Hints for fields that exist in other oc-mirror formats, shown after "unknown field".
fn unknown_field_hint(field: &str) -> Option<&'static str> {
    Some(match field {
        "bundles" => {
            "`bundles` is an oc-mirror v2 (v2alpha1) field; in v1alpha2 select bundles with minVersion/maxVersion \
             or minBundle"
        }
        "release" | "kubeVirtContainer" => "this platform field exists only in oc-mirror v2 (v2alpha1)",
        "targetRepo" => "`targetRepo` on additional images exists only in oc-mirror v2 (v2alpha1)",
        "targetCatalogSourceTemplate" => "`targetCatalogSourceTemplate` exists only in oc-mirror v2 (v2alpha1)",
        "headsOnly" => "v1alpha1 `headsOnly: false` is `full: true` in v1alpha2",
        "startingVersion" => "v1alpha1 `startingVersion` is `minVersion` in v1alpha2",
        "ocp" => "v1alpha1 `ocp` is `platform` in v1alpha2",
        "repos" => "v1alpha1 `repos` is `repositories` in v1alpha2",
        "versions" => "v1alpha1 channel `versions` are `minVersion`/`maxVersion` in v1alpha2",
        "metadata" => "an ImageSetConfiguration has no `metadata` section",
        "delete" => {
            "`delete` belongs to oc-mirror v2's DeleteImageSetConfiguration, which is not supported by v1alpha2"
        }
        _ => return None,
    })
}

/// Turn a serde_yaml_ng error into a diagnostic: `unknown field `x` at a.b.x, expected ...`.
///
/// serde_yaml_ng renders errors as `<path>: <message> at line L column C`, where `<path>` is
/// the *containing* node (omitted at the root). The path is re-attached after the message, and
/// for unknown fields extended with the field name, because a path is what a user searches for.
fn yaml_error(e: &serde_yaml_ng::Error, locator: Option<&Locator>) -> Diagnostic {
    let mut text = e.to_string();
    let loc = e.location();
    if loc.is_some() {
        // The position is reported separately (`FILE:LINE:COL:`); libyaml's scanner errors also
        // carry it mid-sentence ("... at line 4 column 1, while scanning ...").
        static AT: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
        let at = AT.get_or_init(|| regex::Regex::new(r" at line \d+ column \d+").expect("valid regex"));
        text = at.replace_all(&text, "").into_owned();
    }
    let (mut path, mut message) = split_path(&text);
    if let Some(field) = message
        .strip_prefix("unknown field `")
        .and_then(|r| r.split('`').next())
    {
        let field = field.to_string();
        let full = join_path(&path, &field);
        let rest = &message["unknown field `".len() + field.len() + 1..];
        let expected = expected_fields(rest);
        message = format!("unknown field `{field}` at {full}");
        if let Some(h) = unknown_field_hint(&field) {
            message.push_str(&format!(" ({h})"));
        } else if let Some(s) = closest(&field, &expected) {
            message.push_str(&format!("; did you mean `{s}`?"));
        }
        match expected.len() {
            0 => message.push_str("; no fields are allowed here"),
            _ => message.push_str(&format!(
                "; expected one of {}",
                expected.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
            )),
        }
        path = full;
    } else if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next())
    {
        let field = field.to_string();
        let at = if path.is_empty() {
            "the top level".to_string()
        } else {
            path.clone()
        };
        message = format!("missing field `{field}` at {at}; it is required");
    } else if !path.is_empty() {
        message = format!("{message} at {path}");
    }
    let mut d = Diagnostic::error(path, message);
    if let Some(l) = loc {
        d.line = u32::try_from(l.line()).ok();
        d.column = u32::try_from(l.column()).ok();
    } else if let Some((l, c)) = locator.and_then(|lc| lc.locate(&d.path)) {
        d.line = Some(l);
        d.column = Some(c);
    }
    d
}

/// Split serde_yaml_ng's `path: message` (path absent at the root).
fn split_path(text: &str) -> (String, String) {
    if let Some((p, m)) = text.split_once(": ") {
        let looks_like_path = !p.is_empty()
            && !p.contains(' ')
            && p.chars().all(|c| c.is_alphanumeric() || "._[]-".contains(c))
            && !m.is_empty();
        if looks_like_path {
            return (p.to_string(), m.to_string());
        }
    }
    (String::new(), text.to_string())
}

fn join_path(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_string()
    } else {
        format!("{parent}.{field}")
    }
}

/// The field names listed in serde's `, expected one of `a`, `b`` tail, without the
/// all-lowercase aliases (accepted for oc-mirror compatibility, but not worth suggesting).
fn expected_fields(rest: &str) -> Vec<String> {
    let names: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    names
        .iter()
        .filter(|n| {
            !names
                .iter()
                .any(|o| o != *n && o.eq_ignore_ascii_case(n) && n.chars().all(|c| !c.is_uppercase()))
        })
        .map(|n| n.to_string())
        .collect()
}

/// The expected field nearest to a misspelling (edit distance ≤ 2, ignoring case).
fn closest(field: &str, expected: &[String]) -> Option<String> {
    let f = field.to_ascii_lowercase();
    expected
        .iter()
        .map(|e| (edit_distance(&f, &e.to_ascii_lowercase()), e))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, e)| e.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
