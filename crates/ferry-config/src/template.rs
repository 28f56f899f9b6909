//! `ferry init`: a starting configuration, like `oc-mirror init`.

/// Where the template's `storageConfig` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplateStorage {
    /// Metadata kept as an image: `storageConfig.registry.imageURL`.
    Registry(String),
    /// Metadata kept in a folder: `storageConfig.local.path`.
    Local(String),
    /// No storageConfig (every run is a full run).
    None,
}

/// Quote a user value for YAML only when it needs it (keeps the common case readable).
fn yaml_scalar(s: &str) -> String {
    serde_yaml_ng::to_string(s)
        .map(|v| v.trim_end().to_string())
        .unwrap_or_else(|_| format!("{s:?}"))
}

/// The template text. It parses with [`crate::parse_str`] (tested).
pub fn template(storage: TemplateStorage) -> String {
    let storage = match storage {
        TemplateStorage::Registry(url) => format!(
            "storageConfig:\n  registry:\n    imageURL: {}\n    skipTLS: false\n",
            yaml_scalar(&url)
        ),
        TemplateStorage::Local(path) => format!("storageConfig:\n  local:\n    path: {}\n", yaml_scalar(&path)),
        TemplateStorage::None => String::new(),
    };
    format!(
        "\
kind: ImageSetConfiguration
apiVersion: mirror.openshift.io/v1alpha2
# Maximum size of one archive file, in GiB (default 500).
archiveSize: 4
{storage}mirror:
  platform:
    channels:
    - name: stable-4.16
      type: ocp
    graph: true
  operators:
  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16
    packages:
    - name: serverless-operator
      channels:
      - name: stable
  additionalImages:
  - name: registry.redhat.io/ubi9/ubi:latest
  helm: {{}}
"
    )
}
