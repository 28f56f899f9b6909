//! `ferry mirror --from DIR|TAR docker://host/ns --manifests-only`: oc-mirror's "regenerate the
//! cluster resources from the set's metadata" mode. Nothing is pushed and the registry is not
//! contacted: the results folder (`mapping.txt`, ICSP, IDMS, ITMS) is written for every image
//! the set's metadata records as mirrored (`pastAssociations`), under the given target.

use ferry_archive::ArchiveSet;
use ferry_types::{Destination, Error, Result};
use std::path::{Path, PathBuf};

/// Write the results of the set at `from` for `destination` into `<workspace>/results-<epoch>`.
/// Returns the results folder and how many images it lists.
pub fn manifests_only(from: &Path, destination: &Destination, workspace: &Path) -> Result<(PathBuf, usize)> {
    let Destination::Registry { registry, namespace } = destination else {
        return Err(Error::InvalidConfig(
            "--manifests-only writes the cluster resources for a registry: give a docker://host[/namespace] destination"
                .into(),
        ));
    };
    let set = ArchiveSet::open(from)?;
    let md = set.metadata.clone().ok_or_else(|| {
        Error::Archive(format!(
            "{}: no {} in the image set, so there is nothing to write results from; pick the folder holding \
             part 000000 of a mirror-to-disk set",
            from.display(),
            ferry_metadata::METADATA_PATH
        ))
    })?;
    let prefix = crate::disk::ns_prefix(namespace.as_deref());
    let images = crate::disk::results::mapped_from_associations(&md.past_associations, registry, &prefix);
    let written = ferry_manifests::write_results(
        workspace,
        crate::mirror::epoch_now(),
        &images,
        &ferry_manifests::ResultsExtras::new(),
    )
    .map_err(|e| Error::io(workspace.display(), e))?;
    Ok((written.dir, images.len()))
}
