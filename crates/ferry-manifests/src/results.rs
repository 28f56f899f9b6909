//! The results folder `results-<epoch>/`: mapping, mirror resources, the extra documents other
//! planners add ([`ResultsExtras`]), and the `oc apply` command for each cluster version.
//!
//! The folder is assembled under a hidden `.results-<epoch>.partial` name and renamed into place
//! only when every file is written, so a folder named `results-*` is always complete.

use crate::{icsp_yaml, idms_yaml, itms_yaml, mapping_txt, MappedImage};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::{Error, ErrorKind};
use std::path::{Component, Path, PathBuf};

pub const MAPPING_FILE: &str = "mapping.txt";
pub const ICSP_FILE: &str = "imageContentSourcePolicy.yaml";
pub const IDMS_FILE: &str = "imageDigestMirrorSet.yaml";
pub const ITMS_FILE: &str = "imageTagMirrorSet.yaml";

#[derive(Debug, Clone)]
enum Body {
    Bytes(Vec<u8>),
    /// Streamed from this file (charts can be large; never read whole).
    Copy(PathBuf),
}

#[derive(Debug, Clone)]
struct Extra {
    rel: PathBuf,
    body: Body,
    /// Part of the `oc apply` commands (a cluster resource) or only handed over (a chart).
    apply: bool,
}

/// Documents a planner adds to the results folder besides the mirror resources: CatalogSource
/// files, `release-signatures/*.json`, `updateService.yaml`, `charts/*.tgz`. Paths are relative
/// to the results folder; planners fill one of these and the workflow passes it to
/// [`write_results`], so no planner edits this crate.
#[derive(Debug, Clone, Default)]
pub struct ResultsExtras {
    items: Vec<Extra>,
}

impl ResultsExtras {
    pub fn new() -> Self {
        Self::default()
    }

    /// A cluster resource applied on every cluster version (CatalogSource, UpdateService,
    /// signature ConfigMap): it is part of both `oc apply` commands.
    pub fn add_manifest(&mut self, rel: impl Into<PathBuf>, body: impl Into<Vec<u8>>) -> &mut Self {
        self.push(rel, Body::Bytes(body.into()), true)
    }

    /// A file handed to the administrator but not applied (a list of charts, notes).
    pub fn add_file(&mut self, rel: impl Into<PathBuf>, body: impl Into<Vec<u8>>) -> &mut Self {
        self.push(rel, Body::Bytes(body.into()), false)
    }

    /// A file copied (streamed) from `from` into the folder, not applied (`charts/<chart>.tgz`).
    pub fn add_copy(&mut self, rel: impl Into<PathBuf>, from: impl Into<PathBuf>) -> &mut Self {
        self.push(rel, Body::Copy(from.into()), false)
    }

    /// Everything `other` holds, after what this one holds.
    pub fn extend(&mut self, other: ResultsExtras) -> &mut Self {
        self.items.extend(other.items);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The relative paths, in the order they were added.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.items.iter().map(|e| e.rel.as_path())
    }

    fn push(&mut self, rel: impl Into<PathBuf>, body: Body, apply: bool) -> &mut Self {
        self.items.push(Extra {
            rel: rel.into(),
            body,
            apply,
        });
        self
    }

    /// Relative, no `..`, no clash with the built-in files or with each other.
    fn check(&self) -> std::io::Result<()> {
        let builtin = [MAPPING_FILE, ICSP_FILE, IDMS_FILE, ITMS_FILE];
        let mut seen = BTreeSet::new();
        for e in &self.items {
            let plain = !e.rel.as_os_str().is_empty() && e.rel.components().all(|c| matches!(c, Component::Normal(_)));
            if !plain {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "results extra {:?}: must be a relative path inside the results folder (no '..', not absolute)",
                        e.rel
                    ),
                ));
            }
            if builtin.iter().any(|b| e.rel == Path::new(b)) || !seen.insert(e.rel.clone()) {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("results extra {:?}: another results file already has this name", e.rel),
                ));
            }
        }
        Ok(())
    }
}

/// The `oc apply` files for each cluster version. Clusters before OpenShift 4.13 take the
/// ImageContentSourcePolicy; 4.13 and later take ImageDigestMirrorSet + ImageTagMirrorSet.
/// Never both: a 4.13+ cluster given both gets duplicate mirror rules (and the ICSP is
/// deprecated there), an older one does not know the IDMS/ITMS kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyCommands {
    /// Files for clusters before 4.13 (ICSP + the extras that are cluster resources).
    pub before_4_13: Vec<PathBuf>,
    /// Files for 4.13 and later (IDMS, ITMS + the same extras).
    pub from_4_13: Vec<PathBuf>,
}

fn shell_word(p: &Path) -> String {
    let s = p.display().to_string();
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:=@".contains(c)) {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn command(files: &[PathBuf]) -> Option<String> {
    if files.is_empty() {
        return None;
    }
    let args: Vec<String> = files.iter().map(|f| format!("-f {}", shell_word(f))).collect();
    Some(format!("oc apply {}", args.join(" ")))
}

impl ApplyCommands {
    /// `oc apply -f …` for clusters before 4.13 (None when there is nothing to apply).
    pub fn before_4_13_command(&self) -> Option<String> {
        command(&self.before_4_13)
    }

    /// `oc apply -f …` for OpenShift 4.13 and later.
    pub fn from_4_13_command(&self) -> Option<String> {
        command(&self.from_4_13)
    }

    /// The commands for a results folder already on disk (written earlier, or by oc-mirror):
    /// the ICSP before 4.13, IDMS + ITMS from 4.13; every other cluster resource (`*.yaml` /
    /// `*.json` at the top level and in `release-signatures/`; not `mapping.txt`, not `charts/`)
    /// for both. A folder with an ICSP but no IDMS/ITMS (oc-mirror 4.11 writes only the ICSP)
    /// gives the ICSP to 4.13+ clusters too, which still accept it.
    pub fn for_dir(dir: &Path) -> std::io::Result<ApplyCommands> {
        let mut names = Vec::new();
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type()?.is_dir() {
                if name == "release-signatures" {
                    for s in std::fs::read_dir(e.path())? {
                        let s = s?;
                        let n = s.file_name().to_string_lossy().into_owned();
                        if n.ends_with(".json") || n.ends_with(".yaml") {
                            names.push(PathBuf::from(&name).join(n));
                        }
                    }
                }
            } else if (name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".json"))
                && !name.starts_with('.')
            {
                names.push(PathBuf::from(name));
            }
        }
        names.sort();
        let is = |n: &Path, f: &str| n == Path::new(f);
        let has_new = names.iter().any(|n| is(n, IDMS_FILE) || is(n, ITMS_FILE));
        let mut out = ApplyCommands::default();
        for n in names {
            let full = dir.join(&n);
            if is(&n, ICSP_FILE) {
                out.before_4_13.push(full.clone());
                if !has_new {
                    out.from_4_13.push(full);
                }
            } else if is(&n, IDMS_FILE) || is(&n, ITMS_FILE) {
                out.from_4_13.push(full);
            } else {
                out.before_4_13.push(full.clone());
                out.from_4_13.push(full);
            }
        }
        // The mirror resources first, as write_results lists them.
        let rank = |p: &PathBuf| match p.file_name().and_then(|n| n.to_str()) {
            Some(ICSP_FILE) | Some(IDMS_FILE) => 0,
            Some(ITMS_FILE) => 1,
            _ => 2,
        };
        out.before_4_13.sort_by_key(|p| (rank(p), p.clone()));
        out.from_4_13.sort_by_key(|p| (rank(p), p.clone()));
        Ok(out)
    }

    /// The two commands as lines for a terminal (empty when there is nothing to apply).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(c) = self.from_4_13_command() {
            out.push_str(&format!("  OpenShift 4.13 and later:  {c}\n"));
        }
        if let Some(c) = self.before_4_13_command() {
            out.push_str(&format!("  OpenShift before 4.13:     {c}\n"));
        }
        if !out.is_empty() {
            out.insert_str(
                0,
                "apply the results to a cluster (one command, by cluster version; never both):\n",
            );
        }
        out
    }
}

/// What [`write_results`] wrote.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WrittenResults {
    pub dir: PathBuf,
    /// Relative paths of every file written, sorted.
    pub files: Vec<PathBuf>,
    pub apply: ApplyCommands,
}

/// Write `results-<epoch>/` under `workspace`: `mapping.txt`, the ICSP, IDMS and ITMS files
/// (a file with nothing to say is not written) and the extras. When `results-<epoch>` exists
/// already (two runs in one second) the next free second is used, so a run never mixes its
/// files into another run's folder.
pub fn write_results(
    workspace: &Path,
    epoch: u64,
    images: &[MappedImage],
    extras: &ResultsExtras,
) -> std::io::Result<WrittenResults> {
    extras.check()?;
    std::fs::create_dir_all(workspace)?;
    let mut epoch = epoch;
    while workspace.join(format!("results-{epoch}")).exists() {
        epoch += 1;
    }
    let dir = workspace.join(format!("results-{epoch}"));
    let partial = workspace.join(format!(".results-{epoch}.partial"));
    if partial.exists() {
        std::fs::remove_dir_all(&partial)?;
    }
    std::fs::create_dir_all(&partial)?;
    match fill(&partial, images, extras) {
        Ok((files, applied)) => {
            std::fs::rename(&partial, &dir)?;
            let mut apply = ApplyCommands::default();
            for f in &applied.0 {
                apply.before_4_13.push(dir.join(f));
            }
            for f in &applied.1 {
                apply.from_4_13.push(dir.join(f));
            }
            Ok(WrittenResults { dir, files, apply })
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

/// (applied before 4.13, applied from 4.13), relative.
type Applied = (Vec<PathBuf>, Vec<PathBuf>);

fn fill(dir: &Path, images: &[MappedImage], extras: &ResultsExtras) -> std::io::Result<(Vec<PathBuf>, Applied)> {
    let mut files = Vec::new();
    let mut applied: Applied = (Vec::new(), Vec::new());
    std::fs::write(dir.join(MAPPING_FILE), mapping_txt(images)).map_err(|e| named(dir, MAPPING_FILE, e))?;
    files.push(PathBuf::from(MAPPING_FILE));
    for (name, body, old, new) in [
        (ICSP_FILE, icsp_yaml(images), true, false),
        (IDMS_FILE, idms_yaml(images), false, true),
        (ITMS_FILE, itms_yaml(images), false, true),
    ] {
        if body.is_empty() {
            continue;
        }
        std::fs::write(dir.join(name), body).map_err(|e| named(dir, name, e))?;
        files.push(PathBuf::from(name));
        if old {
            applied.0.push(PathBuf::from(name));
        }
        if new {
            applied.1.push(PathBuf::from(name));
        }
    }
    for e in &extras.items {
        let path = dir.join(&e.rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        match &e.body {
            Body::Bytes(b) => std::fs::write(&path, b).map_err(|err| named(dir, &e.rel, err))?,
            Body::Copy(from) => {
                let mut src = std::fs::File::open(from)
                    .map_err(|err| Error::new(err.kind(), format!("results extra {}: {err}", from.display())))?;
                let mut dst = std::fs::File::create(&path).map_err(|err| named(dir, &e.rel, err))?;
                std::io::copy(&mut src, &mut dst).map_err(|err| named(dir, &e.rel, err))?;
            }
        }
        files.push(e.rel.clone());
        if e.apply {
            applied.0.push(e.rel.clone());
            applied.1.push(e.rel.clone());
        }
    }
    files.sort();
    Ok((files, applied))
}

fn named(dir: &Path, rel: impl AsRef<Path>, e: Error) -> Error {
    Error::new(e.kind(), format!("{}: {e}", dir.join(rel).display()))
}
