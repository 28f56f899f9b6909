#!/usr/bin/env bash
# Builds Ferry's AppImage from parts this machine has, without linuxdeploy or appimagetool
# (Tauri's AppImage bundler downloads both, and the AppImage runtime, from GitHub):
#   - the AppDir: the .deb's files (both programs, the menu entry, the icons), AppRun, WebKitGTK's
#     helper programs, GDK-Pixbuf loaders, GIO modules, the GSettings schemas, the tray library
#     (loaded at run time), and every library all of those link, read with ldd, except glibc,
#     libstdc++/libgcc_s and the graphics stack (libGL/libEGL/libgbm/libdrm), which must be the
#     machine's own (the AppImage project's exclude list leaves those out for the same reason);
#   - libwebkit2gtk's helper path rewritten to one relative to AppRun's working folder (what
#     Tauri's GTK plugin does, narrowed to that one path);
#   - a gzip squashfs of it (Debian's mksquashfs) appended to our runtime
#     (packaging/appimage-runtime, statically linked), marked with the type-2 magic AI\x02.
# Usage: packaging/appimage/build.sh DEB RUNTIME OUT.AppImage
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 DEB RUNTIME OUT.AppImage" >&2; exit 2; }
DEB=$1 RUNTIME=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
for t in mksquashfs dpkg-deb ldd python3; do
  command -v "$t" >/dev/null || { echo "appimage: $t is missing (apt-get install squashfs-tools)" >&2; exit 1; }
done
ARCH_LIB=/usr/lib/x86_64-linux-gnu
WK=$ARCH_LIB/webkit2gtk-4.1
[ -x "$WK/WebKitWebProcess" ] || { echo "appimage: $WK/WebKitWebProcess is missing (apt-get install libwebkit2gtk-4.1-0)" >&2; exit 1; }

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
APPDIR=$WORK/Ferry.AppDir
dpkg-deb -x "$DEB" "$APPDIR"
[ -x "$APPDIR/usr/bin/ferry-desktop" ] && [ -x "$APPDIR/usr/bin/ferry" ] ||
  { echo "appimage: $DEB lacks usr/bin/ferry-desktop or usr/bin/ferry" >&2; exit 1; }
install -m 755 "$HERE/AppRun" "$APPDIR/AppRun"
desktop=$(ls "$APPDIR"/usr/share/applications/*.desktop | head -1)
cp "$desktop" "$APPDIR/"
icon=$(sed -n 's/^Icon=//p' "$desktop")
big=$(ls -S "$APPDIR"/usr/share/icons/hicolor/*/apps/"$icon".png | head -1)
cp "$big" "$APPDIR/$icon.png"
ln -s "$icon.png" "$APPDIR/.DirIcon"

L=$APPDIR$ARCH_LIB
mkdir -p "$L/webkit2gtk-4.1" "$L/gio/modules" "$L/gtk-3.0/3.0.0" "$APPDIR/usr/share/glib-2.0/schemas"
# WebKit's helper processes and injected bundle (not MiniBrowser, a demo browser).
for f in WebKitWebProcess WebKitNetworkProcess WebKitGPUProcess injected-bundle; do
  [ -e "$WK/$f" ] && cp -a "$WK/$f" "$L/webkit2gtk-4.1/"
done
cp -a "$ARCH_LIB/gdk-pixbuf-2.0" "$L/"
# Bare loader names: dlopen finds them through AppRun's LD_LIBRARY_PATH, wherever APPDIR is.
sed -i "s|\"$ARCH_LIB/gdk-pixbuf-2.0/2.10.0/loaders/|\"|" "$L/gdk-pixbuf-2.0/2.10.0/loaders.cache"
for m in libgiognutls.so libdconfsettings.so; do
  [ -e "$ARCH_LIB/gio/modules/$m" ] && cp "$ARCH_LIB/gio/modules/$m" "$L/gio/modules/"
done
: >"$L/gtk-3.0/3.0.0/immodules.cache"
cp /usr/share/glib-2.0/schemas/gschemas.compiled "$APPDIR/usr/share/glib-2.0/schemas/"
# GdkPixbuf picks a loader by MIME type, which GIO reads from the shared-mime-info database
# (without it GTK aborts on its first icon), and GTK's icon lookup starts at hicolor's index.
mkdir -p "$APPDIR/usr/share/mime" "$APPDIR/usr/share/icons/hicolor"
find /usr/share/mime -maxdepth 1 -type f -exec cp {} "$APPDIR/usr/share/mime/" \;
[ -f "$APPDIR/usr/share/mime/mime.cache" ] || { echo "appimage: /usr/share/mime/mime.cache is missing (apt-get install shared-mime-info)" >&2; exit 1; }
cp /usr/share/icons/hicolor/index.theme "$APPDIR/usr/share/icons/hicolor/"
# The tray icon's library is dlopen'ed by the app (no linker sees it).
cp -L "$ARCH_LIB/libayatana-appindicator3.so.1" "$L/"

# Libraries the machine must provide itself (see the header).
EXCLUDE='^(ld-linux-x86-64\.so\.2|libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libresolv\.so\.2|libutil\.so\.1|libanl\.so\.1|libnsl\.so\.1|libmvec\.so\.1|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libGL\.so\.1|libGLX\.so\.0|libEGL\.so\.1|libGLdispatch\.so\.0|libOpenGL\.so\.0|libGLESv2\.so\.2|libgbm\.so\.1|libdrm\.so\.2)$'
elfs() { find "$APPDIR" -type f -print0 | while IFS= read -r -d '' f; do
  [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && echo "$f"; done; }
copied=0
while IFS= read -r f; do
  while read -r so path; do
    [[ $so =~ $EXCLUDE ]] && continue
    [ -e "$L/$so" ] && continue
    cp -L "$path" "$L/$so"
    copied=$((copied + 1))
  done < <(ldd "$f" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}')
done < <(elfs)
missing=$(for f in $(elfs); do LD_LIBRARY_PATH=$L ldd "$f" 2>/dev/null | grep 'not found' || true; done | sort -u)
[ -z "$missing" ] || { echo "appimage: libraries not found for the AppDir: $missing" >&2; exit 1; }

# The helpers' folder, same length, relative: AppRun runs the app from $APPDIR/usr.
python3 - "$L/libwebkit2gtk-4.1.so.0" "$WK" <<'PY'
import sys
path, old = sys.argv[1], sys.argv[2].encode()
new = b"././" + old[len(b"/usr"):]
data = open(path, "rb").read()
n = data.count(old)
if n == 0:
    sys.exit(f"appimage: {path} does not name {old.decode()}: this WebKitGTK finds its helpers elsewhere")
open(path, "wb").write(data.replace(old, new))
print(f"libwebkit2gtk: {n} mention(s) of {old.decode()} made relative")
PY

mkdir -p "$(dirname "$OUT")"
mksquashfs "$APPDIR" "$WORK/app.squashfs" -root-owned -noappend -comp gzip -quiet >/dev/null
cp "$RUNTIME" "$WORK/runtime"
# The type-2 magic at offset 8 (ELF padding bytes nothing reads).
printf 'AI\002' | dd of="$WORK/runtime" bs=1 seek=8 conv=notrunc status=none
cat "$WORK/runtime" "$WORK/app.squashfs" >"$OUT.partial"
chmod 755 "$OUT.partial"
mv "$OUT.partial" "$OUT"
echo "appimage: $OUT: $copied libraries bundled, AppDir $(du -sh "$APPDIR" | cut -f1), squashfs $(du -h "$WORK/app.squashfs" | cut -f1)"
