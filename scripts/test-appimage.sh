#!/usr/bin/env bash
# The AppImage test: runs Ferry's AppImage (scripts/package.sh appimage) in a clean Debian 12 root
# that has NO WebKitGTK, GTK or libsoup: only an X server (Xvfb, which brings Mesa's GL stack),
# D-Bus and libegl1/libgles2/libgbm1, the graphics libraries an AppImage takes from the machine.
# Inside it:
#   - none of libwebkit2gtk*, libjavascriptcoregtk*, libgtk-3*, libsoup-3* is installed;
#   - `Ferry.AppImage ferry --version` prints the workspace version (the runtime extracts the
#     image once to ~/.cache/ferry-appimage: the root has no squashfuse);
#   - every ELF file of the extracted AppDir resolves all its libraries with AppRun's path;
#   - the AppImage's window answers the WebDriver (tauri-driver, and WebKitWebDriver copied in
#     with its own libraries under /opt/wd, found through its RPATH only, so the app cannot use
#     them): title Ferry, masthead "Ferry engine VERSION"; a screenshot of that window is
#     docs/screenshots/appimage-clean-debian.png.
# On this machine (squashfuse and /dev/fuse present), the AppImage's CLI also runs from the
# squashfuse mount, which must leave no extracted copy and no mount behind.
# Usage: scripts/test-appimage.sh [path/to/Ferry.AppImage]. Needs root and Debian's mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
T0=$(date +%s)
stage() { echo "== test-appimage: $* ($(($(date +%s) - T0)) s)"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
for p in mmdebstrap patchelf; do
  command -v "$p" >/dev/null 2>&1 || $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 "$p"
done
command -v tauri-driver >/dev/null 2>&1 || cargo install tauri-driver --locked
[ -x /usr/bin/WebKitWebDriver ] || $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 webkit2gtk-driver

VERSION=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="ferry-desktop"))')
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
IMG=${1:-$(ls -t "$TARGET_DIR"/release/bundle/appimage/*_"$VERSION"_*.AppImage "$TARGET_DIR"/debug/bundle/appimage/*_"$VERSION"_*.AppImage 2>/dev/null | head -1 || true)}
[ -n "$IMG" ] && [ -f "$IMG" ] || { echo "test-appimage: no AppImage of version $VERSION under $TARGET_DIR/*/bundle/appimage: build it with scripts/package.sh appimage" >&2; exit 1; }
stage "testing $IMG ($(du -h "$IMG" | cut -f1))"

if [ -e /dev/fuse ] && command -v squashfuse >/dev/null && command -v fusermount3 >/dev/null; then
  stage "the CLI from a squashfuse mount, on this machine"
  cache=$(mktemp -d)
  got=$(env XDG_CACHE_HOME="$cache" "$IMG" ferry --version)
  case "$got" in *" $VERSION"*) echo "mounted: $got" ;; *) echo "test-appimage: mounted, ferry --version says '$got'" >&2; exit 1 ;; esac
  [ -z "$(ls -A "$cache")" ] || { echo "test-appimage: the mounted run extracted a copy into $cache" >&2; exit 1; }
  rmdir "$cache"
  # The helper unmounts within 200 ms of the program's exit.
  sleep 1
  left=$(grep -c " ${TMPDIR:-/tmp}/.mount_Ferry" /proc/mounts || true)
  [ "$left" = 0 ] || { echo "test-appimage: $left squashfuse mount(s) left behind" >&2; exit 1; }
fi

. scripts/lib/clean-root.sh
trap root_cleanup EXIT
root_create xvfb,xauth,dbus,ca-certificates,libegl1,libgles2,libgbm1
root_mount
present=$(inroot dpkg-query -W -f '${Package} ${Status}\n' 2>/dev/null | grep -E '^(libwebkit2gtk|libjavascriptcoregtk|libgtk-3|libsoup-3|libayatana)' | grep ' installed$' || true)
[ -z "$present" ] || { echo "test-appimage: the clean root already has: $present" >&2; exit 1; }
echo "root: $(inroot dpkg-query -W -f '.\n' | wc -l) packages, no WebKitGTK, GTK 3 or libsoup"
cp "$IMG" "$ROOTFS/opt/Ferry.AppImage"

stage "the CLI from the AppImage (first start extracts it)"
got=$(inroot /opt/Ferry.AppImage ferry --version)
case "$got" in *" $VERSION"*) echo "$got" ;; *) echo "test-appimage: ferry --version says '$got', expected $VERSION" >&2; exit 1 ;; esac
appdir=$(ls -d "$ROOTFS"/root/.cache/ferry-appimage/*/ | head -1)
[ -f "$appdir/.ferry-appimage-extracted" ] || { echo "test-appimage: no complete extracted AppDir under /root/.cache/ferry-appimage" >&2; exit 1; }
t=$(date +%s%N)
inroot /opt/Ferry.AppImage ferry --version >/dev/null
echo "second start (reuses the extracted copy): $((($(date +%s%N) - t) / 1000000)) ms"

stage "every library of the AppDir resolves in the clean root"
rel=${appdir#"$ROOTFS"}
n=0
while IFS= read -r f; do
  [ "$(head -c 4 "$ROOTFS$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
  n=$((n + 1))
  missing=$(inroot env LD_LIBRARY_PATH="${rel}usr/lib/x86_64-linux-gnu" ldd "$f" 2>&1 | grep 'not found' || true)
  [ -z "$missing" ] || { echo "test-appimage: $f lacks: $missing" >&2; exit 1; }
done < <(cd "$ROOTFS" && find "${rel#/}" -type f | sed 's|^|/|')
echo "$n ELF files, all resolved"

stage "the AppImage's window, driven through tauri-driver"
# WebKitWebDriver (test tooling, not part of the image) with its libraries in /opt/wd/lib, found
# through DT_RPATH, which a child process does not inherit: the app cannot pick them up.
mkdir -p "$ROOTFS/opt/wd/lib" "$ROOTFS/usr/local/bin"
cp /usr/bin/WebKitWebDriver "$ROOTFS/usr/local/bin/WebKitWebDriver"
ldd /usr/bin/WebKitWebDriver | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | while read -r l; do
  [ -e "$ROOTFS/usr/lib/x86_64-linux-gnu/$(basename "$l")" ] || cp -L "$l" "$ROOTFS/opt/wd/lib/"
done
patchelf --force-rpath --set-rpath /opt/wd/lib "$ROOTFS/usr/local/bin/WebKitWebDriver"
root_driver
mkdir -p docs/screenshots
python3 scripts/lib/wd-installed-app.py "$PORT" /opt/Ferry.AppImage "$VERSION" docs/screenshots/appimage-clean-debian.png ||
  { cat "$ROOTFS/tmp/driver.log" >&2; exit 1; }
stage "passed"
