//! `valuesFiles` / `values` on helm charts (a Ferry extension to v1alpha2).

#[test]
fn helm_chart_values_and_values_files_parse_and_round_trip() {
    let yaml = "kind: ImageSetConfiguration\napiVersion: mirror.openshift.io/v1alpha2\nmirror:\n  helm:\n    local:\n    - name: podinfo\n      path: ./podinfo-6.0.0.tgz\n      valuesFiles: [prod.yaml, site.yaml]\n      values:\n        image:\n          tag: 6.1.0\n";
    let cfg = ferry_config::parse_str(yaml, "isc.yaml").unwrap();
    let c = &cfg.mirror.helm.as_ref().unwrap().local[0];
    assert_eq!(c.values_files, ["prod.yaml", "site.yaml"]);
    assert_eq!(c.values.as_ref().unwrap()["image"]["tag"], "6.1.0");
    let again = serde_yaml_ng::to_string(&cfg).unwrap();
    assert!(again.contains("valuesFiles"), "{again}");
    let e = ferry_config::parse_str(&yaml.replace("valuesFiles", "valueFiles"), "isc.yaml").unwrap_err();
    assert!(e.to_string().contains("valueFiles"), "{e}");
}
