//! Extraction of the appended squashfs with `backhand`: each file is decompressed block by block
//! straight into its destination (never held whole), and the once-per-build cache folder is
//! written under a temporary name and renamed into place, so an interrupted extraction is never
//! taken for a complete one.

use backhand::{FilesystemReader, InnerNode};
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom};
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Written last into a cache folder: its presence means every file before it was extracted.
pub const DONE_MARKER: &str = ".ferry-appimage-extracted";

/// What one extraction wrote.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Extracted {
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub bytes: u64,
}

/// Extracts the squashfs at `offset` of `image` into `dest` (created). With `only`, just that
/// path (a file, or a folder with everything under it) and the folders leading to it.
/// `on_entry` sees each written path relative to `dest`.
pub fn extract(
    image: &Path,
    offset: u64,
    dest: &Path,
    only: Option<&Path>,
    mut on_entry: impl FnMut(&Path),
) -> io::Result<Extracted> {
    let file = File::open(image).map_err(|e| ctx(e, &format!("open {}", image.display())))?;
    let fs = FilesystemReader::from_reader_with_offset(BufReader::new(file), offset).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: the squashfs at offset {offset} does not read: {e}",
                image.display()
            ),
        )
    })?;
    fs::create_dir_all(dest).map_err(|e| ctx(e, &format!("create {}", dest.display())))?;
    let mut done = Extracted::default();
    // Folder modes are applied last: a read-only folder would refuse the files that go in it.
    let mut dir_modes: Vec<(PathBuf, u32)> = Vec::new();
    for node in fs.files() {
        let rel = safe_relative(&node.fullpath)?;
        if rel.as_os_str().is_empty() {
            continue; // the root: `dest` itself
        }
        if let Some(only) = only {
            if !(rel.starts_with(only) || only.starts_with(&rel)) {
                continue;
            }
        }
        let out = dest.join(&rel);
        let mode = u32::from(node.header.permissions) & 0o7777;
        match &node.inner {
            InnerNode::Dir(_) => {
                fs::create_dir_all(&out).map_err(|e| ctx(e, &format!("create {}", out.display())))?;
                dir_modes.push((out, mode));
                done.dirs += 1;
            }
            InnerNode::File(f) => {
                let mut reader = fs.file(f).reader();
                let mut w =
                    BufWriter::new(File::create(&out).map_err(|e| ctx(e, &format!("create {}", out.display())))?);
                done.bytes += io::copy(&mut reader, &mut w).map_err(|e| ctx(e, &format!("write {}", out.display())))?;
                w.into_inner()
                    .map_err(|e| ctx(e.into_error(), &format!("write {}", out.display())))?;
                fs::set_permissions(&out, fs::Permissions::from_mode(mode))?;
                done.files += 1;
            }
            InnerNode::Symlink(s) => {
                let _ = fs::remove_file(&out);
                symlink(&s.link, &out).map_err(|e| ctx(e, &format!("link {}", out.display())))?;
                done.symlinks += 1;
            }
            // An AppDir holds no devices, pipes or sockets; one in the image is skipped, said so.
            _ => {
                eprintln!("ferry-appimage: skipped {} (not a file, folder or link)", rel.display());
                continue;
            }
        }
        on_entry(&rel);
    }
    for (dir, mode) in dir_modes.into_iter().rev() {
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode))?;
    }
    Ok(done)
}

/// The folder of the once-per-build cache for this image, named by a hash of its superblock
/// (which holds the build time and every table's position: each build differs).
pub fn cache_key(image: &Path, offset: u64) -> io::Result<String> {
    let mut f = File::open(image)?;
    f.seek(SeekFrom::Start(offset))?;
    let mut sb = [0u8; 96];
    f.read_exact(&mut sb)?;
    // FNV-1a: a stable name, not a security boundary (the folder is the user's own).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in sb {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    Ok(format!("{h:016x}"))
}

/// The extracted AppDir in `cache_root/<key>`, extracting it first when no complete one is there.
/// Returns the folder and whether this call extracted it.
pub fn cached(image: &Path, offset: u64, cache_root: &Path) -> io::Result<(PathBuf, bool)> {
    let key = cache_key(image, offset)?;
    let dir = cache_root.join(&key);
    if dir.join(DONE_MARKER).is_file() {
        return Ok((dir, false));
    }
    fs::create_dir_all(cache_root).map_err(|e| ctx(e, &format!("create {}", cache_root.display())))?;
    let partial = cache_root.join(format!("{key}.partial-{}", std::process::id()));
    let _ = fs::remove_dir_all(&partial);
    let result =
        extract(image, offset, &partial, None, |_| {}).and_then(|_| File::create(partial.join(DONE_MARKER)).map(drop));
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&partial);
        return Err(e);
    }
    // A complete folder left by an earlier, interrupted-before-marker run is replaced.
    if dir.exists() && !dir.join(DONE_MARKER).is_file() {
        let _ = fs::remove_dir_all(&dir);
    }
    if let Err(e) = fs::rename(&partial, &dir) {
        // Another start of the same image finished first: use its copy.
        let _ = fs::remove_dir_all(&partial);
        if !dir.join(DONE_MARKER).is_file() {
            return Err(ctx(e, &format!("rename into {}", dir.display())));
        }
        return Ok((dir, false));
    }
    Ok((dir, true))
}

/// A node's path inside the image as a relative path with no `..`: nothing lands outside `dest`.
fn safe_relative(p: &Path) -> io::Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => out.push(n),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the image holds a path that leaves its root: {}", p.display()),
                ))
            }
        }
    }
    Ok(out)
}

fn ctx(e: io::Error, what: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::process::Command;

    /// A squashfs made by Debian's mksquashfs (what build.sh uses), behind 1000 bytes standing
    /// for the runtime, extracts with its contents, modes and links; a partial extraction takes
    /// one path; the cache extracts once and is reused.
    #[test]
    fn extracts_what_mksquashfs_wrote() {
        if Command::new("mksquashfs").arg("-version").output().is_err() {
            eprintln!("skipped: mksquashfs is not installed (apt-get install squashfs-tools)");
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("AppDir");
        fs::create_dir_all(src.join("usr/bin")).unwrap();
        fs::write(src.join("AppRun"), "#!/bin/sh\n").unwrap();
        fs::set_permissions(src.join("AppRun"), fs::Permissions::from_mode(0o755)).unwrap();
        // Several 128 KiB blocks plus a tail that lands in a fragment.
        let big: Vec<u8> = (0..400_000u32).map(|i| (i * 7 % 251) as u8).collect();
        fs::write(src.join("usr/bin/app"), &big).unwrap();
        symlink("usr/bin/app", src.join("app-link")).unwrap();
        let sqfs = t.path().join("app.squashfs");
        let st = Command::new("mksquashfs")
            .arg(&src)
            .arg(&sqfs)
            .args(["-root-owned", "-noappend", "-comp", "gzip", "-quiet"])
            .status()
            .unwrap();
        assert!(st.success());
        let image = t.path().join("Test.AppImage");
        let mut f = File::create(&image).unwrap();
        f.write_all(&[0x5a; 1000]).unwrap();
        f.write_all(&fs::read(&sqfs).unwrap()).unwrap();
        drop(f);

        let out = t.path().join("out");
        let mut seen = Vec::new();
        let done = extract(&image, 1000, &out, None, |p| seen.push(p.to_path_buf())).unwrap();
        assert_eq!((done.files, done.symlinks, done.bytes), (2, 1, big.len() as u64 + 10));
        assert_eq!(fs::read(out.join("usr/bin/app")).unwrap(), big);
        let mode = fs::metadata(out.join("AppRun")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
        assert_eq!(fs::read_link(out.join("app-link")).unwrap(), Path::new("usr/bin/app"));
        assert!(seen.contains(&PathBuf::from("usr/bin/app")), "{seen:?}");

        let one = t.path().join("one");
        extract(&image, 1000, &one, Some(Path::new("usr/bin/app")), |_| {}).unwrap();
        assert!(one.join("usr/bin/app").is_file() && !one.join("AppRun").exists());

        let e = extract(&image, 999, &t.path().join("bad"), None, |_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("offset 999"), "{e}");

        let cache = t.path().join("cache");
        let (dir, fresh) = cached(&image, 1000, &cache).unwrap();
        assert!(fresh && dir.join(DONE_MARKER).is_file() && dir.join("AppRun").is_file());
        let (again, fresh) = cached(&image, 1000, &cache).unwrap();
        assert_eq!((again, fresh), (dir, false));
        let names: Vec<_> = fs::read_dir(&cache).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "no partial folder left: {names:?}");
    }
}
