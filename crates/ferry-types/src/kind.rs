//! What an image is, in oc-mirror's vocabulary (the association `type` in its metadata). The
//! kind decides the ICSP group and, later, the destination naming of release and operator images.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ImageKind {
    OcpRelease,
    OcpReleaseContent,
    CincinnatiGraph,
    OperatorCatalog,
    OperatorBundle,
    OperatorRelatedImage,
    Generic,
}

/// The ICSP/IDMS group an image kind belongs to (oc-mirror's `release`, `operator`, `generic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MirrorGroup {
    Release,
    Operator,
    Generic,
    /// The graph-data image gets no mirror entry.
    None,
}

impl ImageKind {
    pub fn group(self) -> MirrorGroup {
        match self {
            ImageKind::OcpRelease | ImageKind::OcpReleaseContent => MirrorGroup::Release,
            ImageKind::OperatorCatalog | ImageKind::OperatorBundle | ImageKind::OperatorRelatedImage => {
                MirrorGroup::Operator
            }
            ImageKind::Generic => MirrorGroup::Generic,
            ImageKind::CincinnatiGraph => MirrorGroup::None,
        }
    }
}
