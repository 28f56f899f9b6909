//! The runtime at the head of Ferry's AppImage (`packaging/appimage/build.sh` writes it, marks
//! it with the type-2 magic `AI\x02` at offset 8, and appends the AppDir's squashfs).
//!
//! Started as the AppImage, it runs the AppDir's `AppRun` from a read-only squashfuse mount when
//! squashfuse and /dev/fuse are there (the standard runtime links libfuse instead; this one has
//! no library to need), else from a copy extracted once per build into
//! `${XDG_CACHE_HOME:-~/.cache}/ferry-appimage/<build>`. `AppRun` gets the standard runtime's
//! environment: `APPIMAGE` (this file), `APPDIR`, `ARGV0`, `OWD` (the caller's working folder).
//!
//! Options, as the standard runtime's: `--appimage-extract [PATH]` (into ./squashfs-root),
//! `--appimage-offset`, `--appimage-extract-and-run`, `--appimage-version`, `--appimage-help`.
//! Not supported (refused with a message): `--appimage-mount`, `--appimage-updateinformation`,
//! `--appimage-signature`, `--appimage-portable-home`/`-config` (no update info or signature
//! is embedded in this build).

mod elf;
mod extract;
mod mount;

use std::ffi::OsString;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let first = args.get(1).and_then(|a| a.to_str()).unwrap_or("");
    if first == mount::HELPER_ARG {
        return ExitCode::from(mount::helper(&args[2..]) as u8);
    }
    match run(&args, first) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferry-appimage: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[OsString], first: &str) -> Result<(), String> {
    let image = std::env::current_exe().map_err(|e| format!("cannot find its own file (/proc/self/exe): {e}"))?;
    let offset = File::open(&image)
        .and_then(|mut f| elf::squashfs_offset(&mut f))
        .map_err(|e| format!("{}: {e}", image.display()))?;
    let mut rest = &args[1.min(args.len())..];
    let mut force_extract = false;
    match first {
        "--appimage-offset" => {
            println!("{offset}");
            return Ok(());
        }
        "--appimage-version" => {
            println!(
                "Ferry AppImage runtime {} (type 2, squashfs gzip)",
                env!("CARGO_PKG_VERSION")
            );
            return Ok(());
        }
        "--appimage-help" => {
            println!("{}", HELP.trim());
            return Ok(());
        }
        "--appimage-extract" => {
            let only = rest.get(1).map(PathBuf::from);
            let dest = Path::new("squashfs-root");
            let done = extract::extract(&image, offset, dest, only.as_deref(), |p| {
                println!("squashfs-root/{}", p.display())
            })
            .map_err(|e| e.to_string())?;
            eprintln!(
                "extracted {} files, {} folders, {} links ({} bytes)",
                done.files, done.dirs, done.symlinks, done.bytes
            );
            return Ok(());
        }
        "--appimage-extract-and-run" => {
            force_extract = true;
            rest = &rest[1..];
        }
        other if other.starts_with("--appimage-") => {
            return Err(format!(
                "{other} is not supported in this build (supported: --appimage-extract [PATH], --appimage-offset, \
                 --appimage-extract-and-run, --appimage-version, --appimage-help)"
            ))
        }
        _ => {}
    }
    let appdir = appdir(&image, offset, force_extract)?;
    let owd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    let apprun = appdir.join("AppRun");
    let err = Command::new(&apprun)
        .args(rest)
        .env("APPIMAGE", &image)
        .env("APPDIR", &appdir)
        .env("ARGV0", args.first().cloned().unwrap_or_default())
        .env("OWD", owd)
        .exec();
    Err(format!("cannot start {}: {err}", apprun.display()))
}

/// Where the AppDir is: mounted when it can be, else the extracted cache (and why, once).
fn appdir(image: &Path, offset: u64, force_extract: bool) -> Result<PathBuf, String> {
    let why = if force_extract {
        Some("--appimage-extract-and-run")
    } else {
        mount::unavailable()
    };
    let why: String = match why {
        Some(w) => w.to_string(),
        None => match mount::mount(image, offset) {
            Ok(dir) => return Ok(dir),
            Err(e) => format!("mounting failed: {e}"),
        },
    };
    let root = cache_root().ok_or("neither XDG_CACHE_HOME nor HOME is set: nowhere to extract the AppImage to")?;
    let started = std::time::Instant::now();
    let (dir, fresh) = extract::cached(image, offset, &root)
        .map_err(|e| format!("extracting {} into {} failed: {e}", image.display(), root.display()))?;
    if fresh {
        eprintln!(
            "ferry-appimage: extracted once to {} in {:.1} s ({why}; later starts reuse it)",
            dir.display(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(dir)
}

fn cache_root() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("ferry-appimage"))
}

const HELP: &str = "
Ferry AppImage. Starts the Ferry desktop app; `Ferry.AppImage ferry ARGS` runs the ferry CLI.
  --appimage-extract [PATH]   extract the image (or PATH inside it) into ./squashfs-root
  --appimage-extract-and-run  run from the extracted cache even where squashfuse could mount it
  --appimage-offset           print where the squashfs starts (for squashfuse -o offset=N)
  --appimage-version          print the runtime's version
Runs from a squashfuse mount when squashfuse and /dev/fuse are there, else from a copy extracted
once to ${XDG_CACHE_HOME:-~/.cache}/ferry-appimage/ (APPIMAGE_EXTRACT_AND_RUN=1 forces that).
";
