//! Non-image files of a set (`catalogs/`, `charts/`, `release-signatures/`, `cincinnati/`):
//! listing and streaming them out, for Ferry's own sets and oc-mirror's alike.

use crate::reader::ArchiveSet;
use ferry_types::{Error, Result};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

impl ArchiveSet {
    /// Names of the files (regular entries and links; directories are not listed) whose archive
    /// path starts with `prefix`, sorted. `files("charts/")` lists the packed charts.
    pub fn files(&self, prefix: &str) -> Vec<String> {
        let mut v: Vec<String> = self.entries.keys().filter(|n| n.starts_with(prefix)).cloned().collect();
        v.sort();
        v
    }

    /// Stream the entry `name` (links followed) into the file `dest`, creating its folder. The
    /// data goes to `dest` + `.part` first and is renamed into place once complete, so `dest`
    /// never holds half a file.
    pub fn extract_file(&self, name: &str, dest: &Path) -> Result<()> {
        let (real, loc) = self.resolve(name).ok_or_else(|| Error::NotFound {
            what: format!("{name} in {}", self.origin.display()),
            hint: Some(format!(
                "the image set does not hold this file; list what it holds with `ferry describe {}`",
                self.origin.display()
            )),
        })?;
        let part = &self.parts[loc.part].path;
        if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
        }
        let mut src = std::fs::File::open(part).map_err(|e| Error::io(part.display(), e))?;
        src.seek(SeekFrom::Start(loc.offset))
            .map_err(|e| Error::io(self.where_(&real), e))?;
        let tmp = {
            let mut s = dest.as_os_str().to_owned();
            s.push(".part");
            std::path::PathBuf::from(s)
        };
        let copied = (|| {
            let mut out = std::fs::File::create(&tmp).map_err(|e| Error::io(tmp.display(), e))?;
            let n = std::io::copy(&mut (&mut src).take(loc.size), &mut out)
                .map_err(|e| Error::io(self.where_(&real), e))?;
            if n != loc.size {
                return Err(Error::Archive(format!(
                    "{}: ends after {n} of {} bytes; copy this part again from the source media",
                    self.where_(&real),
                    loc.size
                )));
            }
            out.flush().map_err(|e| Error::io(tmp.display(), e))
        })();
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        std::fs::rename(&tmp, dest).map_err(|e| Error::io(dest.display(), e))
    }
}
