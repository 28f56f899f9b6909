#!/usr/bin/env bash
# The package test: installs the .deb built by scripts/package.sh into a clean Debian 12 root
# (mmdebstrap from Debian's own packages; apt resolves the .deb's dependencies, so a missing
# Depends fails here), then, inside that root:
#   - `ferry --version` from the package prints the workspace version;
#   - the installed app starts under Xvfb and answers the WebDriver (tauri-driver pointed at the
#     installed binary, WebKitWebDriver from Debian): its window is titled Ferry and shows the
#     engine version.
# Usage: scripts/test-package.sh [path/to/ferry.deb]   (builds the packages when none is given)
# Prints how long each stage took. Needs root (chroot, mounts) and Debian's mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
T0=$(date +%s)
stage() { echo "== test-package: $* ($(($(date +%s) - T0)) s)"; }

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
for p in mmdebstrap python3; do
  command -v "$p" >/dev/null 2>&1 || $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 "$p"
done
command -v tauri-driver >/dev/null 2>&1 || cargo install tauri-driver --locked

VERSION=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="ferry-desktop"))')
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
DEB=${1:-}
if [ -z "$DEB" ]; then
  DEB=$(ls -t "$TARGET_DIR"/release/bundle/deb/*_"$VERSION"_*.deb 2>/dev/null | head -1 || true)
  if [ -z "$DEB" ]; then
    stage "no package of version $VERSION yet: scripts/package.sh"
    FERRY_SKIP_SETUP=${FERRY_SKIP_SETUP:-} ./scripts/package.sh
    DEB=$(ls -t "$TARGET_DIR"/release/bundle/deb/*_"$VERSION"_*.deb | head -1)
  fi
fi
[ -f "$DEB" ] || { echo "test-package: $DEB does not exist" >&2; exit 1; }
stage "testing $DEB"

ROOTFS=$(mktemp -d /tmp/ferry-pkg-root.XXXXXX)
DRIVER_PID=""
cleanup() {
  local status=$?
  # The driver runs in its own session (setsid): its group holds Xvfb, D-Bus and the app.
  if [ -n "$DRIVER_PID" ]; then kill -- "-$DRIVER_PID" 2>/dev/null || true; wait "$DRIVER_PID" 2>/dev/null || true; fi
  for m in dev proc sys; do
    if mountpoint -q "$ROOTFS/$m"; then $SUDO umount -R "$ROOTFS/$m" || $SUDO umount -R -l "$ROOTFS/$m"; fi
  done
  $SUDO rm -rf --one-file-system "$ROOTFS"
  exit "$status"
}
trap cleanup EXIT

# A clean Debian 12 with only what the test itself uses (X server, D-Bus, the WebDriver);
# everything the app needs must come from the .deb's dependencies.
stage "mmdebstrap bookworm"
$SUDO mmdebstrap --quiet --variant=apt --include=xvfb,xauth,dbus,webkit2gtk-driver,ca-certificates \
  bookworm "$ROOTFS" http://deb.debian.org/debian
stage "apt installs the .deb with its dependencies"
cp "$DEB" "$ROOTFS/tmp/ferry.deb"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
$SUDO mount -t proc proc "$ROOTFS/proc"
$SUDO mount --rbind /dev "$ROOTFS/dev"
# A slave copy: unmounting it later never propagates back to the host's /dev.
$SUDO mount --make-rslave "$ROOTFS/dev"
$SUDO mount -t sysfs sys "$ROOTFS/sys"
$SUDO chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/ferry.deb >/dev/null
inroot() { $SUDO chroot "$ROOTFS" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root "$@"; }

stage "the packaged CLI"
got=$(inroot ferry --version)
echo "$got"
case "$got" in
  *" $VERSION"*) ;;
  *) echo "test-package: ferry --version says '$got', expected version $VERSION" >&2; exit 1 ;;
esac

stage "the installed app under Xvfb, driven through tauri-driver"
APP_BIN=$(dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's#^\./#/#' | grep -E '^/usr/bin/' | grep -v '^/usr/bin/ferry$' | head -1)
[ -n "$APP_BIN" ] || { echo "test-package: the .deb has no app binary in /usr/bin" >&2; dpkg-deb -c "$DEB" >&2; exit 1; }
[ -x "$ROOTFS$APP_BIN" ] || { echo "test-package: $APP_BIN is not installed" >&2; exit 1; }
cp "$(command -v tauri-driver)" "$ROOTFS/usr/local/bin/tauri-driver"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
NPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
setsid $SUDO chroot "$ROOTFS" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
  tauri-driver --port "$PORT" --native-port "$NPORT" >"$ROOTFS/tmp/driver.log" 2>&1 &
DRIVER_PID=$!
python3 - "$PORT" "$APP_BIN" "$VERSION" <<'PY' || { cat "$ROOTFS/tmp/driver.log" >&2; exit 1; }
import json, sys, time, urllib.request
port, app, version = sys.argv[1], sys.argv[2], sys.argv[3]
base = f"http://127.0.0.1:{port}"
def wd(method, url, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r).get("value")
for _ in range(100):
    try:
        wd("GET", "/status"); break
    except Exception:
        time.sleep(0.2)
sid = wd("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "wry", "tauri:options": {"application": app}}}})["sessionId"]
try:
    title = wd("GET", f"/session/{sid}/title")
    assert title == "Ferry", f"window title {title!r}"
    deadline = time.time() + 30
    shown = ""
    while time.time() < deadline:
        try:
            el = wd("POST", f"/session/{sid}/element", {"using": "css selector", "value": '[data-testid="engine-version"]'})
            shown = wd("GET", f"/session/{sid}/element/{list(el.values())[0]}/text")
            if version in shown:
                break
        except Exception:
            pass
        time.sleep(0.3)
    assert f"Ferry engine {version}" in shown, f"the installed app shows {shown!r}, expected engine {version}"
    print(f"installed app: window '{title}', masthead '{shown}'")
finally:
    try:
        wd("DELETE", f"/session/{sid}")
    except Exception:
        pass
PY
stage "passed"
