//! The removable-media commands as a user runs them: the "partial" exit status, dry runs, the
//! `oc apply` commands printed after an import, and a wrong `--from` path.

use ferry_testkit::{manifest_digest, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::path::Path;

mod common;
use common::{ferry, text};

fn tars(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "tar"))
                .count()
        })
        .unwrap_or(0)
}

fn registry() -> RegistryServer {
    RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_exit_status_dry_run_and_apply_commands() {
    let src = registry();
    let dst = registry();
    let spec = ImageSpec {
        format: ImageFormat::DockerV2S2,
        layers: vec![LayerSpec {
            size: 200 << 10,
            seed: 5,
        }],
        platforms: vec![],
    };
    let img = push_image(&src, "apps/web", "v1", &spec).await;
    let t = tempfile::tempdir().unwrap();
    let h = src.host();
    std::fs::write(
        t.path().join("isc.yaml"),
        format!(
            "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nstorageConfig:\n  local:\n    path: meta\nmirror:\n  additionalImages:\n    - name: {h}/apps/web:v1\n    - name: {h}/apps/missing:v1\n"
        ),
    )
    .unwrap();
    let http = ["--source-use-http", "--dest-use-http"];

    // Dry run: nothing written, the plan printed.
    let mut args = vec![
        "mirror",
        "--config",
        "isc.yaml",
        "file://out",
        "--dry-run",
        "--skip-missing",
    ];
    args.extend(http);
    let o = ferry(&args, t.path());
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("dry run: sequence 1 would hold 1 images") && out.contains("mapping written"),
        "{out}"
    );
    assert!(err.contains("apps/missing"), "the skipped image is listed: {err}");
    assert_eq!(tars(&t.path().join("out")), 0);
    assert!(t.path().join("out/oc-mirror-workspace/mapping.txt").is_file());
    assert!(!t.path().join("meta/publish/.metadata.json").exists());

    // A failed image under --continue-on-error: the set is written, the status says "partial".
    let mut args = vec!["mirror", "--config", "isc.yaml", "file://out", "--continue-on-error"];
    args.extend(http);
    let o = ferry(&args, t.path());
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(3), "{out}{err}");
    assert!(err.contains("apps/missing") && err.contains("partial"), "{err}");
    assert_eq!(tars(&t.path().join("out")), 1);

    // The import prints one oc apply command per cluster version.
    let target = format!("docker://{}/mirror", dst.host());
    let mut args = vec!["mirror", "--from", "out", target.as_str()];
    args.extend(http);
    let o = ferry(&args, t.path());
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let newer = out
        .lines()
        .find(|l| l.contains("OpenShift 4.13 and later"))
        .unwrap_or_else(|| panic!("{out}"));
    let older = out
        .lines()
        .find(|l| l.contains("OpenShift before 4.13"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        newer.contains("imageDigestMirrorSet.yaml") && !newer.contains("imageContentSourcePolicy"),
        "{newer}"
    );
    assert!(
        older.contains("imageContentSourcePolicy.yaml") && !older.contains("MirrorSet"),
        "{older}"
    );
    assert_eq!(manifest_digest(&dst, "mirror/apps/web", "v1").await, Some(img.digest));

    // A wrong media path: exit 1, the path named, no registry needed.
    let o = ferry(
        &["mirror", "--from", "no/such/dir", "docker://127.0.0.1:9/mirror"],
        t.path(),
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(err.contains("no/such/dir") && !err.contains("127.0.0.1:9"), "{err}");
}
