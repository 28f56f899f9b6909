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

. scripts/lib/clean-root.sh
trap root_cleanup EXIT
# A clean Debian 12 with only what the test itself uses (X server, D-Bus, the WebDriver);
# everything the app needs must come from the .deb's dependencies.
root_create xvfb,xauth,dbus,webkit2gtk-driver,ca-certificates
stage "apt installs the .deb with its dependencies"
cp "$DEB" "$ROOTFS/tmp/ferry.deb"
root_mount
$SUDO chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq /tmp/ferry.deb >"$ROOTFS/tmp/apt.log" 2>&1 ||
  { cat "$ROOTFS/tmp/apt.log" >&2; echo "test-package: apt could not install $DEB in a clean Debian 12" >&2; exit 1; }
echo "apt pulled in $(grep -c '^Setting up ' "$ROOTFS/tmp/apt.log") packages"
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
echo "Requires: $(rpm -qp --requires "$RPM" 2>/dev/null | grep -v '^rpmlib(' | sort -u | tr '\n' ' ')"
# What can be checked without an RPM distribution's mirror: each soname Require is spelled the way
# rpm's own dependency generator (elfdeps, which builds every RPM distribution's Provides) spells
# that library's Provides; the remaining Requires are package names, listed as unproven; and rpm
# itself, installing into an empty root, finds nothing but those Requires missing (no rpmlib()
# feature this rpm lacks).
elfdeps=/usr/lib/rpm/elfdeps
[ -x "$elfdeps" ] || { echo "test-package: $elfdeps is missing (Debian's rpm package ships it)" >&2; exit 1; }
unproven=()
while read -r req; do
  case "$req" in
    rpmlib\(*) ;;
    *.so*'()(64bit)')
      so=${req%'()(64bit)'}
      # (no early exit in these pipes: under pipefail a closed pipe would fail them)
      lib=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ && !n++ {print $NF}')
      [ -n "$lib" ] || { echo "test-package: no library $so on this machine to check the Require '$req' against" >&2; exit 1; }
      provides=$("$elfdeps" --provides "$lib")
      grep -xF "$req" <<<"$provides" >/dev/null ||
        { echo "test-package: the .rpm requires '$req', but rpm's elfdeps gives $lib the Provides: $(tr '\n' ' ' <<<"$provides")" >&2; exit 1; } ;;
    *) unproven+=("$req") ;;
  esac
done < <(rpm -qp --requires "$RPM" 2>/dev/null | sort -u)
echo "rpm: every soname Require matches rpm's elfdeps Provides; by package name, unproven without an RPM mirror: ${unproven[*]:-none}"
empty=$(mktemp -d)
unresolved=$(rpm --test -i --root "$empty" "$RPM" 2>&1 | sed -n 's/^\t\(.*\) is needed by .*/\1/p' | sort -u || true)
rm -rf "$empty"
expected=$(rpm -qp --requires "$RPM" 2>/dev/null | grep -v '^rpmlib(' | sort -u)
[ "$unresolved" = "$expected" ] ||
  { echo "test-package: rpm --test into an empty root reports other missing dependencies than the Requires:" >&2; diff <(echo "$expected") <(echo "$unresolved") >&2; exit 1; }
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
root_driver
python3 scripts/lib/wd-installed-app.py "$PORT" "$APP_BIN" "$VERSION" || { cat "$ROOTFS/tmp/driver.log" >&2; exit 1; }
stage "passed"
