//! The `ferry` binary as a user runs it: commands, exit codes, and the messages for bad input.

use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};

mod common;
use common::{ferry, text};
// `ferry init`'s template planned against loopback (in this binary: no extra link on CI).
mod init_run;

#[test]
fn version_and_init_template() {
    let t = tempfile::tempdir().unwrap();
    let o = ferry(&["version", "--output", "json"], t.path());
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));

    let o = ferry(
        &["init", "--registry", "registry.example.com:5000/mirror/metadata:latest"],
        t.path(),
    );
    assert!(o.status.success());
    let (out, _) = text(&o);
    assert!(
        out.contains("imageURL: registry.example.com:5000/mirror/metadata:latest"),
        "{out}"
    );
    // That the template plans, every section of it, is init_run's test (hosts on loopback).
}

#[test]
fn bad_configuration_names_file_line_and_field() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("isc.yaml"),
        "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror:\n  additionalImages:\n  - name: quay.io/a/b:1\n    nmae: typo\n",
    )
    .unwrap();
    let o = ferry(
        &[
            "mirror",
            "--config",
            "isc.yaml",
            "--dry-run",
            "docker://localhost:5000/x",
        ],
        t.path(),
    );
    assert!(!o.status.success());
    let (_, err) = text(&o);
    assert!(err.contains("isc.yaml") && err.contains("nmae"), "{err}");
    assert!(err.contains(":6:"), "expected line 6 in: {err}");

    let o = ferry(
        &["mirror", "--config", "missing.yaml", "docker://localhost:5000/x"],
        t.path(),
    );
    assert!(!o.status.success());
    assert!(text(&o).1.contains("missing.yaml"));
}

#[test]
fn bare_registry_destination_gets_a_hint() {
    let t = tempfile::tempdir().unwrap();
    let o = ferry(&["mirror", "--config", "isc.yaml", "docker://registry"], t.path());
    assert!(!o.status.success());
    let (_, err) = text(&o);
    assert!(
        err.contains("registry.localdomain") || err.contains("localhost:5000"),
        "{err}"
    );
    let o = ferry(&["mirror", "--config", "isc.yaml", "s3://bucket"], t.path());
    assert!(text(&o).1.contains("unknown destination scheme"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mirror_dry_run_then_real_run_with_authfile() {
    let src = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let dst = RegistryServer::start(RegistryOpts {
        tls: true,
        auth: Some(("cli-user".into(), "cli-pass-123".into())),
        delete_enabled: false,
    });
    let img = push_image(
        &src,
        "team/tool",
        "2.1",
        &ImageSpec {
            format: ImageFormat::DockerV2S2,
            layers: vec![LayerSpec {
                size: 200_000,
                seed: 11,
            }],
            platforms: vec![],
        },
    )
    .await;
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().to_path_buf();
    std::fs::write(
        dir.join("isc.yaml"),
        format!(
            "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror:\n  additionalImages:\n  - name: {}/team/tool:2.1\n",
            src.host()
        ),
    )
    .unwrap();
    dst.write_auth_file(&dir.join("auth.json"));
    let ca = dst.ca_pem_path().unwrap();
    let dest = format!("docker://{}/mirror", dst.host());
    let ca_s = ca.to_str().unwrap().to_string();
    let common = [
        "mirror",
        "--config",
        "isc.yaml",
        "--source-use-http",
        "--authfile",
        "auth.json",
        "--ca-bundle",
        &ca_s,
    ];

    let args: Vec<&str> = common.iter().copied().chain(["--dry-run", dest.as_str()]).collect();
    let o = tokio::task::spawn_blocking({
        let dir = dir.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        move || ferry(&args.iter().map(String::as_str).collect::<Vec<_>>(), &dir)
    })
    .await
    .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let mapping = std::fs::read_to_string(dir.join("oc-mirror-workspace/mapping.txt")).unwrap();
    assert_eq!(
        mapping.trim(),
        format!(
            "{}/team/tool@{}={}/mirror/team/tool:2.1",
            src.host(),
            img.digest,
            dst.host()
        )
    );
    assert_eq!(manifest_digest(&dst, "mirror/team/tool", "2.1").await, None);

    let args: Vec<String> = common
        .iter()
        .copied()
        .chain([dest.as_str()])
        .map(String::from)
        .collect();
    let o = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || ferry(&args.iter().map(String::as_str).collect::<Vec<_>>(), &dir)
    })
    .await
    .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("mirrored 1 images"), "{out}");
    assert_eq!(manifest_digest(&dst, "mirror/team/tool", "2.1").await, Some(img.digest));
    // The log names the file that served the destination's credential, never the password.
    assert!(!out.contains("cli-pass-123") && !err.contains("cli-pass-123"));
    assert!(
        err.contains(&format!("using credentials for {} from", dst.host())) && err.contains("auth.json"),
        "the log must say which file served the destination: {err}"
    );
    let results: Vec<_> = std::fs::read_dir(dir.join("oc-mirror-workspace"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("results-"))
        .collect();
    assert_eq!(results.len(), 1);
    assert!(results[0].path().join("imageContentSourcePolicy.yaml").is_file());
}
