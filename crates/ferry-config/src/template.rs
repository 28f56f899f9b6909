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

/// The template text: oc-mirror v1's `init` content (a release channel, a catalog with one
/// package, an additional image) plus a helm chart (oc-mirror's own example: podinfo), every
/// section one Ferry plans and mirrors in this build. It parses with [`crate::parse_str`] with
/// no findings, and `ferry mirror --config … file://… --dry-run` plans it (tested in
/// ferry-cli's `init_run` with every host served on loopback). One source for `ferry init` and
/// the desktop app's "New from template".
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
  # OpenShift releases from the update graph (signatures verified), and the graph data image.
  platform:
    channels:
    - name: stable-4.16
      type: ocp
    graph: true
  # An operator catalog filtered to the listed packages and channels (rebuilt on the target).
  operators:
  - catalog: registry.redhat.io/redhat/redhat-operator-index:v4.16
    packages:
    - name: serverless-operator
      channels:
      - name: stable
  # Any other image, by tag or digest.
  additionalImages:
  - name: registry.redhat.io/ubi9/ubi:latest
  # Helm charts from a repository (or local ones under helm.local); the images their values
  # and templates name are mirrored too.
  helm:
    repositories:
    - name: podinfo
      url: https://stefanprodan.github.io/podinfo
      charts:
      - name: podinfo
        version: 6.0.0
"
    )
}
