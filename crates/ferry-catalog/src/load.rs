//! Parsing FBC documents (YAML or JSON streams) and loading a catalog from files.
//!
//! Like opm's `declcfg.LoadFS`: every file under the root is read (in path order) unless an
//! `.indexignore` in its directory or above excludes it; files that are not JSON or YAML
//! documents (by content, as `yaml.NewYAMLOrJSONDecoder` sniffs them) are errors naming the file
//! and line. Files are decoded as oc-mirror's opm does: YAML is converted to JSON with keys in
//! sorted order (sigs.k8s.io/yaml), JSON is kept as written.

use crate::ignore::IgnoreSet;
use crate::model::*;
use crate::CatalogError;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Deserialize)]
struct Head<'a> {
    #[serde(default, borrow)]
    schema: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    package: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    name: Option<std::borrow::Cow<'a, str>>,
}

/// Documents collected from files, before they are assembled into packages.
#[derive(Default)]
pub struct Builder {
    packages: Vec<(PackageDoc, Origin)>,
    channels: Vec<(Channel, Origin)>,
    bundles: Vec<(BundleDoc, Origin)>,
    others: Vec<Meta>,
}

fn invalid(origin: &Origin, detail: impl Into<String>) -> CatalogError {
    CatalogError::Invalid {
        at: origin.to_string(),
        detail: detail.into(),
    }
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Add every document of one file. `name` is the path shown in errors.
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<(), CatalogError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim_start().starts_with('{') {
            self.add_json_stream(name, text)
        } else {
            self.add_yaml(name, text)
        }
    }

    fn add_json_stream(&mut self, name: &str, text: &str) -> Result<(), CatalogError> {
        let mut stream = serde_json::Deserializer::from_str(text).into_iter::<&RawValue>();
        let mut doc = 0;
        let mut line = 1;
        let mut last = 0;
        loop {
            let start = stream.byte_offset();
            let next = stream.next();
            let Some(next) = next else { break };
            doc += 1;
            // Line of the first character of this document.
            let skip = text[start..].len() - text[start..].trim_start().len();
            line += text[last..start + skip].matches('\n').count();
            last = start + skip;
            let origin = Origin {
                file: name.to_string(),
                line,
                document: doc,
            };
            match next {
                Ok(raw) => self.add_document(raw.get(), origin)?,
                Err(e) => {
                    return Err(CatalogError::Invalid {
                        at: format!("{name}:{} (document {doc})", e.line()),
                        detail: format!("invalid JSON: {e}"),
                    })
                }
            }
        }
        Ok(())
    }

    fn add_yaml(&mut self, name: &str, text: &str) -> Result<(), CatalogError> {
        // Documents are split on `---` lines here (not by the YAML parser) so that every error
        // can name the document and its first line.
        let mut chunks: Vec<(usize, String)> = Vec::new();
        let mut cur = String::new();
        let mut cur_line = 1;
        for (i, l) in text.split_inclusive('\n').enumerate() {
            let t = l.trim_end();
            if t == "---" || t.starts_with("--- ") || t == "..." {
                chunks.push((cur_line, std::mem::take(&mut cur)));
                cur_line = i + 2;
                continue;
            }
            cur.push_str(l);
        }
        chunks.push((cur_line, cur));
        let mut doc = 0;
        for (start, chunk) in chunks {
            // Comment-only or empty documents carry nothing (opm skips them too).
            let Some(first) = chunk
                .lines()
                .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            else {
                continue;
            };
            doc += 1;
            let origin = Origin {
                file: name.to_string(),
                line: start + first,
                document: doc,
            };
            let value: serde_json::Value = serde_yaml_ng::from_str(&chunk).map_err(|e| {
                let at = e.location().map(|l| start + l.line() - 1).unwrap_or(origin.line);
                CatalogError::Invalid {
                    at: format!("{name}:{at} (document {doc})"),
                    detail: format!("invalid YAML: {e}"),
                }
            })?;
            if value.is_null() {
                continue;
            }
            let json = serde_json::to_string(&value).expect("JSON value");
            self.add_document(&json, origin)?;
        }
        Ok(())
    }

    /// Add one JSON document.
    pub fn add_document(&mut self, json: &str, origin: Origin) -> Result<(), CatalogError> {
        let head: Head = serde_json::from_str(json).map_err(|e| invalid(&origin, format!("not a JSON object: {e}")))?;
        let schema = head.schema.as_deref().unwrap_or_default().to_string();
        match schema.as_str() {
            "" => {
                return Err(invalid(
                    &origin,
                    "document has no \"schema\" field (every FBC blob needs one, e.g. olm.package)",
                ))
            }
            "olm.package" => {
                let d: PackageDoc =
                    serde_json::from_str(json).map_err(|e| invalid(&origin, format!("olm.package: {e}")))?;
                if d.name.is_empty() {
                    return Err(invalid(&origin, "olm.package without a name"));
                }
                self.packages.push((d, origin));
            }
            "olm.channel" => {
                let d: Channel =
                    serde_json::from_str(json).map_err(|e| invalid(&origin, format!("olm.channel: {e}")))?;
                if d.name.is_empty() || d.package.is_empty() {
                    return Err(invalid(&origin, "olm.channel needs both \"name\" and \"package\""));
                }
                self.channels.push((d, origin));
            }
            "olm.bundle" => {
                let d: BundleDoc =
                    serde_json::from_str(json).map_err(|e| invalid(&origin, format!("olm.bundle: {e}")))?;
                if d.name.is_empty() || d.package.is_empty() {
                    return Err(invalid(&origin, "olm.bundle needs both \"name\" and \"package\""));
                }
                self.bundles.push((d, origin));
            }
            _ => {
                let blob = RawValue::from_string(json.to_string()).expect("valid JSON");
                self.others.push(Meta {
                    schema,
                    package: head.package.as_deref().unwrap_or_default().to_string(),
                    name: head.name.as_deref().unwrap_or_default().to_string(),
                    blob,
                    origin,
                });
            }
        }
        Ok(())
    }

    /// Assemble packages and check the references opm's model validation checks: channels and
    /// bundles name an existing package, channel entries name existing bundles, one `olm.package`
    /// property per bundle with a semantic version.
    pub fn finish(self) -> Result<Catalog, CatalogError> {
        let mut packages: BTreeMap<String, Package> = BTreeMap::new();
        for (doc, origin) in self.packages {
            if let Some(prev) = packages.get(&doc.name) {
                return Err(invalid(
                    &origin,
                    format!("package {:?} is defined twice (first at {})", doc.name, prev.origin),
                ));
            }
            packages.insert(
                doc.name.clone(),
                Package {
                    doc,
                    origin,
                    channels: BTreeMap::new(),
                    bundles: BTreeMap::new(),
                    others: Vec::new(),
                },
            );
        }
        for (doc, origin) in self.bundles {
            let pkg = packages.get_mut(&doc.package).ok_or_else(|| {
                invalid(
                    &origin,
                    format!(
                        "bundle {:?} names package {:?}, which has no olm.package document",
                        doc.name, doc.package
                    ),
                )
            })?;
            let b = decode_bundle(doc, origin)?;
            if let Some(prev) = pkg.bundles.get(b.name()) {
                return Err(invalid(
                    &b.origin,
                    format!("bundle {:?} is defined twice (first at {})", b.name(), prev.origin),
                ));
            }
            pkg.bundles.insert(b.doc.name.clone(), b);
        }
        for (ch, origin) in self.channels {
            let pkg = packages.get_mut(&ch.package).ok_or_else(|| {
                invalid(
                    &origin,
                    format!(
                        "channel {:?} names package {:?}, which has no olm.package document",
                        ch.name, ch.package
                    ),
                )
            })?;
            for e in &ch.entries {
                if !pkg.bundles.contains_key(&e.name) {
                    return Err(invalid(
                        &origin,
                        format!(
                            "channel {:?} of package {:?} lists bundle {:?}, which has no olm.bundle document",
                            ch.name, ch.package, e.name
                        ),
                    ));
                }
            }
            if pkg.channels.contains_key(&ch.name) {
                return Err(invalid(
                    &origin,
                    format!("channel {:?} of package {:?} is defined twice", ch.name, ch.package),
                ));
            }
            pkg.channels.insert(ch.name.clone(), ch);
        }
        let mut others = Vec::new();
        for m in self.others {
            match packages.get_mut(&m.package) {
                Some(p) if !m.package.is_empty() => p.others.push(m),
                _ => others.push(m),
            }
        }
        for p in packages.values() {
            if !p.doc.default_channel.is_empty() && !p.channels.contains_key(&p.doc.default_channel) {
                return Err(invalid(
                    &p.origin,
                    format!(
                        "package {:?} names default channel {:?}, which has no olm.channel document",
                        p.name(),
                        p.doc.default_channel
                    ),
                ));
            }
        }
        Ok(Catalog { packages, others })
    }
}

fn decode_bundle(doc: BundleDoc, origin: Origin) -> Result<Bundle, CatalogError> {
    #[derive(Deserialize)]
    struct PkgProp {
        #[serde(rename = "packageName", default)]
        package_name: String,
        #[serde(default)]
        version: String,
    }
    let at = |e: String| invalid(&origin, format!("bundle {:?}: {e}", doc.name));
    let pkgs: Vec<PkgProp> = decode_props(&doc.properties, "olm.package").map_err(at)?;
    let [p] = pkgs.as_slice() else {
        return Err(at(format!(
            "must have exactly one olm.package property, found {}",
            pkgs.len()
        )));
    };
    if p.package_name != doc.package {
        return Err(at(format!(
            "olm.package property names package {:?}, the bundle belongs to {:?}",
            p.package_name, doc.package
        )));
    }
    let version = semver::Version::parse(&p.version)
        .map_err(|e| at(format!("version {:?} is not a semantic version: {e}", p.version)))?;
    let provides = decode_props(&doc.properties, "olm.gvk").map_err(at)?;
    let requires_gvk = decode_props(&doc.properties, "olm.gvk.required").map_err(at)?;
    let requires_pkg: Vec<PackageRequired> = decode_props(&doc.properties, "olm.package.required").map_err(at)?;
    for r in &requires_pkg {
        if !r.version_range.is_empty() {
            crate::semver_range::Range::parse(&r.version_range).map_err(|e| {
                at(format!(
                    "olm.package.required {:?} versionRange {:?}: {e}",
                    r.package_name, r.version_range
                ))
            })?;
        }
    }
    Ok(Bundle {
        doc,
        version,
        provides,
        requires_gvk,
        requires_pkg,
        origin,
    })
}

/// Load a catalog from a directory tree (opm `declcfg.LoadFS` semantics, `.indexignore` honoured).
pub fn load_dir(root: &Path) -> Result<Catalog, CatalogError> {
    let mut files = BTreeMap::new();
    collect(root, root, &mut files)?;
    load_files(&files)
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> Result<(), CatalogError> {
    let io = |p: &Path, e: std::io::Error| CatalogError::Io {
        path: p.display().to_string(),
        source: e,
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let ft = std::fs::metadata(&p).map_err(|e| io(&p, e))?;
        if ft.is_dir() {
            collect(root, &p, out)?;
        } else if ft.is_file() {
            let rel = p
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            out.insert(rel, std::fs::read(&p).map_err(|e| io(&p, e))?);
        }
    }
    Ok(())
}

/// Load a catalog from files keyed by their path relative to the catalog root.
pub fn load_files(files: &BTreeMap<String, Vec<u8>>) -> Result<Catalog, CatalogError> {
    let ignores = IgnoreSet::from_files(files);
    let mut b = Builder::new();
    for (path, bytes) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base == ".indexignore" || ignores.is_ignored(path) {
            continue;
        }
        let text = std::str::from_utf8(bytes).map_err(|e| CatalogError::Invalid {
            at: path.clone(),
            detail: format!("not UTF-8 text: {e}"),
        })?;
        b.add_file(path, text)?;
    }
    b.finish()
}
