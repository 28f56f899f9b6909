//! The model: lossless write-back, defaults applied in one place, the metadata JSON shape, and
//! the `ferry init` template.

use ferry_config::{
    parse_str, template, ImageSetConfiguration, PlatformType, TemplateStorage, DEFAULT_ARCHITECTURE,
    DEFAULT_ARCHIVE_SIZE_GIB,
};

const FULL: &str = "\
apiVersion: mirror.openshift.io/v1alpha2
kind: ImageSetConfiguration
archiveSize: 4
storageConfig:
  local:
    path: ./metadata
mirror:
  platform:
    graph: false
    channels:
    - name: stable-4.16
      type: ocp
      minVersion: 4.16.1
      maxVersion: 4.16.9
      shortestPath: true
    - name: okd
      type: okd
      full: true
  operators:
  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16
    targetCatalog: my/redhat-index
    targetTag: v1
    full: false
    skipDependencies: true
    packages:
    - name: rhacs-operator
      defaultChannel: stable
      channels:
      - name: stable
        minBundle: rhacs-operator.v4.4.0
  additionalImages:
  - name: registry.redhat.io/ubi9/ubi:latest
  helm:
    repositories:
    - name: podinfo
      url: https://stefanprodan.github.io/podinfo
      charts:
      - name: podinfo
        version: 6.5.0
        imagePaths:
        - '{.spec.template.spec.containers[*].env[*].value}'
    local:
    - name: local-chart
      path: /charts/local-chart-1.0.0.tgz
  blockedImages:
  - name: ^docker.io/
";

#[test]
fn every_field_survives_the_round_trip_as_written() {
    let cfg = parse_str(FULL, "full.yaml").unwrap();
    let yaml = cfg.to_yaml();
    let again = parse_str(&yaml, "again.yaml").unwrap();
    assert_eq!(again, cfg);
    // Explicit default values the user wrote stay written.
    for kept in [
        "graph: false",
        "type: ocp",
        "full: false",
        "archiveSize: 4",
        "skipDependencies: true",
    ] {
        assert!(yaml.contains(kept), "{kept} missing from\n{yaml}");
    }
    // The document is the same text modulo formatting: compare as generic YAML values.
    let a: serde_yaml_ng::Value = serde_yaml_ng::from_str(FULL).unwrap();
    let b: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).unwrap();
    assert_eq!(a, b, "written YAML has exactly the fields that were read");
}

#[test]
fn defaults_are_applied_in_one_place_and_never_written_back() {
    let text = "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror:\n  platform:\n    channels:\n    - name: stable-4.16\n";
    let cfg = parse_str(text, "d.yaml").unwrap();
    assert_eq!(cfg.archive_size, None);
    assert!(cfg.mirror.platform.as_ref().unwrap().architectures.is_empty());
    assert_eq!(cfg.archive_size_gib(), DEFAULT_ARCHIVE_SIZE_GIB);
    assert_eq!(cfg.archive_size_bytes(), 500 * 1024 * 1024 * 1024);

    let eff = cfg.with_defaults();
    let p = eff.mirror.platform.as_ref().unwrap();
    assert_eq!(p.architectures, vec![DEFAULT_ARCHITECTURE]);
    assert_eq!(p.channels[0].platform_type, Some(PlatformType::Ocp));
    assert_eq!(eff.archive_size, Some(500));
    // The as-written configuration is untouched and writes back without defaults.
    assert!(!cfg.to_yaml().contains("architectures"));
    assert!(!cfg.to_yaml().contains("archiveSize"));

    // archiveSize 0 means "unset" (oc-mirror's omitempty int); explicit values win.
    let zero = parse_str(&text.replace("mirror:", "archiveSize: 0\nmirror:"), "z.yaml").unwrap();
    assert_eq!(zero.archive_size_bytes(), 500 << 30);
    let four = parse_str(&text.replace("mirror:", "archiveSize: 4\nmirror:"), "f.yaml").unwrap();
    assert_eq!(four.archive_size_bytes(), 4 << 30);
    // No channels → no architecture default (nothing to release-mirror).
    let none = parse_str(
        "apiVersion: mirror.openshift.io/v1alpha2\nkind: ImageSetConfiguration\nmirror:\n  platform:\n    graph: true\n",
        "g.yaml",
    )
    .unwrap();
    assert!(none.with_defaults().mirror.platform.unwrap().architectures.is_empty());
    // Explicit architectures are kept as written.
    let arm = parse_str(
        &text.replace("    channels:", "    architectures: [arm64, s390x]\n    channels:"),
        "a.yaml",
    )
    .unwrap();
    assert_eq!(
        arm.with_defaults().mirror.platform.unwrap().architectures,
        vec!["arm64", "s390x"]
    );
}

#[test]
fn mirror_section_serializes_with_oc_mirror_json_names() {
    let cfg = parse_str(FULL, "full.yaml").unwrap().with_defaults();
    let json = serde_json::to_value(&cfg.mirror).unwrap();
    assert_eq!(json["platform"]["channels"][0]["minVersion"], "4.16.1");
    assert_eq!(json["platform"]["channels"][0]["shortestPath"], true);
    assert_eq!(json["platform"]["channels"][1]["type"], "okd");
    assert_eq!(json["platform"]["architectures"][0], "amd64");
    assert_eq!(json["operators"][0]["targetCatalog"], "my/redhat-index");
    assert_eq!(json["operators"][0]["skipDependencies"], true);
    assert_eq!(
        json["operators"][0]["packages"][0]["channels"][0]["minBundle"],
        "rhacs-operator.v4.4.0"
    );
    assert_eq!(json["operators"][0]["packages"][0]["defaultChannel"], "stable");
    assert_eq!(
        json["additionalImages"][0]["name"],
        "registry.redhat.io/ubi9/ubi:latest"
    );
    assert_eq!(
        json["helm"]["repositories"][0]["charts"][0]["imagePaths"][0],
        "{.spec.template.spec.containers[*].env[*].value}"
    );
    assert_eq!(json["blockedImages"][0]["name"], "^docker.io/");
    let top = serde_json::to_value(&cfg).unwrap();
    assert_eq!(top["storageConfig"]["local"]["path"], "./metadata");
    assert_eq!(top["archiveSize"], 4);
}

#[test]
fn mirror_section_reads_what_oc_mirror_writes_into_metadata() {
    // oc-mirror's Go encoder writes `packages: null` (no omitempty), empty structs as `{}`, and
    // `type` always; the metadata reader hands that JSON back to this type.
    let go = r#"{"platform":{"channels":[{"name":"stable-4.11","type":"ocp","minVersion":"4.11.1"}],"architectures":["amd64"]},
        "operators":[{"packages":null,"catalog":"registry.redhat.io/redhat/redhat-operator-index:v4.11"}],
        "additionalImages":[{"name":"redis"}],"helm":{},"blockedImages":null}"#;
    let m: ferry_config::Mirror = serde_json::from_str(go).unwrap();
    assert_eq!(m.operators[0].packages.len(), 0);
    assert_eq!(m.platform.unwrap().channels[0].min_version.as_deref(), Some("4.11.1"));
    assert_eq!(m.helm, Some(ferry_config::Helm::default()));
}

#[test]
fn template_parses_for_every_storage_choice() {
    for (storage, expect) in [
        (
            TemplateStorage::Registry("registry.example.com:5000/mirror/oc-mirror-metadata".into()),
            "imageURL: registry.example.com:5000/mirror/oc-mirror-metadata",
        ),
        (
            TemplateStorage::Local("./mirror metadata".into()),
            "path: ./mirror metadata",
        ),
        (TemplateStorage::None, "mirror:"),
    ] {
        let text = template(storage.clone());
        assert!(text.contains(expect), "{storage:?}: {text}");
        let cfg: ImageSetConfiguration = parse_str(&text, "template.yaml").unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(cfg.archive_size, Some(4));
        assert_eq!(cfg.mirror.platform.as_ref().unwrap().channels.len(), 1);
        assert_eq!(cfg.mirror.operators[0].packages.len(), 1);
        assert_eq!(cfg.mirror.additional_images.len(), 1);
        assert!(cfg.mirror.helm.is_some());
        let d = ferry_config::diagnostics(&text);
        assert!(d.is_empty(), "the template is clean: {d:#?}");
        match storage {
            TemplateStorage::None => assert!(cfg.storage_config.is_none()),
            _ => assert!(cfg.storage_config.is_some()),
        }
    }
    // A value that YAML would misread is quoted.
    let odd = template(TemplateStorage::Local("# not a comment".into()));
    let cfg = parse_str(&odd, "odd.yaml").unwrap();
    assert_eq!(cfg.storage_config.unwrap().local.unwrap().path, "# not a comment");
}
