#!/usr/bin/env bash
# Builds the installable Linux packages of Ferry in release mode: a .deb and an .rpm, each with the
# desktop app (`ferry-desktop`, the bundled UI, the icons of icons/, a menu entry) and the CLI
# `ferry` in /usr/bin. The version comes from the workspace Cargo.toml (tauri.conf.json has none,
# so the Tauri CLI takes the app crate's, which inherits the workspace's).
#
#   scripts/package.sh            # .deb and .rpm
#   scripts/package.sh appimage   # also an AppImage (its bundler downloads linuxdeploy from GitHub)
#
# Prints the package paths at the end. Idempotent; installs what is missing via scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

[ "${FERRY_SKIP_SETUP:-}" = 1 ] || ./scripts/setup.sh >/dev/null

bundles=deb,rpm
[ "${1:-}" = appimage ] && bundles=deb,rpm,appimage

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
echo "== package: the CLI (release)"
cargo build --release --locked -p ferry-cli
CLI="$TARGET_DIR/release/ferry"
[ -x "$CLI" ] || { echo "package: $CLI was not built" >&2; exit 1; }

# tauri.conf.json points the packaged /usr/bin/ferry at ../target/release/ferry; a shared or
# moved target folder (CARGO_TARGET_DIR) is passed in here instead.
override=$(python3 - "$CLI" <<'PY'
import json, sys
cli = sys.argv[1]
files = {"/usr/bin/ferry": cli}
print(json.dumps({"bundle": {"linux": {"deb": {"files": files}, "rpm": {"files": files}}}}))
PY
)
echo "== package: the app and the $bundles bundles (release; tauri build runs the UI build first)"
npx tauri build --bundles "$bundles" --config "$override"

version=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="ferry-desktop"))')
out="$TARGET_DIR/release/bundle"
echo "== package: built (version $version)"
found=0
for f in "$out"/deb/*_"$version"_*.deb "$out"/rpm/*-"$version"-*.rpm "$out"/appimage/*_"$version"_*.AppImage; do
  [ -f "$f" ] || continue
  echo "$f"
  found=$((found + 1))
done
[ "$found" -ge 2 ] || { echo "package: expected a .deb and an .rpm of version $version under $out" >&2; exit 1; }
