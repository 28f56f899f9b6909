//! Resume after a real `kill -9` of the `ferry` binary, both ways: a mirror-to-disk killed
//! mid-way finishes without downloading again the blobs already written intact, and an import
//! killed mid-push finishes without sending again what the target already holds.

use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FERRY: &str = env!("CARGO_BIN_EXE_ferry");

fn tars(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "tar"))
                .count()
        })
        .unwrap_or(0)
}

/// `12.5 MiB` → bytes (the CLI prints human sizes).
fn parse_human(s: &str) -> f64 {
    let mut it = s.split_whitespace();
    let v: f64 = it.next().unwrap().parse().unwrap();
    let mul = match it.next().unwrap() {
        "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        u => panic!("unit {u}"),
    };
    v * mul
}

fn kill_when(mut child: std::process::Child, what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("ferry finished ({status}) before it could be killed while {what}; make the data set larger");
        }
        assert!(started.elapsed() < Duration::from_secs(120), "no progress while {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mirror_to_disk_and_import_then_resume() {
    let src = RegistryServer::start(RegistryOpts::default());
    let dst = RegistryServer::start(RegistryOpts::default());
    let layers: Vec<LayerSpec> = (0..20)
        .map(|i| LayerSpec {
            size: 6 << 20,
            seed: 500 + i,
        })
        .collect();
    let img = push_image(
        &src,
        "big/app",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers,
            platforms: vec![],
        },
    )
    .await;
    let total_blobs = img.blobs.len();
    let total_bytes: u64 = img.blobs.iter().map(|b| b.1).sum();

    let work = tempfile::tempdir().unwrap();
    let meta = work.path().join("meta");
    let out = work.path().join("out");
    let isc = work.path().join("isc.yaml");
    std::fs::write(
        &isc,
        format!(
            "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: {}\nmirror:\n  additionalImages:\n    - name: {}/big/app:v1\n",
            meta.display(),
            src.host()
        ),
    )
    .unwrap();
    let m2d = || {
        let mut c = Command::new(FERRY);
        c.args([
            "mirror",
            "--config",
            isc.to_str().unwrap(),
            &format!("file://{}", out.display()),
            "--source-use-http",
        ])
        .current_dir(work.path());
        c
    };

    // 1. Mirror-to-disk, killed after a few blobs are in the part.
    let journal = out.join(".mirror_seq1.ferry-journal");
    let child = m2d().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    kill_when(child, "writing the set", || {
        std::fs::read_to_string(&journal)
            .map(|j| j.matches("blobs/").count() >= 3)
            .unwrap_or(false)
    });
    let kept_at_kill = std::fs::read_to_string(&journal).unwrap().matches("blobs/").count();
    // The uid the killed first run chose (no metadata was recorded yet).
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join(".mirror_seq1.ferry-state.json")).unwrap()).unwrap();
    let uid_at_kill = state["uid"].as_str().unwrap().to_string();
    assert!(kept_at_kill < total_blobs, "killed before the end");
    let v = Command::new(FERRY)
        .args(["verify", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!v.status.success(), "a killed set must not verify as complete");

    let o = m2d().output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    // "wrote sequence 1 ...: 1 images, N new blobs (...), P parts, K blobs kept from the interrupted run"
    let written: usize = stdout
        .split(" new blobs")
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let kept: usize = stdout
        .split(" blobs kept from the interrupted run")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no resume reported: {stdout}"));
    assert!(kept >= kept_at_kill, "{stdout}");
    assert_eq!(kept + written, total_blobs, "{stdout}");
    // The rerun resumed the first run's set, so it kept its uid (in the media and the backend).
    let recorded: serde_json::Value =
        serde_json::from_slice(&std::fs::read(meta.join("publish/.metadata.json")).unwrap()).unwrap();
    assert_eq!(
        recorded["uid"].as_str(),
        Some(uid_at_kill.as_str()),
        "the rerun keeps the first run's uid"
    );
    let d = Command::new(FERRY)
        .args(["describe", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&d.stdout).contains(&uid_at_kill),
        "{}",
        String::from_utf8_lossy(&d.stdout)
    );
    assert!(tars(&out) >= 1);
    let v = Command::new(FERRY)
        .args(["verify", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));

    // 2. Import, killed after a few blobs reached the target.
    let dest = format!("docker://{}/mirror", dst.host());
    let import = || {
        let mut c = Command::new(FERRY);
        c.args(["mirror", "--from", out.to_str().unwrap(), &dest, "--dest-use-http"])
            .current_dir(work.path());
        c
    };
    let blob_file = |d: &ferry_types::Digest| {
        dst.storage_dir().join(format!(
            "docker/registry/v2/blobs/sha256/{}/{}/data",
            &d.hex()[..2],
            d.hex()
        ))
    };
    let child = import().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    kill_when(child, "pushing", || {
        img.blobs.iter().filter(|b| blob_file(&b.0).is_file()).count() >= 3
    });
    let present: u64 = img
        .blobs
        .iter()
        .filter(|b| blob_file(&b.0).is_file())
        .map(|b| b.1)
        .sum();
    assert_eq!(
        manifest_digest(&dst, "mirror/big/app", "v1").await,
        None,
        "not tagged before the kill"
    );

    let o = import().output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&o.stderr));
    let copied = parse_human(
        stdout
            .split(" already present, ")
            .nth(1)
            .unwrap()
            .split(" copied")
            .next()
            .unwrap(),
    );
    assert!(
        copied <= (total_bytes - present) as f64 + 1024.0 * 1024.0,
        "the second import sent {copied} bytes; {present} of {total_bytes} were already in the target: {stdout}"
    );
    assert_eq!(
        manifest_digest(&dst, "mirror/big/app", "v1").await,
        Some(img.digest.clone())
    );
    // 3. The metadata is lost (reset store): the next run is sequence 1 again and must not
    // delete the finished sequence 1 in the folder. It refuses and names the parts.
    let parts_before: Vec<(std::path::PathBuf, u64)> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "tar"))
        .map(|e| (e.path(), e.metadata().unwrap().len()))
        .collect();
    std::fs::remove_dir_all(&meta).unwrap();
    let o = m2d().output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success(), "a second sequence 1 must be refused: {stderr}");
    assert!(
        stderr.contains("mirror_seq1_000000.tar") && stderr.contains("Move those files away"),
        "names the parts and the way out: {stderr}"
    );
    for (p, len) in &parts_before {
        assert_eq!(
            std::fs::metadata(p).map(|m| m.len()).ok(),
            Some(*len),
            "{} kept",
            p.display()
        );
    }
    let v = Command::new(FERRY)
        .args(["verify", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    eprintln!(
        "m2d: killed after {kept_at_kill} blobs, resumed {kept}, wrote {written}; import: {present} bytes present at kill, {copied} copied after"
    );
}
