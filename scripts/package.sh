#!/usr/bin/env bash
# Builds the installable Linux packages of Ferry in release mode: a .deb and an .rpm, each with the
# desktop app (`ferry-desktop`, the bundled UI, the icons of icons/, a menu entry) and the CLI
# `ferry` in /usr/bin. The version comes from the workspace Cargo.toml (tauri.conf.json has none,
# so the Tauri CLI takes the app crate's, which inherits the workspace's).
#
#   scripts/package.sh            # .deb and .rpm
#   scripts/package.sh appimage   # also an AppImage (packaging/appimage/build.sh, no download)
#
# The packages' dependencies are read from the binaries themselves, not kept by hand: the .deb's
# Depends are what dpkg-shlibdeps finds for the libraries both binaries link (libssl3 for the CLI,
# WebKitGTK, GTK, libdbus... for the app) plus the libraries loaded at run time that no linker
# sees (tauri.conf.json's bundle.linux.deb.depends: the tray's appindicator); the .rpm requires
# each linked library by its soname in rpm's own form (`libssl.so.3()(64bit)`), which is what an
# RPM distribution's packages provide, plus tauri.conf.json's bundle.linux.rpm.depends.
#
# Environment: FERRY_PACKAGE_PROFILE=release (the default, what a user installs) or debug: bundles
# the debug binaries the test run already built (same files, same dependencies, no release
# build), for an install test that has to be cheap; with FERRY_PACKAGE_NO_BUILD=1 as well it
# bundles target/debug's binaries without calling cargo. FERRY_SKIP_SETUP=1 skips scripts/setup.sh.
# Prints the package paths at the end. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

[ "${FERRY_SKIP_SETUP:-}" = 1 ] || ./scripts/setup.sh >/dev/null

appimage=0
case "${1:-}" in
  "") ;;
  appimage) appimage=1 ;;
  *) echo "package: unknown argument '$1' (the only one is 'appimage')" >&2; exit 2 ;;
esac

profile=${FERRY_PACKAGE_PROFILE:-release}
case "$profile" in
  release) tauri_profile=(); outdir=release ;;
  debug | dev) tauri_profile=(--debug); outdir=debug ;;
  *) echo "package: FERRY_PACKAGE_PROFILE=$profile: only release or debug (the profiles Tauri bundles)" >&2; exit 2 ;;
esac

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
T0=$(date +%s)
stage() { echo "== package: $* ($(($(date +%s) - T0)) s)"; }

TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
CLI="$TARGET_DIR/$outdir/ferry"
APP="$TARGET_DIR/$outdir/ferry-desktop"
if [ "$outdir" = release ]; then
  # One cargo selection for both programs: `tauri build` after a `-p ferry-cli` build resolved
  # other features and compiled the shared dependencies (openssl, tokio...) a second time.
  # custom-protocol is what `tauri build` adds: the app serves the bundled ui/dist.
  . scripts/lib/cargo-set.sh
  stage "the UI, the CLI and the app (release)"
  build_ui
  cargo build --release --locked -p ferry-cli -p ferry-desktop --features ferry-desktop/custom-protocol
elif [ "${FERRY_PACKAGE_NO_BUILD:-}" = 1 ]; then
  stage "bundling the debug binaries as they are (FERRY_PACKAGE_NO_BUILD=1)"
else
  # The debug binaries are the test run's own: the same UI build and the same one cargo selection
  # as scripts/test.sh and the desktop suite, so after those this compiles nothing (a narrower
  # `tauri build --debug` resolves other features and recompiles ~480 units).
  . scripts/lib/cargo-set.sh
  stage "the UI and the test run's debug binaries"
  build_ui
  cargo build "${CARGO_SET[@]}" --all-targets
fi
[ -x "$CLI" ] || { echo "package: $CLI was not built" >&2; exit 1; }
[ -x "$APP" ] || { echo "package: $APP was not built" >&2; exit 1; }

stage "dependencies read from the binaries"
# dpkg-shlibdeps wants a debian/control beside it; a throw-away one names nothing but the package.
shlib_dir=$(mktemp -d)
trap 'rm -rf "$shlib_dir"' EXIT
mkdir "$shlib_dir/debian"
printf 'Source: ferry\n\nPackage: ferry\nArchitecture: any\n' >"$shlib_dir/debian/control"
deb_shlibs=$(cd "$shlib_dir" && dpkg-shlibdeps -O -e"$CLI" -e"$APP" 2>"$shlib_dir/err") ||
  { cat "$shlib_dir/err" >&2; echo "package: dpkg-shlibdeps could not resolve the libraries of $CLI and $APP" >&2; exit 1; }
needed=$(for b in "$CLI" "$APP"; do readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u)
[ -n "$needed" ] || { echo "package: readelf found no linked libraries in $CLI / $APP" >&2; exit 1; }

override=$(python3 - "$CLI" "$deb_shlibs" "$needed" <<'PY'
import json, sys
cli, shlibs, needed = sys.argv[1], sys.argv[2], sys.argv[3].split()
conf = json.load(open("src-tauri/tauri.conf.json"))["bundle"]["linux"]
# "shlibs:Depends=libc6 (>= 2.34), libgtk-3-0 (>= 3.21.4), ..."
deb = [d.strip() for d in shlibs.split("=", 1)[1].split(",") if d.strip()]
deb += [d for d in conf["deb"].get("depends", []) if d not in deb]
rpm = [f"{so}()(64bit)" for so in needed]
rpm += [d for d in conf["rpm"].get("depends", []) if d not in rpm]
# tauri.conf.json points the packaged /usr/bin/ferry at ../target/release/ferry; a shared or
# moved target folder (CARGO_TARGET_DIR) or another profile is passed in here instead.
files = {"/usr/bin/ferry": cli}
print(json.dumps({"bundle": {"linux": {"deb": {"files": files, "depends": deb},
                                       "rpm": {"files": files, "depends": rpm}}}}))
PY
)
echo "$override" | python3 -c 'import json,sys; l=json.load(sys.stdin)["bundle"]["linux"]; print("deb Depends:", ", ".join(l["deb"]["depends"])); print("rpm Requires:", ", ".join(l["rpm"]["depends"]))'

stage "the deb and rpm bundles"
npx tauri bundle "${tauri_profile[@]}" --bundles deb,rpm --config "$override"

version=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="ferry-desktop"))')
out="$TARGET_DIR/$outdir/bundle"
deb=$(ls -t "$out"/deb/*_"$version"_*.deb 2>/dev/null | head -1 || true)
rpm=$(ls -t "$out"/rpm/*-"$version"-*.rpm 2>/dev/null | head -1 || true)
[ -n "$deb" ] && [ -n "$rpm" ] || { echo "package: expected a .deb and an .rpm of version $version under $out" >&2; exit 1; }
# Both packages must hold both programs: a bundler that dropped the CLI is caught here.
listing=$(dpkg-deb -c "$deb")
for f in ferry ferry-desktop; do
  grep -Eq " (\./)?usr/bin/$f\$" <<<"$listing" || { echo "package: $deb has no /usr/bin/$f" >&2; exit 1; }
done

if [ "$appimage" = 1 ]; then
  stage "the AppImage (packaging/appimage: our runtime, the .deb's files, mksquashfs)"
  # Tauri's AppImage bundler downloads linuxdeploy, its GTK plugin and the AppImage runtime from
  # github.com; packaging/appimage/build.sh makes one from what Debian ships instead.
  command -v mksquashfs >/dev/null || $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 squashfs-tools
  # The runtime is linked statically (crt-static on this one crate: no shared dependency is
  # rebuilt), so it starts whatever libc the machine has.
  rt_profile=(); [ "$outdir" = release ] && rt_profile=(--release)
  cargo rustc "${rt_profile[@]}" --locked -p ferry-appimage-runtime --bin ferry-appimage-runtime -- \
    -C target-feature=+crt-static -C strip=symbols
  runtime="$TARGET_DIR/$outdir/ferry-appimage-runtime"
  [[ $(file "$runtime") == *static* ]] || { echo "package: $runtime is not statically linked: $(file "$runtime")" >&2; exit 1; }
  packaging/appimage/build.sh "$deb" "$runtime" "$out/appimage/Ferry_${version}_amd64.AppImage"
fi

stage "built (version $version)"
echo "$deb ($(du -h "$deb" | cut -f1))"
echo "$rpm ($(du -h "$rpm" | cut -f1))"
if [ "$appimage" = 1 ]; then echo "$out/appimage/Ferry_${version}_amd64.AppImage ($(du -h "$out/appimage/Ferry_${version}_amd64.AppImage" | cut -f1))"; fi
exit 0
