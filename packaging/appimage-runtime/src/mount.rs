//! The squashfuse path: the image is mounted read-only (nothing written to disk) by a helper
//! process, a second copy of this runtime, which unmounts it once the app has exited. The app
//! itself is exec'd in the original process, so whoever started the AppImage (a desktop launcher,
//! WebKitWebDriver) keeps the app's own pid and can signal it.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The hidden first argument that makes this runtime the mount helper.
pub const HELPER_ARG: &str = "--appimage-fuse-helper";

/// A program of that name on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|p| p.is_file())
}

/// The unmount tool of libfuse 3, else 2.
fn fusermount() -> Option<PathBuf> {
    which("fusermount3").or_else(|| which("fusermount"))
}

/// Why the image cannot be mounted here (`None`: it can be tried).
pub fn unavailable() -> Option<&'static str> {
    if std::env::var_os("APPIMAGE_EXTRACT_AND_RUN").is_some_and(|v| v == "1") {
        return Some("APPIMAGE_EXTRACT_AND_RUN=1");
    }
    if !Path::new("/dev/fuse").exists() {
        return Some("no /dev/fuse");
    }
    if which("squashfuse").is_none() {
        return Some("squashfuse is not installed");
    }
    if fusermount().is_none() {
        return Some("fusermount is not installed");
    }
    None
}

/// Mounts the image at a new folder and returns it once its AppRun is visible.
pub fn mount(image: &Path, offset: u64) -> io::Result<PathBuf> {
    let tmp = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/tmp".into());
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mnt = tmp.join(format!(".mount_Ferry{:x}{nanos:x}", std::process::id()));
    std::fs::create_dir(&mnt)?;
    let me = std::env::current_exe()?;
    let parent = std::process::id().to_string();
    let mut helper = Command::new(me)
        .args([OsString::from(HELPER_ARG), parent.into(), mnt.clone().into()])
        .arg(image)
        .arg(offset.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if mnt.join("AppRun").exists() {
            return Ok(mnt);
        }
        if let Some(status) = helper.try_wait()? {
            let _ = std::fs::remove_dir(&mnt);
            return Err(io::Error::other(format!(
                "squashfuse exited ({status}) before the image was mounted"
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = helper.kill();
    let _ = std::fs::remove_dir(&mnt);
    Err(io::Error::other(format!(
        "{} did not show the image's AppRun within 10 s",
        mnt.display()
    )))
}

/// The helper: serves the mount with `squashfuse -f` until the process `parent` (the app) is
/// gone, then unmounts and removes the folder. Returns the exit code.
pub fn helper(args: &[OsString]) -> i32 {
    let [parent, mnt, image, offset] = args else {
        eprintln!("ferry-appimage: {HELPER_ARG} wants PARENT_PID MOUNTPOINT IMAGE OFFSET");
        return 2;
    };
    let mnt = PathBuf::from(mnt);
    let proc_dir = PathBuf::from("/proc").join(parent);
    let mut fuse = match Command::new("squashfuse")
        .arg("-f")
        .arg("-o")
        .arg(format!("offset={}", offset.to_string_lossy()))
        .arg(image)
        .arg(&mnt)
        .stdin(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ferry-appimage: squashfuse did not start: {e}");
            let _ = std::fs::remove_dir(&mnt);
            return 1;
        }
    };
    loop {
        if let Ok(Some(_)) = fuse.try_wait() {
            break; // unmounted from outside, or squashfuse failed
        }
        if !proc_dir.exists() {
            if let Some(fm) = fusermount() {
                let _ = Command::new(fm).arg("-u").arg(&mnt).status();
            }
            let _ = fuse.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::fs::remove_dir(&mnt);
    0
}
