//! Tauri commands of the catalog browser: thin adapters over `ferry_api::catalog_browse`. The
//! loaded catalogs live in the app state ([`CatalogCache`]) for the session; registry access
//! uses the stored logins and trust settings (default run settings, as the dry run does).

use ferry_api::catalog_browse::{self as browse, CatalogCache};
use ferry_api::registry::RegistrySettings;
use ferry_api::wire::WireError;
use ferry_api::wire_catalog::{CatalogPackageView, CatalogPreview, CatalogView};
use std::sync::Arc;
use tauri::State;

type CmdResult<T> = Result<T, WireError>;

/// The Red Hat index images of an OpenShift minor version (`4.16` → four index images).
#[tauri::command]
pub fn redhat_catalogs(version: String) -> CmdResult<Vec<String>> {
    ferry_api::operators::redhat_catalogs(&version).map_err(WireError::from)
}

/// Read an index image (or take it from the session cache) and list its packages.
#[tauri::command]
pub async fn browse_catalog(cache: State<'_, Arc<CatalogCache>>, catalog: String) -> CmdResult<CatalogView> {
    let cache = cache.inner().clone();
    browse::browse(&cache, &RegistrySettings::default(), &catalog)
        .await
        .map_err(WireError::from)
}

/// One package of a loaded catalog: channels, heads, versions, full description.
#[tauri::command]
pub async fn catalog_package(
    cache: State<'_, Arc<CatalogCache>>,
    catalog: String,
    package: String,
) -> CmdResult<CatalogPackageView> {
    let cache = cache.inner().clone();
    browse::package(&cache, &RegistrySettings::default(), &catalog, &package)
        .await
        .map_err(WireError::from)
}

/// What `mirror.operators[index]` of the image set selects, before anything downloads.
#[tauri::command]
pub async fn preview_catalog(
    cache: State<'_, Arc<CatalogCache>>,
    yaml: String,
    index: u32,
) -> CmdResult<CatalogPreview> {
    let cache = cache.inner().clone();
    browse::preview(&cache, &RegistrySettings::default(), &yaml, index as usize)
        .await
        .map_err(WireError::from)
}
