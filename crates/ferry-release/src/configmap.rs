//! The files oc-mirror writes for a cluster to apply: the release-signature ConfigMap and the
//! UpdateService.

use base64::Engine as _;
use ferry_types::Digest;
use serde::Serialize;
use std::collections::BTreeMap;

/// `release-signatures/signature-sha256-<first 16 hex>.json`.
pub fn signature_file_name(digest: &Digest) -> String {
    format!("signature-sha256-{}.json", &digest.hex()[..16])
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfigMap<'a> {
    kind: &'static str,
    api_version: &'static str,
    metadata: Meta<'a>,
    binary_data: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta<'a> {
    name: String,
    namespace: &'static str,
    creation_timestamp: Option<()>,
    labels: BTreeMap<&'a str, &'a str>,
}

/// The signature ConfigMap of one release, in oc-mirror's form: the compact JSON of the
/// Kubernetes legacy codec (field order `kind`, `apiVersion`, `metadata`, `binaryData`;
/// `creationTimestamp: null`) and a trailing newline. `signatures[i]` becomes `sha256-<hex>-<i+1>`.
pub fn signature_configmap(digest: &Digest, signatures: &[Vec<u8>]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let binary_data = signatures
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("sha256-{}-{}", digest.hex(), i + 1), b64.encode(s)))
        .collect();
    let cm = ConfigMap {
        kind: "ConfigMap",
        api_version: "v1",
        metadata: Meta {
            name: format!("sha256-{}", digest.hex()),
            namespace: "openshift-config-managed",
            creation_timestamp: None,
            labels: BTreeMap::from([("release.openshift.io/verification-signatures", "")]),
        },
        binary_data,
    };
    let mut out = serde_json::to_vec(&cm).expect("a ConfigMap serialises");
    out.push(b'\n');
    out
}

/// `updateService.yaml` (`updateservice.operator.openshift.io/v1`), as oc-mirror v1 writes it:
/// name `update-service-oc-mirror`, the graph image by digest, the release-images repository,
/// two replicas, no namespace.
pub fn update_service_yaml(graph_image: &str, releases_repo: &str) -> String {
    format!(
        "apiVersion: updateservice.operator.openshift.io/v1\nkind: UpdateService\nmetadata:\n  name: update-service-oc-mirror\nspec:\n  graphDataImage: {graph_image}\n  releases: {releases_repo}\n  replicas: 2\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configmap_shape_matches_oc_mirror() {
        let d = Digest::parse("sha256:0da6316466d60a3a4535d5fed3589feb0391989982fba59d47d4c729912d6363").unwrap();
        assert_eq!(signature_file_name(&d), "signature-sha256-0da6316466d60a3a.json");
        let out = String::from_utf8(signature_configmap(&d, &[b"sig".to_vec()])).unwrap();
        let h = d.hex();
        assert_eq!(
            out,
            format!(
                "{{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{{\"name\":\"sha256-{h}\",\"namespace\":\"openshift-config-managed\",\"creationTimestamp\":null,\"labels\":{{\"release.openshift.io/verification-signatures\":\"\"}}}},\"binaryData\":{{\"sha256-{h}-1\":\"c2ln\"}}}}\n"
            )
        );
    }
}
