//! oc-mirror flags through the real binary: none is a silent no-op. `--skip-cleanup` is
//! refused with its reason (`--skip-image-pin` now works for operator catalogs; its test is
//! tests/tests/e2e_operators.rs), `--strict-archive` is refused for a
//! registry target, `--manifests-only --from` writes the results without contacting the
//! registry, `-v N` takes oc-mirror's numeric level, and `ferry completion` prints scripts.

use ferry_testkit::{push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::path::Path;
use std::process::{Command, Output};

const FERRY: &str = env!("CARGO_BIN_EXE_ferry");

fn ferry(args: &[&str], cwd: &Path) -> Output {
    Command::new(FERRY)
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env("XDG_CONFIG_HOME", cwd.join("config"))
        .env("XDG_RUNTIME_DIR", cwd.join("run"))
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("FERRY_LOG")
        .output()
        .expect("run ferry")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn isc(dir: &Path, image: &str) -> std::path::PathBuf {
    let p = dir.join("isc.yaml");
    std::fs::write(
        &p,
        format!(
            "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: {}\nmirror:\n  additionalImages:\n    - name: {image}\n",
            dir.join("meta").display()
        ),
    )
    .unwrap();
    p
}

#[test]
fn unhonoured_flags_are_refused_with_the_reason() {
    let t = tempfile::tempdir().unwrap();
    // Port 1 on loopback: a run that contacted the registry would fail differently.
    let cfg = isc(t.path(), "127.0.0.1:1/ns/app:v1");
    let cfg = cfg.to_str().unwrap();
    let o = ferry(&["mirror", "--config", cfg, "file://out", "--skip-cleanup"], t.path());
    assert!(!o.status.success(), "--skip-cleanup accepted");
    let e = stderr(&o);
    assert!(
        e.contains("--skip-cleanup")
            && e.contains("no oc-mirror-workspace/src")
            && e.contains("not supported in this build"),
        "{e}"
    );
    let o = ferry(
        &["mirror", "--config", cfg, "docker://127.0.0.1:1/m", "--strict-archive"],
        t.path(),
    );
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(
        e.contains("--strict-archive") && e.contains("docker:// target gets no archive"),
        "{e}"
    );
    assert!(!e.contains("connect"), "refused before any registry is contacted: {e}");
}

#[test]
fn numeric_verbosity_and_completion_scripts() {
    let t = tempfile::tempdir().unwrap();
    for args in [
        &["-v", "2", "version"][..],
        &["--verbose=1", "version"][..],
        &["version", "--verbose", "3"][..],
        &["-vv", "version"][..],
    ] {
        let o = ferry(args, t.path());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(String::from_utf8_lossy(&o.stdout).starts_with("ferry "), "{args:?}");
    }
    // The level really changes the log: debug lines only from level 1 on.
    let cfg = isc(t.path(), "127.0.0.1:1/ns/app:v1");
    let run = |v: &str| {
        stderr(&ferry(
            &[
                "mirror",
                "--config",
                cfg.to_str().unwrap(),
                "file://out",
                "-v",
                v,
                "--dry-run",
            ],
            t.path(),
        ))
    };
    assert!(!run("0").contains("DEBUG"));
    assert!(run("2").contains("DEBUG") || run("2").contains("TRACE"), "{}", run("2"));

    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef ferry"),
        ("fish", "complete -c ferry"),
    ] {
        let o = ferry(&["completion", shell], t.path());
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = String::from_utf8_lossy(&o.stdout);
        assert!(
            script.contains(marker) && script.contains("mirror"),
            "{shell}: {script}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manifests_only_writes_results_without_pushing() {
    let src = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let img = push_image(
        &src,
        "ns/app",
        "v1",
        &ImageSpec {
            format: ImageFormat::Oci,
            layers: vec![LayerSpec { size: 4096, seed: 21 }],
            platforms: vec![],
        },
    )
    .await;
    let t = tempfile::tempdir().unwrap();
    let cfg = isc(t.path(), &format!("{}/ns/app:v1", src.host()));
    let o = ferry(
        &[
            "mirror",
            "--config",
            cfg.to_str().unwrap(),
            "file://out",
            "--source-use-http",
        ],
        t.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The target is unreachable (port 1): manifests-only must not need it.
    let o = ferry(
        &[
            "mirror",
            "--from",
            "out",
            "docker://127.0.0.1:1/mirror",
            "--manifests-only",
            "--dir",
            "ws",
        ],
        t.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("nothing pushed"), "{out}");
    let results: Vec<_> = std::fs::read_dir(t.path().join("ws"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("results-"))
        .collect();
    assert_eq!(results.len(), 1, "{results:?}");
    let mapping = std::fs::read_to_string(results[0].join("mapping.txt")).unwrap();
    assert!(
        mapping.contains("127.0.0.1:1/mirror/ns/app:v1") && mapping.contains(&img.digest.to_string()),
        "{mapping}"
    );
    // Without --from the flag makes no sense and is rejected by the parser.
    let o = ferry(
        &[
            "mirror",
            "--config",
            cfg.to_str().unwrap(),
            "file://x",
            "--manifests-only",
        ],
        t.path(),
    );
    assert!(!o.status.success());
}
