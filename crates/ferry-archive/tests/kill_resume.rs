//! A real SIGKILL in the middle of writing a set, then the same run again: it finishes without
//! pulling again the blobs already written intact, and the set verifies.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn example() -> PathBuf {
    // target/debug/deps/kill_resume-xxxx → target/debug/examples/pack_slowly
    let exe = std::env::current_exe().unwrap();
    exe.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join("pack_slowly")
}

#[test]
fn killed_writer_resumes_without_downloading_again() {
    let bin = example();
    if !bin.is_file() {
        // `cargo test` builds examples before tests; only a filtered build can miss it.
        panic!(
            "{} not built: run `cargo test -p ferry-archive` (it builds the examples)",
            bin.display()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (n, size) = (24u64, 256 * 1024u64);
    let mut child = Command::new(&bin)
        .args([dir.path().to_str().unwrap(), &n.to_string(), &size.to_string(), "15"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let journal = dir.path().join(".mirror_seq1.ferry-journal");
    let started = Instant::now();
    loop {
        let blobs = std::fs::read_to_string(&journal)
            .map(|j| j.matches("blobs/").count())
            .unwrap_or(0);
        if blobs >= 6 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "writer made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "writer exited before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no destructor, no flush, no finish
    child.wait().unwrap();
    // However the kill fell (even just after a part was closed), the set must not read as done.
    let err = match ferry_archive::ArchiveSet::open(dir.path()) {
        Ok(_) => panic!("a killed set must not read as complete"),
        Err(e) => e,
    };
    assert!(err.to_string().contains("was not finished"), "{err}");
    let kept = std::fs::read_to_string(&journal).unwrap().matches("blobs/").count() as u64;

    let out = Command::new(&bin)
        .args([dir.path().to_str().unwrap(), &n.to_string(), &size.to_string(), "0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line = String::from_utf8(out.stdout).unwrap();
    let field = |k: &str| -> u64 {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    assert!(field("resumed") >= kept, "{line} (journal had {kept})");
    assert_eq!(field("resumed") + field("written"), n, "{line}");
    assert_eq!(
        field("downloaded"),
        field("written") * size,
        "only missing blobs were pulled: {line}"
    );
    let set = ferry_archive::ArchiveSet::open(dir.path()).unwrap();
    let report = ferry_archive::verify_set(&set).unwrap();
    assert_eq!(report.entries_checked as u64, n + 1);
    assert!(set.parts.len() > 1, "the set was split");
    eprintln!("killed after {kept} blobs; second run: {line}");
}
