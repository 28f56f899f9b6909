#!/usr/bin/env bash
# The desktop end-to-end suite: builds the UI and the app (with the bundled UI), starts two real
# docker-registry instances on loopback ports chosen now, seeds the first with a small real image,
# and drives the built app through tauri-driver + WebKitWebDriver under
# `xvfb-run -a dbus-run-session`. Saves a screenshot of each screen to docs/screenshots/.
# Idempotent: installs what is missing (apt, tauri-driver, npm packages).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
need=()
for p in webkit2gtk-driver xvfb xauth dbus docker-registry skopeo python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 "${need[@]}"
fi
export PATH="$HOME/.cargo/bin:$PATH"
command -v tauri-driver >/dev/null 2>&1 || cargo install tauri-driver --locked
if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund)
fi

echo "== desktop e2e: build the UI and the app"
(cd ui && npm run build --silent)
cargo build -p ferry-desktop --features custom-protocol
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
APP="$TARGET_DIR/debug/ferry-desktop"

WORK=$(mktemp -d /tmp/ferry-desktop-e2e.XXXXXX)
PIDS=()
cleanup() {
  local status=$? pid leaked
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Every test stops what it starts: anything still running from this run's folder is a leak
  # (the registries' command lines name their config under $WORK) and fails the suite.
  leaked=$(pgrep -f -- "$WORK/" || true)
  if [ -n "$leaked" ]; then
    echo "error: processes started by this suite still run after cleanup: $leaked" >&2
    kill $leaked 2>/dev/null || true
    status=1
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# Runs in this shell (never inside $(...)), so the PID reaches PIDS and cleanup stops it;
# the address is returned in REGISTRY_ADDR.
start_registry() { # name -> sets REGISTRY_ADDR=host:port
  local name=$1 port
  port=$(free_port)
  mkdir -p "$WORK/$name/data"
  cat >"$WORK/$name/config.yml" <<YML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $WORK/$name/data }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$port }
YML
  /usr/bin/docker-registry serve "$WORK/$name/config.yml" >"$WORK/$name/log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null || { cat "$WORK/$name/log"; echo "registry $name did not start" >&2; exit 1; }
  REGISTRY_ADDR="127.0.0.1:$port"
}
start_registry src; SRC=$REGISTRY_ADDR
start_registry dst; DST=$REGISTRY_ADDR
echo "== registries: source $SRC, destination $DST"

python3 ui/e2e/make-oci-image.py "$WORK/oci" 1 >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$WORK/oci:1" "docker://$SRC/e2e/app:1"

# The app must not reach the user's real config or keyring.
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.local/share"
mkdir -p "$HOME"
export FERRY_APP="$APP" SRC_REGISTRY="$SRC" DST_REGISTRY="$DST" E2E_IMAGE="e2e/app:1"
export WORK SCREENSHOTS="$ROOT/docs/screenshots"
echo "== desktop e2e: driving the app (tauri-driver + WebKitWebDriver under Xvfb)"
xvfb-run -a -s "-screen 0 1400x900x24" dbus-run-session -- node ui/e2e/desktop.mjs
