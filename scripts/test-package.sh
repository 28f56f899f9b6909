#!/usr/bin/env bash
# The package test: installs the .deb built by scripts/package.sh into a clean Debian 12 root
# (mmdebstrap from Debian's own packages; apt resolves the .deb's dependencies, so a missing
# Depends fails here), then, inside that root:
#   - `ferry --version` from the package prints the workspace version;
#   - the installed app starts under Xvfb and answers the WebDriver (tauri-driver pointed at the
#     installed binary, WebKitWebDriver from Debian): its window is titled Ferry and shows the
#     engine version.
# and the .rpm (no RPM distribution's mirror is reachable here, so no dependency resolution for it):
#   - its digests verify (rpm -K), it holds the same files as the .deb, and its payload, installed
#     with rpm into a folder of that root, runs (`ferry --version`).
# Usage: scripts/test-package.sh [path/to/ferry.deb [path/to/ferry.rpm]]
#   (takes the newest packages of this version under target/release/bundle, then target/debug/bundle,
#   and builds them with scripts/package.sh when there are none)
# Prints how long each stage took. Needs root (chroot, mounts) and Debian's mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
T0=$(date +%s)
stage() { echo "== test-package: $* ($(($(date +%s) - T0)) s)"; }

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
for p in mmdebstrap python3 rpm; do
  command -v "$p" >/dev/null 2>&1 || $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 "$p"
done
command -v tauri-driver >/dev/null 2>&1 || cargo install tauri-driver --locked

VERSION=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="ferry-desktop"))')
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
# $1 is a glob (left unquoted so it expands).
newest() { ls -t "$TARGET_DIR"/release/bundle/$1 "$TARGET_DIR"/debug/bundle/$1 2>/dev/null | head -1 || true; }
DEB=${1:-}
RPM=${2:-}
if [ -z "$DEB" ]; then
  DEB=$(newest "deb/*_${VERSION}_*.deb")
  if [ -z "$DEB" ]; then
    stage "no package of version $VERSION yet: scripts/package.sh"
    FERRY_SKIP_SETUP=${FERRY_SKIP_SETUP:-} ./scripts/package.sh
    DEB=$(newest "deb/*_${VERSION}_*.deb")
  fi
fi
[ -f "$DEB" ] || { echo "test-package: $DEB does not exist" >&2; exit 1; }
# The .rpm bundled with that .deb (same folder tree) unless one is named.
[ -n "$RPM" ] || RPM=$(ls -t "$(dirname "$DEB")"/../rpm/*-"$VERSION"-*.rpm 2>/dev/null | head -1 || true)
[ -f "$RPM" ] || { echo "test-package: no .rpm of version $VERSION beside $DEB (scripts/package.sh builds both)" >&2; exit 1; }
stage "testing $DEB ($(du -h "$DEB" | cut -f1)) and $RPM ($(du -h "$RPM" | cut -f1))"
echo "Depends: $(dpkg-deb -f "$DEB" Depends)"

ROOTFS=$(mktemp -d /tmp/ferry-pkg-root.XXXXXX)
DRIVER_PID=""
cleanup() {
  local status=$?
  # The driver runs in its own session (setsid): its group holds Xvfb, D-Bus and the app.
  if [ -n "$DRIVER_PID" ]; then kill -- "-$DRIVER_PID" 2>/dev/null || true; wait "$DRIVER_PID" 2>/dev/null || true; fi
  # Xvfb, WebKitWebDriver and the app take a moment to exit: wait (5 s at most) until no process
  # runs inside the root, so that the unmounts below are not "busy".
  for _ in $(seq 50); do
    inside=$(for p in /proc/[0-9]*; do [ "$(readlink "$p/root" 2>/dev/null)" = "$ROOTFS" ] && echo "${p#/proc/}"; done || true)
    [ -z "$inside" ] && break
    sleep 0.1
  done
  for m in dev proc sys; do
    if mountpoint -q "$ROOTFS/$m"; then $SUDO umount -R "$ROOTFS/$m" || $SUDO umount -R -l "$ROOTFS/$m"; fi
  done
  if mountpoint -q "$ROOTFS"; then $SUDO umount "$ROOTFS" || $SUDO umount -l "$ROOTFS"; fi
  $SUDO rm -rf --one-file-system "$ROOTFS"
  exit "$status"
}
trap cleanup EXIT
# The root lives in memory (about 1 GiB with WebKitGTK): no disk space taken, nothing left behind
# on disk by an interrupted run, and unpacking is faster. FERRY_PKG_ROOT_SIZE caps it.
$SUDO mount -t tmpfs -o "size=${FERRY_PKG_ROOT_SIZE:-3g},mode=755" ferry-pkg-root "$ROOTFS"

# A clean Debian 12 with only what the test itself uses (X server, D-Bus, the WebDriver);
# everything the app needs must come from the .deb's dependencies.
stage "mmdebstrap bookworm"
# The package lists stay (--skip=cleanup/apt/lists): apt in the root resolves the .deb's Depends.
$SUDO mmdebstrap --quiet --variant=apt --skip=cleanup/apt/lists \
  --include=xvfb,xauth,dbus,webkit2gtk-driver,ca-certificates \
  bookworm "$ROOTFS" http://deb.debian.org/debian
stage "apt installs the .deb with its dependencies"
cp "$DEB" "$ROOTFS/tmp/ferry.deb"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
$SUDO mount -t proc proc "$ROOTFS/proc"
$SUDO mount --rbind /dev "$ROOTFS/dev"
# A slave copy: unmounting it later never propagates back to the host's /dev.
$SUDO mount --make-rslave "$ROOTFS/dev"
$SUDO mount -t sysfs sys "$ROOTFS/sys"
$SUDO chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/ferry.deb >"$ROOTFS/tmp/apt.log" 2>&1 ||
  { cat "$ROOTFS/tmp/apt.log" >&2; echo "test-package: apt could not install $DEB in a clean Debian 12" >&2; exit 1; }
echo "apt pulled in $(grep -c '^Setting up ' "$ROOTFS/tmp/apt.log") packages"
inroot() { $SUDO chroot "$ROOTFS" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root "$@"; }
# Every library both programs link resolves from what apt installed (a Depends too few fails here).
for b in /usr/bin/ferry /usr/bin/ferry-desktop; do
  missing=$(inroot ldd "$b" | grep 'not found' || true)
  [ -z "$missing" ] || { echo "test-package: $b in the clean root lacks: $missing" >&2; exit 1; }
done
# The menu entry starts the installed binary and its icon is installed.
desktop=$(ls "$ROOTFS"/usr/share/applications/*.desktop 2>/dev/null | head -1 || true)
[ -n "$desktop" ] || { echo "test-package: the .deb installed no menu entry under /usr/share/applications" >&2; exit 1; }
grep -q '^Exec=ferry-desktop' "$desktop" || { echo "test-package: $desktop does not start ferry-desktop: $(grep ^Exec= "$desktop")" >&2; exit 1; }
icon=$(sed -n 's/^Icon=//p' "$desktop")
ls "$ROOTFS"/usr/share/icons/hicolor/*/apps/"$icon".png >/dev/null 2>&1 || { echo "test-package: the menu entry's icon '$icon' is not installed" >&2; exit 1; }

stage "the packaged CLI"
got=$(inroot ferry --version)
echo "$got"
case "$got" in
  *" $VERSION"*) ;;
  *) echo "test-package: ferry --version says '$got', expected version $VERSION" >&2; exit 1 ;;
esac

stage "the .rpm: digests, files, payload"
rpm -K --nosignature "$RPM"
deb_files=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ {print $6}' | sed -E 's#^(\./|/)?#/#' | sort)
rpm_files=$(rpm -qlvp "$RPM" 2>/dev/null | awk '$1 !~ /^d/ {print $NF}' | sort)
[ "$deb_files" = "$rpm_files" ] || { echo "test-package: the .rpm and the .deb hold different files:" >&2; diff <(echo "$deb_files") <(echo "$rpm_files") >&2; exit 1; }
echo "Requires: $(rpm -qp --requires "$RPM" 2>/dev/null | grep -v '^rpmlib(' | tr '\n' ' ')"
# Installed with rpm itself into /rpmroot of the Debian root (--nodeps: this root's libraries are
# Debian's, not an RPM distribution's), then run there.
$SUDO rpm -i --root "$ROOTFS/rpmroot" --nodeps --noscripts "$RPM"
got=$(inroot /rpmroot/usr/bin/ferry --version)
case "$got" in
  *" $VERSION"*) echo "rpm payload: $got" ;;
  *) echo "test-package: the .rpm's ferry --version says '$got', expected version $VERSION" >&2; exit 1 ;;
esac

stage "the installed app under Xvfb, driven through tauri-driver"
APP_BIN=$(grep -E '^/usr/bin/' <<<"$deb_files" | grep -v '^/usr/bin/ferry$' | head -1 || true)
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
