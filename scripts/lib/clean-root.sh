# Sourced by test-package.sh and test-appimage.sh: a clean Debian 12 root in memory, in which the
# installed Ferry is started under Xvfb and driven through tauri-driver.
#   root_create PACKAGES   tmpfs at $ROOTFS, mmdebstrap bookworm with only PACKAGES (comma list)
#   root_mount             /proc, /dev (a slave copy), /sys and resolv.conf inside it
#   inroot CMD...          CMD in the root with a clean environment
#   root_driver            tauri-driver under Xvfb and D-Bus in the root; sets PORT, DRIVER_PID
# root_cleanup runs on EXIT (the caller's trap): stops the driver's session, unmounts, removes.
# Needs root (chroot, mounts) and Debian's mirror. Uses stage() and SUDO from the caller.

ROOTFS=$(mktemp -d /tmp/ferry-pkg-root.XXXXXX)
DRIVER_PID=""
root_cleanup() {
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

root_create() {
  # The root lives in memory (about 1 GiB with WebKitGTK): no disk space taken, nothing left
  # behind on disk by an interrupted run, and unpacking is faster. FERRY_PKG_ROOT_SIZE caps it.
  $SUDO mount -t tmpfs -o "size=${FERRY_PKG_ROOT_SIZE:-3g},mode=755" ferry-pkg-root "$ROOTFS"
  stage "mmdebstrap bookworm ($1)"
  # The package lists stay (--skip=cleanup/apt/lists): apt in the root can resolve a .deb's Depends.
  $SUDO mmdebstrap --quiet --variant=apt --skip=cleanup/apt/lists --include="$1" \
    bookworm "$ROOTFS" http://deb.debian.org/debian
}

root_mount() {
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  $SUDO mount -t proc proc "$ROOTFS/proc"
  $SUDO mount --rbind /dev "$ROOTFS/dev"
  # A slave copy: unmounting it later never propagates back to the host's /dev.
  $SUDO mount --make-rslave "$ROOTFS/dev"
  $SUDO mount -t sysfs sys "$ROOTFS/sys"
}

inroot() { $SUDO chroot "$ROOTFS" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root "$@"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

root_driver() {
  cp "$(command -v tauri-driver)" "$ROOTFS/usr/local/bin/tauri-driver"
  PORT=$(free_port)
  local nport
  nport=$(free_port)
  setsid $SUDO chroot "$ROOTFS" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root xvfb-run -a -s "-screen 0 1280x800x24" dbus-run-session -- \
    tauri-driver --port "$PORT" --native-port "$nport" >"$ROOTFS/tmp/driver.log" 2>&1 &
  DRIVER_PID=$!
}
