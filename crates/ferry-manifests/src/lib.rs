//! Ferry: results for the cluster: mapping.txt, ImageContentSourcePolicy, IDMS/ITMS, CatalogSource, UpdateService.
