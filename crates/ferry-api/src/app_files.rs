//! File-system helpers the desktop app needs around the workflows: free space of a chosen
//! folder, reading and saving image-set files, and reading a results folder for the Results
//! screen. Errors name the path and say what to do.

use crate::wire::{FolderInfo, ResultFile, ResultKind, ResultsView};
use ferry_types::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Image sets are small; anything bigger is the wrong file (an archive picked by mistake).
const MAX_TEXT_FILE: u64 = 8 * 1024 * 1024;
/// Result files larger than this are listed but not loaded into the window.
const MAX_RESULT_FILE: u64 = 4 * 1024 * 1024;

/// Free and total space of the file system holding `path`, and whether Ferry can write there.
pub fn folder_info(path: &Path) -> Result<FolderInfo> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound {
            what: format!("folder {}", path.display()),
            hint: Some("pick an existing folder or mount the drive first".into()),
        },
        _ => Error::io(path.display(), e),
    })?;
    if !meta.is_dir() {
        return Err(Error::InvalidConfig(format!(
            "{} is a file, not a folder; pick the folder that should hold the archive",
            path.display()
        )));
    }
    let free = fs2::available_space(path).map_err(|e| Error::io(path.display(), e))?;
    let total = fs2::total_space(path).map_err(|e| Error::io(path.display(), e))?;
    Ok(FolderInfo {
        path: path.display().to_string(),
        exists: true,
        writable: is_writable(path),
        free_bytes: free,
        total_bytes: total,
    })
}

fn is_writable(dir: &Path) -> bool {
    // Permission bits do not tell about read-only mounts; creating a file does.
    let probe = dir.join(format!(".ferry-write-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            true
        }
        Err(_) => false,
    }
}

/// Reads a UTF-8 text file (an image set), refusing huge or binary files with a clear message.
pub fn read_text_file(path: &Path) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path.display(), e))?;
    if meta.len() > MAX_TEXT_FILE {
        return Err(Error::InvalidConfig(format!(
            "{} is {} bytes, too big for an image set; pick the imageset-config.yaml file",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path.display(), e))?;
    String::from_utf8(bytes).map_err(|_| {
        Error::InvalidConfig(format!(
            "{} is not a UTF-8 text file; pick a YAML image set",
            path.display()
        ))
    })
}

/// Writes a text file atomically (temporary file, then rename), so a crash never leaves half a file.
pub fn write_text_file(path: &Path, content: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        Error::InvalidConfig(format!("{} has no file name; choose a file to save to", path.display()))
    })?;
    let tmp = dir.join(format!(".{}.ferry-tmp", name.to_string_lossy()));
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(tmp.display(), e))?;
    f.write_all(content.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(tmp.display(), e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path.display(), e))
}

/// What kind of result a file in a results folder is, by oc-mirror's file names.
pub fn result_kind(name: &str) -> ResultKind {
    let lower = name.to_ascii_lowercase();
    if lower == "mapping.txt" {
        ResultKind::Mapping
    } else if lower.starts_with("imagecontentsourcepolicy") {
        ResultKind::Icsp
    } else if lower.starts_with("idms") || lower.contains("imagedigestmirrorset") {
        ResultKind::Idms
    } else if lower.starts_with("itms") || lower.contains("imagetagmirrorset") {
        ResultKind::Itms
    } else if lower.starts_with("catalogsource") {
        ResultKind::CatalogSource
    } else if lower.starts_with("updateservice") {
        ResultKind::UpdateService
    } else if lower.contains("signature") {
        ResultKind::Signature
    } else {
        ResultKind::Other
    }
}

fn kind_rank(k: ResultKind) -> u8 {
    match k {
        ResultKind::Mapping => 0,
        ResultKind::Icsp => 1,
        ResultKind::Idms => 2,
        ResultKind::Itms => 3,
        ResultKind::CatalogSource => 4,
        ResultKind::UpdateService => 5,
        ResultKind::Signature => 6,
        ResultKind::Other => 7,
    }
}

/// Loads a results folder (`oc-mirror-workspace/results-<epoch>/` or Ferry's equivalent):
/// every file of it and of its `release-signatures/` subfolder, mapping first.
pub fn load_results(dir: &Path) -> Result<ResultsView> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files, 0)?;
    if files.is_empty() {
        return Err(Error::NotFound {
            what: format!("result files in {}", dir.display()),
            hint: Some("pick the results-<number> folder a mirror or import run printed".into()),
        });
    }
    files.sort_by(|a, b| kind_rank(a.kind).cmp(&kind_rank(b.kind)).then(a.name.cmp(&b.name)));
    let dir_s = dir.display().to_string();
    // One command per cluster version: ICSP before 4.13, IDMS/ITMS from 4.13, never both
    // (`oc apply -f DIR/` would apply both kinds at once).
    let apply = crate::disk::apply_commands(dir)?;
    let (apply_from_4_13, apply_before_4_13) = (apply.from_4_13_command(), apply.before_4_13_command());
    let apply_command = apply_from_4_13
        .clone()
        .unwrap_or_else(|| "# nothing to apply: this folder holds no cluster resources".to_string());
    Ok(ResultsView {
        dir: dir_s,
        files,
        apply_command,
        apply_from_4_13,
        apply_before_4_13,
    })
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<ResultFile>, depth: u8) -> Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir.display(), e))?;
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let name = p.strip_prefix(root).unwrap_or(&p).display().to_string();
        if p.is_dir() {
            // Charts and catalogs are binary payloads; only signatures are shown from subfolders.
            if depth == 0 && name.contains("signature") {
                collect(root, &p, out, depth + 1)?;
            }
            continue;
        }
        let len = p.metadata().map(|m| m.len()).unwrap_or(0);
        let mut kind = result_kind(p.file_name().map(|n| n.to_string_lossy()).as_deref().unwrap_or(""));
        if depth > 0 {
            kind = ResultKind::Signature;
        }
        let content = if len > MAX_RESULT_FILE {
            format!(
                "# {len} bytes: too large to show here; open {} in an editor",
                p.display()
            )
        } else {
            match std::fs::read(&p) {
                Ok(b) => String::from_utf8(b).unwrap_or_else(|_| format!("# binary file ({len} bytes)")),
                Err(e) => return Err(Error::io(p.display(), e)),
            }
        };
        out.push(ResultFile {
            kind,
            name,
            path: p.display().to_string(),
            content,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ferry-app-files-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn folder_info_reports_space_and_writability() {
        let d = tmp("info");
        let i = folder_info(&d).unwrap();
        assert!(i.writable);
        assert!(i.total_bytes > 0 && i.free_bytes <= i.total_bytes);
        let e = folder_info(&d.join("missing")).unwrap_err();
        assert_eq!(e.code(), ferry_types::ErrorCode::NotFound);
        assert!(e.to_string().contains("mount the drive"), "{e}");
        std::fs::write(d.join("f"), "x").unwrap();
        assert!(folder_info(&d.join("f")).unwrap_err().to_string().contains("is a file"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn text_files_round_trip_and_binary_is_refused() {
        let d = tmp("text");
        let p = d.join("imageset.yaml");
        write_text_file(&p, "kind: ImageSetConfiguration\n").unwrap();
        assert_eq!(read_text_file(&p).unwrap(), "kind: ImageSetConfiguration\n");
        write_text_file(&p, "second\n").unwrap();
        assert_eq!(read_text_file(&p).unwrap(), "second\n");
        let leftovers: Vec<_> = std::fs::read_dir(&d).unwrap().flatten().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file stays behind");
        std::fs::write(d.join("bin"), [0xff, 0xfe, 0x00]).unwrap();
        let e = read_text_file(&d.join("bin")).unwrap_err();
        assert!(e.to_string().contains("not a UTF-8 text file"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn loads_a_results_folder_in_a_useful_order() {
        let d = tmp("results");
        std::fs::write(
            d.join("imageContentSourcePolicy.yaml"),
            "kind: ImageContentSourcePolicy\n",
        )
        .unwrap();
        std::fs::write(d.join("mapping.txt"), "a=b\n").unwrap();
        std::fs::write(
            d.join("catalogSource-redhat-operator-index.yaml"),
            "kind: CatalogSource\n",
        )
        .unwrap();
        std::fs::create_dir(d.join("release-signatures")).unwrap();
        std::fs::write(d.join("release-signatures/signature-sha256-abc.json"), "{}").unwrap();
        std::fs::create_dir(d.join("charts")).unwrap();
        std::fs::write(d.join("charts/x.tgz"), [0u8; 4]).unwrap();
        let v = load_results(&d).unwrap();
        let kinds: Vec<_> = v.files.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ResultKind::Mapping,
                ResultKind::Icsp,
                ResultKind::CatalogSource,
                ResultKind::Signature
            ]
        );
        assert_eq!(v.files[0].content, "a=b\n");
        let icsp = d.join("imageContentSourcePolicy.yaml");
        let cs = d.join("catalogSource-redhat-operator-index.yaml");
        let sig = d.join("release-signatures/signature-sha256-abc.json");
        assert_eq!(
            v.apply_before_4_13.as_deref(),
            Some(
                format!(
                    "oc apply -f {} -f {} -f {}",
                    icsp.display(),
                    cs.display(),
                    sig.display()
                )
                .as_str()
            )
        );
        // No IDMS in this folder (oc-mirror 4.11 style): 4.13+ clusters take the ICSP too.
        assert_eq!(v.apply_from_4_13, v.apply_before_4_13);
        assert_eq!(Some(v.apply_command.clone()), v.apply_from_4_13);
        std::fs::remove_dir_all(&d).unwrap();
        let e = load_results(&tmp("empty")).unwrap_err();
        assert!(e.to_string().contains("results-<number>"), "{e}");
    }
}
