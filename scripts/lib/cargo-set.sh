# Sourced by the test scripts: the ONE package and feature selection every cargo command of the
# test run uses. Cargo resolves features per selection, so `-p ferry-auth` or
# `-p ferry-desktop --features custom-protocol` after a workspace build recompiled about 60 and
# 480 units with other feature sets (tokio, reqwest, every ferry crate...). One selection means
# clippy, nextest, the doc tests, the keyring tests and the desktop app share one build.
# custom-protocol bundles ui/dist into the app (the desktop suite drives that binary), so the UI
# is built before any cargo command: see build_ui.
CARGO_SET=(--workspace --features ferry-desktop/custom-protocol)

# Installs the UI's packages when the lockfile changed and builds ui/dist.
build_ui() {
  if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    (cd ui && npm ci --no-audit --no-fund)
  fi
  (cd ui && npm run build --silent)
}
