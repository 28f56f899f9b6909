//! Where the squashfs starts: right after the runtime's own ELF image, which ends with its
//! section header table (what the AppImage type-2 runtime computes, and what
//! `--appimage-offset` prints for `squashfuse -o offset=` / `unsquashfs -o`).

use std::io::{self, Read, Seek, SeekFrom};

/// The squashfs superblock's magic, "hsqs" (little-endian 0x73717368).
pub const SQUASHFS_MAGIC: &[u8; 4] = b"hsqs";

/// The end of the ELF64 image at the start of `r`: the end of its section header table or of
/// its last program segment, whichever is later.
pub fn elf_end(r: &mut (impl Read + Seek)) -> io::Result<u64> {
    let mut h = [0u8; 64];
    r.seek(SeekFrom::Start(0))?;
    r.read_exact(&mut h)?;
    if &h[..4] != b"\x7fELF" {
        return Err(bad("it does not start with an ELF header"));
    }
    if h[4] != 2 || h[5] != 1 {
        return Err(bad("only 64-bit little-endian runtimes are supported"));
    }
    let u16_at = |o: usize| u64::from(u16::from_le_bytes([h[o], h[o + 1]]));
    let u64_at = |o: usize| u64::from_le_bytes(h[o..o + 8].try_into().expect("8 bytes"));
    let (phoff, shoff) = (u64_at(0x20), u64_at(0x28));
    let (phentsize, phnum) = (u16_at(0x36), u16_at(0x38));
    let (shentsize, shnum) = (u16_at(0x3A), u16_at(0x3C));
    let mut end = shoff + shentsize * shnum;
    // A stripped binary still ends with its section headers, but a segment could lie past them.
    for i in 0..phnum {
        let mut ph = [0u8; 56];
        r.seek(SeekFrom::Start(phoff + i * phentsize))?;
        r.read_exact(&mut ph)?;
        let off = u64::from_le_bytes(ph[8..16].try_into().expect("8 bytes"));
        let filesz = u64::from_le_bytes(ph[32..40].try_into().expect("8 bytes"));
        end = end.max(off + filesz);
    }
    Ok(end)
}

/// The squashfs offset of an AppImage file: the ELF end, checked to hold a squashfs superblock.
pub fn squashfs_offset(r: &mut (impl Read + Seek)) -> io::Result<u64> {
    let off = elf_end(r)?;
    let mut magic = [0u8; 4];
    r.seek(SeekFrom::Start(off))?;
    r.read_exact(&mut magic).map_err(|_| {
        bad(&format!(
            "nothing follows the runtime at offset {off}: no squashfs appended"
        ))
    })?;
    if &magic != SQUASHFS_MAGIC {
        return Err(bad(&format!(
            "no squashfs at offset {off} (found {magic:02x?}, expected \"hsqs\")"
        )));
    }
    Ok(off)
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    /// The test binary itself is an ELF: its end is its file size (nothing appended), and with
    /// bytes appended the end stays where the ELF ended.
    #[test]
    fn end_of_own_binary_and_appended_payload() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let end = elf_end(&mut Cursor::new(&exe)).unwrap();
        assert_eq!(end, exe.len() as u64);
        let mut with = exe.clone();
        with.extend_from_slice(b"hsqs and the rest of a superblock");
        assert_eq!(squashfs_offset(&mut Cursor::new(&with)).unwrap(), end);
        let e = squashfs_offset(&mut Cursor::new(&exe)).unwrap_err().to_string();
        assert!(e.contains("no squashfs appended"), "{e}");
        let mut junk = exe;
        junk.extend_from_slice(b"PK\x03\x04");
        let e = squashfs_offset(&mut Cursor::new(&junk)).unwrap_err().to_string();
        assert!(e.contains("expected \"hsqs\""), "{e}");
    }

    #[test]
    fn not_an_elf() {
        let e = elf_end(&mut Cursor::new(vec![b'#'; 64])).unwrap_err().to_string();
        assert!(e.contains("ELF header"), "{e}");
    }
}
