//! Golden tests of the static scan on real charts (shared fixtures). Each test prints the images
//! found against the expected ones (the table for the closing note).

use ferry_helm::{exact, load_path, scan, Map, Provenance, ScanResult};
use std::path::PathBuf;

fn chart(rel: &str) -> Option<PathBuf> {
    ferry_testkit::fixture(&format!("helm/oc-mirror/{rel}"))
}

fn names(r: &ScanResult) -> Vec<String> {
    r.default_images().map(|i| i.image.to_string()).collect()
}

fn report(name: &str, r: &ScanResult, expected: &[&str]) {
    eprintln!("== {name}: expected {expected:?}");
    for i in &r.images {
        let prov: Vec<String> = i.provenance.iter().map(|p| p.to_string()).collect();
        eprintln!(
            "   found {}{}{}  <- {}",
            i.image,
            if i.hook { " [hook]" } else { "" },
            if i.test { " [test, not mirrored by default]" } else { "" },
            prov.join("; ")
        );
    }
    for u in &r.unreferenced {
        eprintln!(
            "   dropped (no template refers to it) {}: values {} = {}",
            u.chart, u.path, u.image
        );
    }
    for u in &r.unresolved {
        eprintln!("   unresolved {}: {}: {}", u.chart, u.location, u.reason);
    }
}

#[test]
fn podinfo_6_0_0_matches_its_rendered_manifests() {
    let Some(tgz) = chart("v1/pkg/cli/mirror/testdata/artifacts/podinfo-6.0.0.tgz") else {
        return;
    };
    let golden = std::fs::read_to_string(tgz.with_file_name("podinfo.yaml")).unwrap();
    let paths: Vec<String> = exact::V1_IMAGE_PATHS.iter().map(|s| s.to_string()).collect();
    let rendered = exact::images_of_rendered(&golden, &paths);
    let want: Vec<String> = rendered.images.iter().map(|i| i.image.to_string()).collect();
    assert_eq!(want, ["ghcr.io/stefanprodan/podinfo:6.0.0"], "the golden file's images");

    let c = load_path(&tgz).unwrap();
    let r = scan(&c, &Map::new());
    report("podinfo 6.0.0", &r, &["ghcr.io/stefanprodan/podinfo:6.0.0"]);
    assert_eq!(names(&r), want, "default set equals the rendered podinfo.yaml");
    // The templates/tests pods are found, flagged as test hooks and left out.
    let tests: Vec<String> = r
        .images
        .iter()
        .filter(|i| i.test)
        .map(|i| i.image.to_string())
        .collect();
    assert_eq!(
        tests,
        [
            "docker.io/curlimages/curl:7.69.0",
            "docker.io/giantswarm/tiny-tools",
            "docker.io/library/alpine:3.11",
            "docker.io/stefanprodan/grpc_health_probe:v0.3.0",
        ]
    );
    assert!(r.images.iter().filter(|i| i.test).all(|i| i.hook));
    let main = &r.images.iter().find(|i| !i.test).unwrap();
    assert!(!main.hook);
    assert_eq!(
        main.provenance,
        vec![Provenance::Values {
            chart: "podinfo".into(),
            path: "image".into()
        }]
    );
    // redis is `enabled: false`: not found at all.
    assert!(!r.images.iter().any(|i| i.image.repository.contains("redis")));
}

#[test]
fn ingress_nginx_4_12_1_controller_and_certgen_hook() {
    let Some(tgz) = chart("tests/unit/testdata/helm-data/charts/ingress-nginx-4.12.1.tgz") else {
        return;
    };
    let r = scan(&load_path(&tgz).unwrap(), &Map::new());
    let expected = [
        "registry.k8s.io/ingress-nginx/controller:v1.12.1@sha256:d2fbc4ec70d8aa2050dd91a91506e998765e86c96f32cffb56c503c9c34eed5b",
        "registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.5.2@sha256:e8825994b7a2c7497375a9b945f386506ca6a3eda80b89b74ef2db743f66a5ea",
    ];
    report("ingress-nginx 4.12.1", &r, &expected);
    assert_eq!(names(&r), expected);
    let flags: Vec<(bool, bool)> = r.images.iter().map(|i| (i.hook, i.test)).collect();
    assert_eq!(
        flags,
        [(false, false), (true, false)],
        "certgen is a (non-test) hook, included"
    );
    assert!(r.unresolved.is_empty(), "{:?}", r.unresolved);
}

#[test]
fn aliased_subchart_images_as_oc_mirror_v2_expects() {
    let Some(tgz) = chart("tests/unit/testdata/helm-data/charts/my-chart-with-subchart-alias-0.1.0.tgz") else {
        return;
    };
    let r = scan(&load_path(&tgz).unwrap(), &Map::new());
    // oc-mirror v2 internal/pkg/helm/local_stored_collector_test.go (after PR #1038).
    let expected = [
        "docker.io/library/nginx:1.16.0",
        "quay.io/fedora/postgresql-15:latest",
        "quay.io/rhdh-community/rhdh:next",
    ];
    report("my-chart-with-subchart-alias 0.1.0", &r, &expected);
    assert_eq!(names(&r), expected);
    assert!(
        !r.images.iter().any(|i| i.image.repository.starts_with("bitnami/")),
        "bitnami defaults are overridden or off"
    );
    let rhdh = r
        .images
        .iter()
        .find(|i| i.image.repository == "rhdh-community/rhdh")
        .unwrap();
    assert_eq!(
        rhdh.provenance,
        vec![Provenance::Values {
            chart: "my-chart-with-subchart-alias/upstream".into(),
            path: "backstage.image".into()
        }]
    );
    // busybox of templates/tests is a test hook.
    assert!(r.images.iter().any(|i| i.written == "busybox" && i.test));
}

#[test]
fn test_mirror_helm_cross_check_drops_unused_values_image() {
    let Some(tgz) = chart("tests/unit/testdata/helm-data/charts/test-mirror-helm-0.3.0.tgz") else {
        return;
    };
    let r = scan(&load_path(&tgz).unwrap(), &Map::new());
    let expected = ["quay.io/nginx/nginx-ingress:latest"];
    report("test-mirror-helm 0.3.0", &r, &expected);
    assert_eq!(names(&r), expected);
    assert_eq!(r.unreferenced.len(), 1);
    assert_eq!(r.unreferenced[0].path, "image");
    assert_eq!(
        r.unreferenced[0].image,
        "docker.io/ibmcom/ibm-enterprise-mongodb-ppc64le:4.4"
    );
}

#[test]
fn user_values_override_before_the_scan() {
    let Some(tgz) = chart("v1/pkg/cli/mirror/testdata/artifacts/podinfo-6.0.0.tgz") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("v.yaml"),
        "redis:\n  enabled: true\nimage:\n  tag: 6.1.0\n",
    )
    .unwrap();
    let inline = ferry_helm::yaml::parse_yaml("image:\n  repository: mirror.example/podinfo\n", "inline").unwrap();
    let v = ferry_helm::user_values(&["v.yaml".into()], Some(&inline), dir.path()).unwrap();
    let r = scan(&load_path(&tgz).unwrap(), &v);
    assert_eq!(
        names(&r),
        ["docker.io/library/redis:6.0.8", "mirror.example/podinfo:6.1.0"],
        "valuesFiles then values merged over the chart's defaults"
    );
    let e = ferry_helm::user_values(&["missing.yaml".into()], None, dir.path()).unwrap_err();
    assert!(e.to_string().contains("missing.yaml"), "{e}");
}

#[test]
fn unpacked_folder_reads_like_the_archive() {
    let Some(tgz) = chart("tests/unit/testdata/helm-data/charts/ingress-nginx-4.12.1.tgz") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let f = std::fs::File::open(&tgz).unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(f))
        .unpack(dir.path())
        .unwrap();
    let a = scan(&load_path(&tgz).unwrap(), &Map::new());
    let b = scan(&load_path(&dir.path().join("ingress-nginx")).unwrap(), &Map::new());
    assert_eq!(names(&a), names(&b));
    assert_eq!(a.images.len(), 2);
}

#[test]
fn not_a_chart_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_path(dir.path()).unwrap_err().to_string();
    assert!(e.contains("no Chart.yaml"), "{e}");
    let f = dir.path().join("x.tgz");
    std::fs::write(&f, b"not gzip").unwrap();
    let e = load_path(&f).unwrap_err().to_string();
    assert!(e.contains("x.tgz") && e.contains("chart archive"), "{e}");
}

#[test]
fn exact_mode_renders_with_helm_template() {
    let Some(tgz) = chart("v1/pkg/cli/mirror/testdata/artifacts/podinfo-6.0.0.tgz") else {
        return;
    };
    let Some(helm) = exact::find_helm(None) else {
        eprintln!("SKIPPED: no helm binary on PATH (or FERRY_HELM); exact mode not exercised");
        return;
    };
    let r = exact::render_images(&helm, &tgz, &Map::new(), &[]).unwrap();
    assert_eq!(names(&r), ["ghcr.io/stefanprodan/podinfo:6.0.0"]);
    assert!(
        r.images.iter().any(|i| i.test),
        "helm template renders the test hooks; they are flagged"
    );
}

fn write(dir: &std::path::Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn conditions_tags_globals_and_annotations() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("top");
    write(
        &root,
        "Chart.yaml",
        "apiVersion: v2\nname: top\nversion: 1.0.0\nannotations:\n  helm.sh/images: |\n    - name: extra\n      image: quay.io/x/extra:1\ndependencies:\n- name: sub\n  alias: one\n  condition: one.enabled\n- name: sub\n  alias: two\n  condition: two.enabled\n- name: tagged\n  tags: [optional]\n",
    );
    write(
        &root,
        "values.yaml",
        "global:\n  imageRegistry: mirror.local:5000\none:\n  enabled: true\n  image: {tag: '2'}\ntwo:\n  enabled: false\ntags:\n  optional: false\n",
    );
    write(&root, "templates/cm.yaml", "kind: ConfigMap\n");
    for (dir, name) in [("charts/sub", "sub"), ("charts/tagged", "tagged")] {
        write(
            &root,
            &format!("{dir}/Chart.yaml"),
            &format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: 9.9\n"),
        );
        write(
            &root,
            &format!("{dir}/values.yaml"),
            &format!("image:\n  registry: docker.io\n  repository: acme/{name}\n  tag: ''\n"),
        );
        write(
            &root,
            &format!("{dir}/templates/d.yaml"),
            "kind: Deployment\nspec:\n  image: {{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\n",
        );
    }
    let r = scan(&load_path(&root).unwrap(), &Map::new());
    assert_eq!(
        names(&r),
        ["mirror.local:5000/acme/sub:2", "quay.io/x/extra:1"],
        "alias `one` on with the parent's tag and the global registry; `two` off by condition; `tagged` off by tag"
    );
    let why: Vec<String> = r
        .disabled
        .iter()
        .map(|x| format!("{}: {}", x.path.join("/"), x.reason))
        .collect();
    assert_eq!(
        why,
        [
            "top/two: condition `two.enabled` is false",
            "top/tagged: tags optional are false"
        ]
    );
    // Turning the tag on brings the subchart in, with the appVersion as its tag.
    let on = ferry_helm::yaml::parse_yaml("tags: {optional: true}\nglobal: {imageRegistry: ''}", "v").unwrap();
    let r = scan(&load_path(&root).unwrap(), &on);
    assert!(
        names(&r).contains(&"docker.io/acme/tagged:9.9".to_string()),
        "{:?}",
        names(&r)
    );
}

#[test]
fn unresolvable_values_are_listed_not_fatal() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("needs");
    write(&root, "Chart.yaml", "apiVersion: v2\nname: needs\nversion: 1.0.0\n");
    write(&root, "values.yaml", "image:\n  repository: ''\n  tag: ''\n");
    write(&root, "templates/d.yaml", "kind: Deployment\nspec:\n  containers:\n  - image: {{ required \"set image.repository\" .Values.image.repository }}\n");
    let r = scan(&load_path(&root).unwrap(), &Map::new());
    assert!(r.images.is_empty());
    let u: Vec<String> = r
        .unresolved
        .iter()
        .map(|u| format!("{} {}", u.location, u.reason))
        .collect();
    assert!(
        u.iter().any(|s| s.starts_with("values image") && s.contains("empty")),
        "{u:?}"
    );
    assert!(u.iter().any(|s| s.starts_with("templates/d.yaml:4")), "{u:?}");
}

#[test]
fn service_binding_operator_image_built_by_printf_is_evaluated_not_guessed() {
    let Some(tgz) = chart("tests/unit/testdata/helm-data/charts/service-binding-operator-1.4.1.tgz") else {
        return;
    };
    let r = scan(&load_path(&tgz).unwrap(), &Map::new());
    let expected = ["quay.io/redhat-developer/servicebinding-operator@sha256:16286ac84ddd521897d92472dae857a4c18479f255b725dfb683bc72df6e0865"];
    report("service-binding-operator 1.4.1", &r, &expected);
    // `image: {{ .Values.image.image | default (printf "%s/%s" .Values.image.repository "servicebinding-operator@sha256:…") }}`:
    // the values alone would give the wrong `quay.io/redhat-developer:1.4.1`; the line is evaluated instead.
    assert_eq!(names(&r), expected);
    assert_eq!(
        r.images.iter().find(|i| !i.test).unwrap().provenance,
        vec![Provenance::Template {
            chart: "service-binding-operator".into(),
            file: "templates/deployment.yaml".into(),
            line: 32
        }]
    );
    assert!(r.unresolved.is_empty(), "{:?}", r.unresolved);
}
