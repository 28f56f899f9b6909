//! Issue 8 item 13: what `ferry init` prints runs. The template's own text (release channel,
//! catalog, additional image, helm chart; only its hosts rewritten here) goes through
//! `ferry mirror --config … file://… --dry-run`, the real binary, with every upstream served on
//! loopback: one `docker-registry` holding a generated signed 4.16.0 release, the catalog index
//! (a generated FBC with serverless-operator), the UBI image and the chart's image; the update
//! graph and the signature store as HTTP servers; the real podinfo 6.0.0 chart in a chart
//! repository. The plan must hold every section's images in `mapping.txt`, and write no part.

use super::common::{text, FERRY};
use ferry_testkit::httpd::Httpd;
use ferry_testkit::release::{
    graph_server, push_components, push_release, sign_release, signature_server, test_key, Nodes, Sigs,
};
use ferry_testkit::{push_catalog_image, push_image, ImageFormat, ImageSpec, LayerSpec, RegistryOpts, RegistryServer};
use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;
use std::sync::{Arc, Mutex};

const PODINFO: &str = "helm/oc-mirror/v1/pkg/cli/mirror/testdata/artifacts/podinfo-6.0.0.tgz";

fn spec(seed: u64) -> ImageSpec {
    ImageSpec {
        format: ImageFormat::Oci,
        layers: vec![LayerSpec { size: 4096, seed }],
        platforms: vec![],
    }
}

/// The podinfo chart with its image moved from ghcr.io to `host` (values.yaml only; the rest of
/// the archive as it is).
fn podinfo_at(tgz: &Path, host: &str) -> Vec<u8> {
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(tgz).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let mut out = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
    let mut ar = tar::Archive::new(&raw[..]);
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        if path == Path::new("podinfo/values.yaml") {
            let v = String::from_utf8(data).unwrap();
            assert!(v.contains("ghcr.io/stefanprodan/podinfo"), "{v}");
            data = v
                .replace("ghcr.io/stefanprodan/podinfo", &format!("{host}/stefanprodan/podinfo"))
                .into_bytes();
        }
        let mut h = e.header().clone();
        h.set_size(data.len() as u64);
        h.set_cksum();
        out.append_data(&mut h, &path, &data[..]).unwrap();
    }
    out.into_inner().unwrap().finish().unwrap()
}

/// A chart repository at `/podinfo` serving `archive` as podinfo 6.0.0.
async fn chart_repo(archive: Vec<u8>) -> Httpd {
    let digest = ferry_types::Digest::of(&archive).to_string();
    let index = format!(
        "apiVersion: v1\nentries:\n  podinfo:\n  - name: podinfo\n    version: 6.0.0\n    digest: {}\n    urls:\n    - podinfo-6.0.0.tgz\n",
        digest.trim_start_matches("sha256:")
    );
    let files = BTreeMap::from([
        ("/podinfo/index.yaml".to_string(), index.into_bytes()),
        ("/podinfo/podinfo-6.0.0.tgz".to_string(), archive),
    ]);
    Httpd::serve_files(files).await
}

/// The catalog's FBC: serverless-operator, channel stable, one bundle with one related image.
fn serverless_fbc(h: &str) -> BTreeMap<String, Vec<u8>> {
    let text = format!(
        "---\nschema: olm.package\nname: serverless-operator\ndefaultChannel: stable\n---\nschema: olm.channel\npackage: serverless-operator\nname: stable\nentries:\n- name: serverless-operator.v1.33.0\n---\nschema: olm.bundle\nname: serverless-operator.v1.33.0\npackage: serverless-operator\nimage: {h}/openshift-serverless-1/serverless-operator-bundle:1.33.0\nproperties:\n- type: olm.package\n  value:\n    packageName: serverless-operator\n    version: 1.33.0\nrelatedImages:\n- name: operator\n  image: {h}/openshift-serverless-1/serverless-rhel8-operator:1.33.0\n"
    );
    BTreeMap::from([("index.yaml".to_string(), text.into_bytes())])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_init_template_plans_with_every_section_against_loopback() {
    let Some(podinfo) = ferry_testkit::fixture(PODINFO) else {
        return;
    };
    let src = RegistryServer::start(RegistryOpts {
        tls: false,
        auth: None,
        delete_enabled: false,
    });
    let h = src.host();

    // platform: stable-4.16 with one signed release of three components.
    let comps = push_components(&src, &["cli", "etcd", "installer"], "4.16.0").await;
    let rel = push_release(&src, "4.16.0", &comps).await;
    let payload = format!("{h}/openshift-release-dev/ocp-release@{rel}");
    let nodes: Nodes = Arc::new(Mutex::new(vec![("4.16.0".into(), payload.clone())]));
    let graph = graph_server(
        nodes,
        serde_json::json!({"io.openshift.upgrades.graph.release.channels": "stable-4.16"}),
    )
    .await;
    let (key, armored) = test_key();
    let identity = format!("{h}/openshift-release-dev/ocp-release:4.16.0-x86_64");
    let sigs: Sigs = Arc::new(Mutex::new(vec![(rel.clone(), sign_release(&key, &rel, &identity))]));
    let sigsrv = signature_server(sigs).await;
    // graph: true lays the graph data on the UBI image, which the template also lists.
    push_image(&src, "ubi9/ubi", "latest", &spec(1)).await;
    // operators: the index and the bundle's images.
    push_catalog_image(
        &src,
        "redhat/redhat-operator-index",
        "v4.16",
        &serverless_fbc(&h),
        &BTreeMap::new(),
        &[],
    )
    .await;
    push_image(
        &src,
        "openshift-serverless-1/serverless-operator-bundle",
        "1.33.0",
        &spec(2),
    )
    .await;
    push_image(
        &src,
        "openshift-serverless-1/serverless-rhel8-operator",
        "1.33.0",
        &spec(3),
    )
    .await;
    // helm: the real chart, its image on loopback.
    push_image(&src, "stefanprodan/podinfo", "6.0.0", &spec(4)).await;
    let charts = chart_repo(podinfo_at(&podinfo, &h)).await;

    let t = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(FERRY)
            .args(args)
            .current_dir(t.path())
            .env("HOME", t.path())
            .env("XDG_CONFIG_HOME", t.path().join("config"))
            .env("XDG_RUNTIME_DIR", t.path().join("run"))
            .env_remove("REGISTRY_AUTH_FILE")
            .env("UPDATE_URL_OVERRIDE", format!("http://{}/graph", graph.host()))
            .env("OCP_SIGNATURE_URL", format!("http://{}/sigs", sigsrv.host()))
            .env("OCP_SIGNATURE_VERIFICATION_PK", t.path().join("release-pk.asc"))
            .env("FERRY_GRAPH_BASE_IMAGE", format!("{h}/ubi9/ubi:latest"))
            .env(
                "FERRY_GRAPH_DATA_URL",
                format!("http://{}/graph-data.tar.gz", graph.host()),
            )
            .output()
            .unwrap()
    };
    std::fs::write(t.path().join("release-pk.asc"), armored).unwrap();
    let o = run(&["init", "--local", "metadata"]);
    let (template, err) = text(&o);
    assert!(o.status.success(), "{err}");
    // Only the hosts change: every section stays as `ferry init` wrote it.
    for upstream in [
        "registry.redhat.io/redhat/redhat-operator-index:v4.16",
        "registry.redhat.io/ubi9/ubi:latest",
        "https://stefanprodan.github.io/podinfo",
        "name: stable-4.16",
        "graph: true",
    ] {
        assert!(template.contains(upstream), "{upstream}: {template}");
    }
    let isc = template
        .replace("registry.redhat.io", &h)
        .replace("https://stefanprodan.github.io", &format!("http://{}", charts.host()));
    std::fs::write(t.path().join("isc.yaml"), &isc).unwrap();

    let o = run(&[
        "mirror",
        "--config",
        "isc.yaml",
        "file://out",
        "--dry-run",
        "--source-use-http",
    ]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "the template must plan:\n{out}\n{err}");
    let mapping = std::fs::read_to_string(t.path().join("out/oc-mirror-workspace/mapping.txt"))
        .unwrap_or_else(|e| panic!("mapping.txt: {e}\n{out}\n{err}"));
    let sources: Vec<&str> = mapping
        .lines()
        .filter_map(|l| l.split_once('=').map(|(s, _)| s))
        .collect();
    let has = |what: &str| sources.iter().any(|s| s.contains(what));
    // 1 release + 3 components, index + bundle + related image, UBI (also graph: true's base
    // image, once), the chart's image.
    assert_eq!(sources.len(), 9, "{mapping}");
    assert!(
        out.contains("would hold 9 images") && out.contains("nothing was downloaded or written"),
        "{out}"
    );
    // platform: the release image and each component, by digest.
    assert!(sources.contains(&payload.as_str()), "{mapping}");
    for (_, c) in &comps {
        assert!(sources.contains(&c.as_str()), "{c}: {mapping}");
    }
    // operators: the index, the bundle and its related image.
    for what in [
        "/redhat/redhat-operator-index",
        "/openshift-serverless-1/serverless-operator-bundle",
        "/openshift-serverless-1/serverless-rhel8-operator",
        // additionalImages (and graph: true's base image).
        "/ubi9/ubi",
        // helm: the chart's image.
        "/stefanprodan/podinfo",
    ] {
        assert!(has(what), "{what}: {mapping}");
    }
    assert!(
        sources.iter().all(|s| s.starts_with(&h)),
        "everything came from loopback: {mapping}"
    );
    // A dry run writes no part and no metadata.
    let out_dir: Vec<String> = std::fs::read_dir(t.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(out_dir, vec!["oc-mirror-workspace".to_string()], "{out_dir:?}");
    assert!(!t.path().join("metadata/publish/.metadata.json").exists());
}
