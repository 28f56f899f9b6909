//! The file system under an export destination, read from the kernel's mount table
//! (`/proc/self/mounts`): the guided flow must say when a USB stick is FAT32, because a part of
//! 4 GiB or more cannot be written there (the write fails deep into the export otherwise).
//!
//! The mount table (not `statfs` magic numbers) is used because it names the type the way users
//! know it (`vfat`, `exfat`, `ntfs3`) and needs no unsafe code; on systems without it the type
//! is reported as `unknown` and no limit is assumed.

use std::path::{Path, PathBuf};

/// The largest file FAT12/16/32 can hold: 4 GiB minus one byte.
pub const FAT_MAX_FILE: u64 = (4u64 << 30) - 1;

/// One line of the mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub device: String,
    pub mount_point: PathBuf,
    pub fs_type: String,
}

/// Parses `/proc/mounts` text (`device mountpoint type options dump pass`), undoing the octal
/// escapes the kernel uses for blanks and backslashes in paths (`\040` is a space).
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let device = unescape(f.next()?);
            let mount_point = PathBuf::from(unescape(f.next()?));
            let fs_type = f.next()?.to_string();
            Some(Mount {
                device,
                mount_point,
                fs_type,
            })
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount holding `path`: the longest mount point that is a whole-component prefix of it
/// (the last such line wins, as later mounts hide earlier ones at the same point).
pub fn mount_of<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    let mut best: Option<&Mount> = None;
    for m in mounts {
        if path.starts_with(&m.mount_point) {
            let longer = best.is_none_or(|b| m.mount_point.components().count() >= b.mount_point.components().count());
            if longer {
                best = Some(m);
            }
        }
    }
    best
}

/// The largest single file the file system type can hold, when it has a limit that matters here.
pub fn max_file_bytes(fs_type: &str) -> Option<u64> {
    match fs_type {
        "vfat" | "msdos" | "fat" | "umsdos" => Some(FAT_MAX_FILE),
        _ => None,
    }
}

/// The file system type under `path` (`unknown` when the mount table cannot be read).
pub fn fs_type_of(path: &Path) -> String {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let text = std::fs::read_to_string("/proc/self/mounts")
        .or_else(|_| std::fs::read_to_string("/proc/mounts"))
        .unwrap_or_default();
    let mounts = parse_mounts(&text);
    mount_of(&mounts, &real)
        .map(|m| m.fs_type.clone())
        .unwrap_or_else(|| "unknown".into())
}

/// The largest whole `archiveSize` (GiB) whose parts a file system with this file limit holds.
/// The part writer keeps every part (headers included) within `archiveSize`, except a part
/// holding one blob that is larger by itself; such a blob cannot go on that file system at all.
pub fn archive_size_that_fits(max_file: u64) -> u64 {
    (max_file / (1u64 << 30)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
/dev/sda1 / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid 0 0
/dev/sdb1 /media/user/USB\\040STICK vfat rw,uid=1000 0 0
/dev/sdc1 /media/user/BIG exfat rw 0 0
/dev/sdc1 /media/user/BIG/inner ntfs3 rw 0 0
";

    #[test]
    fn parses_the_mount_table_with_escaped_blanks() {
        let m = parse_mounts(SAMPLE);
        assert_eq!(m.len(), 5);
        assert_eq!(m[2].mount_point, PathBuf::from("/media/user/USB STICK"));
        assert_eq!(m[2].fs_type, "vfat");
    }

    #[test]
    fn picks_the_longest_mount_point_by_whole_components() {
        let m = parse_mounts(SAMPLE);
        let of = |p: &str| mount_of(&m, Path::new(p)).map(|m| m.fs_type.as_str());
        assert_eq!(of("/media/user/USB STICK/export"), Some("vfat"));
        assert_eq!(of("/media/user/BIG/inner/x"), Some("ntfs3"));
        assert_eq!(
            of("/media/user/BIGGER"),
            Some("ext4"),
            "a name prefix is not a path prefix"
        );
        assert_eq!(of("/home/user"), Some("ext4"));
    }

    #[test]
    fn fat_has_a_four_gib_file_limit_and_a_fitting_archive_size() {
        assert_eq!(max_file_bytes("vfat"), Some(FAT_MAX_FILE));
        assert_eq!(max_file_bytes("exfat"), None);
        assert_eq!(max_file_bytes("ext4"), None);
        assert_eq!(archive_size_that_fits(FAT_MAX_FILE), 3);
        assert!(archive_size_that_fits(FAT_MAX_FILE) << 30 < FAT_MAX_FILE);
    }

    #[test]
    fn reads_the_real_mount_table() {
        if !Path::new("/proc/self/mounts").exists() {
            return;
        }
        // The kernel mounts procfs at /proc on every Linux system this runs on.
        assert_eq!(fs_type_of(Path::new("/proc/self")), "proc");
        assert_ne!(fs_type_of(Path::new("/")), "unknown");
    }
}
