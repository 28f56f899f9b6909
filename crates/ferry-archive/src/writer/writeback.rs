//! Starting the disk writes of a big entry while it is still arriving.
//!
//! Every blob is a commit point: its bytes are fsynced before the journal records it (so a
//! killed run never resumes from bytes that were not on the device). Left to the kernel, a 1 GiB
//! layer sits in the page cache until that fsync, which then waits for the whole gigabyte to
//! reach the device, with the download and the hashing already over: measured on the 2-core
//! build machine, that wait was most of a mirror-to-disk run. Asking the kernel to start writing
//! each few MiB as soon as they leave our buffer (`sync_file_range` with
//! `SYNC_FILE_RANGE_WRITE`, which does not wait) overlaps the device with the network, and the
//! commit's fsync finds little left to do. It changes when bytes are written, never what is
//! durable: the fsync at the commit point stays. Other systems: a no-op (the fsync does it all).

use std::fs::File;

/// Start writeback after this many new bytes.
pub(crate) const KICK: u64 = 8 << 20;

/// How far writeback has been started in one part.
pub(crate) struct Writeback {
    started: u64,
}

impl Writeback {
    /// Writes from offset `at` of the part on are tracked.
    pub(crate) fn new(at: u64) -> Writeback {
        Writeback { started: at }
    }

    /// The kernel holds the part's bytes up to offset `end`: start writing what is new once it
    /// is at least [`KICK`] bytes.
    pub(crate) fn kick(&mut self, f: &File, end: u64) {
        if end < self.started + KICK {
            return;
        }
        start_writing(f, self.started, end - self.started);
        self.started = end;
    }
}

#[cfg(target_os = "linux")]
fn start_writing(f: &File, off: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: a plain system call on a descriptor `f` keeps open; no memory is passed.
    let r = unsafe {
        libc::sync_file_range(
            f.as_raw_fd(),
            off as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        )
    };
    if r != 0 {
        // Only a hint: the commit's fsync still writes everything (and reports real errors).
        tracing::trace!(error = %std::io::Error::last_os_error(), "sync_file_range");
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writing(_f: &File, _off: u64, _len: u64) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn writeback_starts_in_steps_and_leaves_the_bytes_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("part.tar");
        let mut f = File::create(&p).unwrap();
        let mut wb = Writeback::new(0);
        let data = vec![5u8; (KICK + KICK / 2) as usize];
        f.write_all(&data).unwrap();
        wb.kick(&f, KICK - 1);
        assert_eq!(wb.started, 0, "under one step: nothing started");
        wb.kick(&f, data.len() as u64);
        assert_eq!(wb.started, data.len() as u64);
        f.sync_all().unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), data);
    }
}
