//! Chart archives (`.tgz`) and unpacked chart folders, read into a [`Chart`] tree: metadata,
//! default values, templates and subcharts (`charts/<name>/` folders and `charts/<name>.tgz`
//! archives, as helm's loader reads them).
//!
//! Charts are small (helm itself refuses archives over 20 MiB after decompression by default);
//! the files are held in memory, with limits so a hostile archive cannot exhaust it.

use crate::yaml::{parse_yaml, Map};
use ferry_types::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Largest decompressed chart (all files, subcharts included). Helm's own default is 20 MiB
/// per archive; nested subchart archives count once more when unpacked, hence the margin.
const MAX_CHART_BYTES: u64 = 100 << 20;
/// Subcharts nested deeper than this are refused (a chart packed into itself would loop).
const MAX_DEPTH: usize = 8;

/// `Chart.yaml` (the fields the scan uses; helm's other fields are ignored on purpose).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartMetadata {
    #[serde(default)]
    pub name: String,
    #[serde(default, deserialize_with = "crate::yaml::stringish")]
    pub version: String,
    #[serde(default, deserialize_with = "crate::yaml::stringish")]
    pub app_version: String,
    #[serde(default, rename = "type")]
    pub chart_type: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}

/// One `dependencies[]` entry (Chart.yaml v2, or requirements.yaml for v1 charts).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Dependency {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Requirements {
    #[serde(default)]
    dependencies: Vec<Dependency>,
}

/// A template file of a chart (`templates/...`), as text.
#[derive(Debug, Clone)]
pub struct Template {
    /// Path inside the chart, e.g. `templates/deployment.yaml`.
    pub path: String,
    pub text: String,
}

/// A loaded chart.
#[derive(Debug, Clone)]
pub struct Chart {
    pub metadata: ChartMetadata,
    /// `values.yaml` (an empty map when the chart has none).
    pub values: Map,
    pub templates: Vec<Template>,
    pub subcharts: Vec<Chart>,
    /// Where it was read from (for messages), e.g. `ingress-nginx-4.12.1.tgz` or
    /// `ingress-nginx-4.12.1.tgz:charts/redis`.
    pub origin: String,
}

impl Chart {
    pub fn is_library(&self) -> bool {
        self.metadata.chart_type.as_deref() == Some("library")
    }
}

/// Read a chart from a `.tgz` archive or an unpacked folder.
pub fn load_path(path: &Path) -> Result<Chart> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path.display(), e))?;
    if meta.is_dir() {
        let mut files = BTreeMap::new();
        let mut total = 0u64;
        // helm reads a folder through its `.helmignore` (archives were filtered when packed).
        let ignore_file = path.join(crate::ignore::FILE);
        let rules = match std::fs::read_to_string(&ignore_file) {
            Ok(t) => crate::ignore::Rules::parse(&t, &ignore_file.display().to_string())?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => crate::ignore::Rules::defaults(),
            Err(e) => return Err(Error::io(ignore_file.display(), e)),
        };
        read_dir(path, path, &rules, &mut files, &mut total)?;
        build(&files, "", &path.display().to_string(), 0)
    } else {
        let f = std::fs::File::open(path).map_err(|e| Error::io(path.display(), e))?;
        load_archive(f, &path.display().to_string())
    }
}

/// Read a chart from `.tgz` bytes (streamed through gzip and tar).
pub fn load_archive<R: Read>(r: R, origin: &str) -> Result<Chart> {
    let files = read_tgz(r, origin)?;
    build(&files, "", origin, 0)
}

fn bad(origin: &str, what: impl std::fmt::Display) -> Error {
    Error::InvalidConfig(format!("chart {origin}: {what}"))
}

fn read_tgz<R: Read>(r: R, origin: &str) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut ar = tar::Archive::new(flate2::read::GzDecoder::new(r));
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    let entries = ar
        .entries()
        .map_err(|e| bad(origin, format!("not a gzip-compressed tar archive ({e})")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(origin, format!("not a readable chart archive ({e})")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| bad(origin, format!("bad entry name ({e})")))?
            .to_string_lossy()
            .replace('\\', "/");
        // Helm archives hold one top folder named after the chart; paths are kept relative to it.
        let rel = match path.trim_start_matches("./").split_once('/') {
            Some((_, rest)) => rest.to_string(),
            None => continue,
        };
        total += entry.size();
        if total > MAX_CHART_BYTES {
            return Err(bad(
                origin,
                format!("larger than {} MiB unpacked; refused", MAX_CHART_BYTES >> 20),
            ));
        }
        let mut buf = Vec::with_capacity(entry.size() as usize);
        entry
            .read_to_end(&mut buf)
            .map_err(|e| bad(origin, format!("{rel}: {e}")))?;
        files.insert(rel, buf);
    }
    if files.is_empty() {
        return Err(bad(origin, "the archive holds no chart files"));
    }
    Ok(files)
}

fn read_dir(
    root: &Path,
    dir: &Path,
    rules: &crate::ignore::Rules,
    files: &mut BTreeMap<String, Vec<u8>>,
    total: &mut u64,
) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir.display(), e))?;
    for ent in rd {
        let ent = ent.map_err(|e| Error::io(dir.display(), e))?;
        let p = ent.path();
        let ft = ent.file_type().map_err(|e| Error::io(p.display(), e))?;
        let rel = p.strip_prefix(root).unwrap_or(&p).to_string_lossy().replace('\\', "/");
        if rules.ignored(&rel, ft.is_dir()) {
            continue;
        }
        if ft.is_dir() {
            if ent.file_name() == ".git" {
                continue;
            }
            read_dir(root, &p, rules, files, total)?;
        } else if ft.is_file() {
            let data = std::fs::read(&p).map_err(|e| Error::io(p.display(), e))?;
            *total += data.len() as u64;
            if *total > MAX_CHART_BYTES {
                return Err(bad(
                    &root.display().to_string(),
                    format!("larger than {} MiB; refused", MAX_CHART_BYTES >> 20),
                ));
            }
            files.insert(rel, data);
        }
    }
    Ok(())
}

/// AppleDouble files (`._name`, left by macOS tar) are not chart content.
fn is_junk(path: &str) -> bool {
    path.rsplit('/').next().is_some_and(|b| b.starts_with("._"))
}

fn text(origin: &str, path: &str, data: &[u8]) -> Result<String> {
    String::from_utf8(data.to_vec()).map_err(|_| bad(origin, format!("{path} is not UTF-8 text")))
}

fn build(files: &BTreeMap<String, Vec<u8>>, prefix: &str, origin: &str, depth: usize) -> Result<Chart> {
    if depth > MAX_DEPTH {
        return Err(bad(
            origin,
            format!("subcharts nested deeper than {MAX_DEPTH} levels; refused"),
        ));
    }
    let chart_yaml = files
        .get(&format!("{prefix}Chart.yaml"))
        .ok_or_else(|| bad(origin, "no Chart.yaml found (is this a helm chart?)"))?;
    let chart_text = text(origin, "Chart.yaml", chart_yaml)?;
    let mut metadata: ChartMetadata =
        serde_yaml_ng::from_str(&chart_text).map_err(|e| bad(origin, format!("Chart.yaml: {e}")))?;
    if metadata.name.is_empty() {
        return Err(bad(origin, "Chart.yaml has no `name`"));
    }
    if let Some(req) = files.get(&format!("{prefix}requirements.yaml")) {
        // apiVersion v1 charts keep their dependencies in requirements.yaml.
        if metadata.dependencies.is_empty() {
            let t = text(origin, "requirements.yaml", req)?;
            let r: Requirements =
                serde_yaml_ng::from_str(&t).map_err(|e| bad(origin, format!("requirements.yaml: {e}")))?;
            metadata.dependencies = r.dependencies;
        }
    }
    let values = match files.get(&format!("{prefix}values.yaml")) {
        Some(v) => parse_yaml(&text(origin, "values.yaml", v)?, &format!("{origin}: values.yaml"))?,
        None => Map::new(),
    };
    let mut templates = Vec::new();
    let tpl_prefix = format!("{prefix}templates/");
    let charts_prefix = format!("{prefix}charts/");
    let mut sub_dirs = BTreeMap::<String, ()>::new();
    let mut subcharts = Vec::new();
    for (path, data) in files.range(prefix.to_string()..) {
        if !path.starts_with(prefix) {
            break;
        }
        if is_junk(path) {
            continue;
        }
        if let Some(rel) = path.strip_prefix(&tpl_prefix) {
            templates.push(Template {
                path: format!("templates/{rel}"),
                text: text(origin, path, data)?,
            });
        } else if let Some(rel) = path.strip_prefix(&charts_prefix) {
            match rel.split_once('/') {
                Some((dir, "Chart.yaml")) => {
                    sub_dirs.insert(dir.to_string(), ());
                }
                None if rel.ends_with(".tgz") => {
                    let sub_origin = format!("{origin}:charts/{rel}");
                    let inner = read_tgz(data.as_slice(), &sub_origin)?;
                    subcharts.push(build(&inner, "", &sub_origin, depth + 1)?);
                }
                _ => {}
            }
        }
    }
    for dir in sub_dirs.keys() {
        let sub_origin = format!("{origin}:charts/{dir}");
        subcharts.push(build(files, &format!("{charts_prefix}{dir}/"), &sub_origin, depth + 1)?);
    }
    Ok(Chart {
        metadata,
        values,
        templates,
        subcharts,
        origin: origin.to_string(),
    })
}
