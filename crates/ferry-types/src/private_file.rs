//! Private files (credential indexes, exported auth files, metadata, job history): written so
//! that nobody else can read them and no name in a shared folder can redirect the write.
//!
//! [`write_atomic`] writes a temp file with an unpredictable name, opened with
//! `O_CREAT|O_EXCL|O_NOFOLLOW` and mode 0600 from creation (a symlink or file planted under
//! that name makes the open fail instead of being followed or reused), syncs it and renames it
//! over the target, so readers see the old or the new content, never half of it.
//! [`append_line`] appends to a file opened with `O_NOFOLLOW`, created 0600, and narrows the
//! mode of an existing file that was wider.

use std::io::Write;
use std::path::{Path, PathBuf};

fn random_suffix() -> String {
    use std::hash::{BuildHasher, Hasher};
    // RandomState is seeded from the OS per process and perturbed per instance: 128 bits
    // nobody else can predict, without a dependency for it.
    let mut out = String::new();
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

fn open_new(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    o.open(path)
}

/// The temp file's name beside `path`: hidden, and not guessable.
fn temp_name(path: &Path) -> PathBuf {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.{}.tmp", random_suffix()))
}

/// Write `bytes` to `path` atomically with mode 0600 (see the module docs). Creates the
/// parent folder if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut attempt = 0;
    let (tmp, mut f) = loop {
        let tmp = temp_name(path);
        match open_new(&tmp) {
            Ok(f) => break (tmp, f),
            // Someone holds that name (by chance or on purpose): take another.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 8 => attempt += 1,
            Err(e) => return Err(e),
        }
    };
    let result = f
        .write_all(bytes)
        .and_then(|_| f.sync_all())
        .and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Append `line` and a newline to `path` (created 0600; an existing file's mode is narrowed to
/// 0600; a symlink at `path` is refused). One `write` call per line, so concurrent appenders
/// do not interleave within a line.
pub fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let mut f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if f.metadata()?.permissions().mode() & 0o077 != 0 {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut buf = line.as_bytes().to_vec();
    buf.push(b'\n');
    f.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn atomic_write_is_private_and_leaves_no_temp_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/state.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        assert_eq!(mode(&p), 0o600);
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        // Two temp names are never the same.
        assert_ne!(temp_name(&p), temp_name(&p));
    }

    #[cfg(unix)]
    #[test]
    fn planted_symlinks_are_never_followed() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        // A symlink at the append target is refused.
        let hist = d.path().join("history.jsonl");
        std::os::unix::fs::symlink(&victim, &hist).unwrap();
        assert!(append_line(&hist, "x").is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        // A symlink planted under a temp name is not opened either.
        let tmp = d.path().join("planted.tmp");
        std::os::unix::fs::symlink(&victim, &tmp).unwrap();
        assert!(open_new(&tmp).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }

    #[cfg(unix)]
    #[test]
    fn append_creates_private_and_narrows_wider_files() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("history.jsonl");
        append_line(&p, "a").unwrap();
        assert_eq!(mode(&p), 0o600);
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        append_line(&p, "b").unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "a\nb\n");
    }
}
