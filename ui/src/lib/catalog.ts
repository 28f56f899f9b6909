// Typed calls of the catalog browser (src-tauri/src/cmd_catalog.rs over ferry_api::catalog_browse).
// Kept apart from ipc.ts so the browser's commands live with the browser.
import { call } from "./ipc";
import type { CatalogView } from "../bindings/CatalogView";
import type { CatalogPackageView } from "../bindings/CatalogPackageView";
import type { CatalogPreview } from "../bindings/CatalogPreview";

export const catalogApi = {
  /** The Red Hat index images of an OpenShift minor version ("4.16"). */
  redhatCatalogs: (version: string) => call<string[]>("redhat_catalogs", { version }),
  /** Reads the index image (cached per digest for the session) and lists its packages. */
  browse: (catalog: string) => call<CatalogView>("browse_catalog", { catalog }),
  /** One package: channels with heads and every version, full description. */
  package: (catalog: string, pkg: string) => call<CatalogPackageView>("catalog_package", { catalog, package: pkg }),
  /** What mirror.operators[index] of the image set keeps, on the loaded catalog. */
  preview: (yaml: string, index: number) => call<CatalogPreview>("preview_catalog", { yaml, index }),
};
