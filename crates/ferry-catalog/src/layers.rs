//! The configs directory of a catalog image, rebuilt from its layers.
//!
//! Layers are applied in order, as `mutate.Extract` flattens them in oc-mirror 4.14's
//! `fbc_operators.go`, but only entries below the configs directory are kept (in memory: FBC
//! files are small JSON/YAML; everything else of the image streams past and is discarded).
//! Whiteouts: `.wh.<name>` removes `<name>` (and everything below it) from earlier layers,
//! `.wh..wh..opq` empties its directory of earlier layers' entries. Hard links to files already
//! kept are resolved; symbolic links inside the configs directory are refused with a clear error
//! (opm reads through `os.DirFS`, which follows them, but a link can point anywhere in the image).

use crate::model::Catalog;
use crate::CatalogError;
use std::collections::BTreeMap;
use std::io::Read;

/// Label naming the configs directory of a file-based catalog image.
pub const CONFIGS_LABEL: &str = "operators.operatorframework.io.index.configs.v1";
/// Label of a sqlite-based (pre-4.11) index image.
pub const DATABASE_LABEL: &str = "operators.operatorframework.io.index.database.v1";

/// Which directory holds the catalog, from the image config's labels. Refuses sqlite catalogs
/// and images that are not catalogs.
pub fn configs_dir(labels: &BTreeMap<String, String>, image: &str) -> Result<String, CatalogError> {
    if let Some(dir) = labels.get(CONFIGS_LABEL) {
        let d = dir.trim_matches('/');
        if d.is_empty() || d.split('/').any(|c| c == ".." || c == ".") {
            return Err(CatalogError::NotSupported(format!(
                "{image}: label {CONFIGS_LABEL}={dir:?} does not name a directory inside the image"
            )));
        }
        return Ok(d.to_string());
    }
    if labels.contains_key(DATABASE_LABEL) {
        return Err(CatalogError::NotSupported(format!(
            "{image}: not supported: sqlite catalogs (OpenShift 4.10 and older); label {DATABASE_LABEL} is set. Use a file-based catalog (OpenShift 4.11 or newer index image)"
        )));
    }
    Err(CatalogError::NotSupported(format!(
        "{image}: not a file-based catalog: the image config has no {CONFIGS_LABEL} label (labels: {})",
        if labels.is_empty() {
            "none".to_string()
        } else {
            labels.keys().cloned().collect::<Vec<_>>().join(", ")
        }
    )))
}

/// Applies layers in order and keeps the files below one directory.
pub struct ConfigsExtractor {
    prefix: String,
    files: BTreeMap<String, Vec<u8>>,
    image: String,
}

fn norm(path: &str) -> String {
    let p = path.trim_start_matches("./").trim_start_matches('/');
    p.trim_end_matches('/').to_string()
}

impl ConfigsExtractor {
    /// `dir` as returned by [`configs_dir`] (no leading slash). `image` is used in messages.
    pub fn new(dir: &str, image: &str) -> Self {
        ConfigsExtractor {
            prefix: format!("{}/", dir.trim_matches('/')),
            files: BTreeMap::new(),
            image: image.to_string(),
        }
    }

    fn remove_tree(&mut self, path: &str) {
        let below = format!("{path}/");
        self.files.retain(|k, _| k != path && !k.starts_with(&below));
    }

    /// Apply one layer blob (gzip or plain tar; the media type decides, the magic bytes are
    /// checked too). `what` names the layer digest in errors.
    pub fn apply_layer(&mut self, reader: impl Read, media_type: &str, what: &str) -> Result<(), CatalogError> {
        if media_type.contains("zstd") {
            return Err(CatalogError::NotSupported(format!(
                "{}: layer {what}: not supported in this build: zstd-compressed layers ({media_type})",
                self.image
            )));
        }
        let io = |e: std::io::Error| CatalogError::Io {
            path: format!("{} layer {what}", self.image),
            source: e,
        };
        let mut r = reader;
        let mut head = [0u8; 2];
        let mut n = 0;
        while n < 2 {
            let k = r.read(&mut head[n..]).map_err(io)?;
            if k == 0 {
                break;
            }
            n += k;
        }
        let chained = std::io::Cursor::new(head[..n].to_vec()).chain(r);
        let input: Box<dyn Read> = if n == 2 && head == [0x1f, 0x8b] {
            Box::new(flate2::read::GzDecoder::new(chained))
        } else {
            Box::new(chained)
        };
        let mut ar = tar::Archive::new(input);
        // Entries of this layer; whiteouts apply to earlier layers only, so collect first.
        let mut added: Vec<(String, Vec<u8>)> = Vec::new();
        let mut removed: Vec<String> = Vec::new();
        let mut opaque: Vec<String> = Vec::new();
        let prefix = self.prefix.clone();
        let dir = prefix.trim_end_matches('/').to_string();
        for entry in ar.entries().map_err(io)? {
            let mut e = entry.map_err(io)?;
            let raw = e.path().map_err(io)?.to_string_lossy().into_owned();
            let path = norm(&raw);
            let (parent, base) = match path.rsplit_once('/') {
                Some((p, b)) => (p.to_string(), b.to_string()),
                None => (String::new(), path.clone()),
            };
            if base == ".wh..wh..opq" {
                // Opaque directory: affects us if it is the configs dir, inside it, or above it.
                if parent == dir
                    || parent.starts_with(&prefix)
                    || dir.starts_with(&format!("{parent}/"))
                    || parent.is_empty()
                {
                    opaque.push(parent);
                }
                continue;
            }
            if let Some(target) = base.strip_prefix(".wh.") {
                let victim = if parent.is_empty() {
                    target.to_string()
                } else {
                    format!("{parent}/{target}")
                };
                removed.push(victim);
                continue;
            }
            let inside = path.starts_with(&prefix);
            if !inside {
                continue;
            }
            let kind = e.header().entry_type();
            if kind.is_file() {
                let mut buf = Vec::new();
                e.read_to_end(&mut buf).map_err(io)?;
                added.push((path, buf));
            } else if kind.is_hard_link() {
                let target = e
                    .link_name()
                    .map_err(io)?
                    .map(|l| norm(&l.to_string_lossy()))
                    .unwrap_or_default();
                let data = added
                    .iter()
                    .rev()
                    .find(|(p, _)| *p == target)
                    .map(|(_, d)| d.clone())
                    .or_else(|| self.files.get(&target).cloned())
                    .ok_or_else(|| {
                        CatalogError::NotSupported(format!(
                            "{}: layer {what}: {path} is a hard link to {target}, which is not a file of the catalog",
                            self.image
                        ))
                    })?;
                added.push((path, data));
            } else if kind.is_symlink() {
                return Err(CatalogError::NotSupported(format!(
                    "{}: layer {what}: {path} is a symbolic link; not supported in this build: links inside the catalog directory",
                    self.image
                )));
            }
        }
        for d in opaque {
            let below = if d.is_empty() { String::new() } else { format!("{d}/") };
            self.files.retain(|k, _| !k.starts_with(&below));
        }
        for r in removed {
            self.remove_tree(&r);
        }
        for (p, d) in added {
            self.files.insert(p, d);
        }
        Ok(())
    }

    /// The kept files, keyed by path relative to the configs directory.
    pub fn into_files(self) -> Result<BTreeMap<String, Vec<u8>>, CatalogError> {
        if self.files.is_empty() {
            return Err(CatalogError::NotSupported(format!(
                "{}: the catalog directory /{} is missing or empty in the image",
                self.image,
                self.prefix.trim_end_matches('/')
            )));
        }
        let n = self.prefix.len();
        Ok(self.files.into_iter().map(|(k, v)| (k[n..].to_string(), v)).collect())
    }

    /// Load the catalog from the kept files.
    pub fn into_catalog(self) -> Result<Catalog, CatalogError> {
        let image = self.image.clone();
        let files = self.into_files()?;
        crate::load::load_files(&files).map_err(|e| match e {
            CatalogError::Invalid { at, detail } => CatalogError::Invalid {
                at: format!("{image} {at}"),
                detail,
            },
            other => other,
        })
    }
}
