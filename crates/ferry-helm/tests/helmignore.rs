//! `.helmignore` on chart folders (helm's LoadDir), and archives read whole (helm's
//! LoadArchive: `helm package` already applied the rules when it built them).

use ferry_helm::{load_path, scan, Map};
use std::path::Path;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: quay.io/ferry/kept:1.0\n";

fn chart_folder(root: &Path) {
    write(root, "Chart.yaml", "apiVersion: v2\nname: ign\nversion: 0.1.0\n");
    write(root, "values.yaml", "{}\n");
    write(root, "templates/deployment.yaml", DEPLOY);
    write(
        root,
        "templates/extra-debug.yaml",
        &DEPLOY.replace("kept:1.0", "left-out:1.0"),
    );
    write(
        root,
        "ci/templates/job.yaml",
        &DEPLOY.replace("kept:1.0", "ci-only:1.0"),
    );
    write(
        root,
        "templates/.scratch.yaml",
        &DEPLOY.replace("kept:1.0", "dotfile:1.0"),
    );
    write(root, ".helmignore", "# dev files\ntemplates/extra-*.yaml\nci/\n");
}

fn images(path: &Path) -> Vec<String> {
    let c = load_path(path).unwrap();
    let mut v: Vec<String> = scan(&c, &Map::new())
        .images
        .iter()
        .map(|i| i.image.to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn chart_folder_honours_helmignore() {
    let d = tempfile::tempdir().unwrap();
    chart_folder(d.path());
    let c = load_path(d.path()).unwrap();
    let paths: Vec<&str> = c.templates.iter().map(|t| t.path.as_str()).collect();
    assert_eq!(paths, ["templates/deployment.yaml"], "ignored templates are not read");
    assert_eq!(images(d.path()), ["quay.io/ferry/kept:1.0"]);

    // Without the file only helm's default rule (dot files in templates/) applies.
    std::fs::remove_file(d.path().join(".helmignore")).unwrap();
    assert_eq!(
        images(d.path()),
        ["quay.io/ferry/kept:1.0", "quay.io/ferry/left-out:1.0"]
    );
}

#[test]
fn archive_is_read_whole_as_helm_does() {
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("ign");
    chart_folder(&src);
    let tgz = d.path().join("ign-0.1.0.tgz");
    let f = std::fs::File::create(&tgz).unwrap();
    let mut t = tar::Builder::new(flate2::write::GzEncoder::new(f, flate2::Compression::fast()));
    t.append_dir_all("ign", &src).unwrap();
    t.into_inner().unwrap().finish().unwrap();
    // helm install x.tgz renders every template the archive holds, .helmignore or not.
    assert_eq!(
        images(&tgz),
        [
            "quay.io/ferry/dotfile:1.0",
            "quay.io/ferry/kept:1.0",
            "quay.io/ferry/left-out:1.0"
        ]
    );
}

#[test]
fn bad_helmignore_names_the_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    chart_folder(d.path());
    write(d.path(), ".helmignore", "ok.txt\ntemplates/**/x.yaml\n");
    let e = load_path(d.path()).unwrap_err().to_string();
    assert!(e.contains(".helmignore:2") && e.contains("**"), "{e}");
}
