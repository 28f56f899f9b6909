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
for p in webkit2gtk-driver xvfb xauth dbus docker-registry skopeo python3 apache2-utils openssl gnome-keyring; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 "${need[@]}"
fi
export PATH="$HOME/.cargo/bin:$PATH"
command -v tauri-driver >/dev/null 2>&1 || cargo install tauri-driver --locked
. scripts/lib/cargo-set.sh

echo "== desktop e2e: build the UI and the app"
build_ui
# --all-targets with the test run's selection: after scripts/test.sh's nextest run this compiles
# nothing (a narrower `-p ferry-desktop` build resolved other features and rebuilt ~480 units).
cargo build "${CARGO_SET[@]}" --all-targets
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

# A mirror registry as customers run it: TLS with a certificate from a CA made now (not trusted
# by the system) and htpasswd logins, for the login tests of steps/15-credentials.mjs.
start_tls_registry() { # -> sets MIRROR_TLS_ADDR, MIRROR_TLS_CA
  local d="$WORK/tls" port
  port=$(free_port)
  mkdir -p "$d/data"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Ferry e2e test CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/ext.cnf" -out "$d/server.crt" 2>/dev/null
  htpasswd -Bbn mirroruser Corr3ct-Horse >"$d/htpasswd"
  cat >"$d/config.yml" <<YML
version: 0.1
log: { level: warn }
storage: { filesystem: { rootdirectory: $d/data } }
http: { addr: 127.0.0.1:$port, tls: { certificate: $d/server.crt, key: $d/server.key } }
auth: { htpasswd: { realm: ferry-e2e, path: $d/htpasswd } }
YML
  /usr/bin/docker-registry serve "$d/config.yml" >"$d/log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$d/ca.crt" "https://127.0.0.1:$port/v2/")" = 401 ] && break
    sleep 0.1
  done
  [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$d/ca.crt" "https://127.0.0.1:$port/v2/")" = 401 ] \
    || { cat "$d/log"; echo "the TLS registry did not start" >&2; exit 1; }
  MIRROR_TLS_ADDR="127.0.0.1:$port" MIRROR_TLS_CA="$d/ca.crt"
}
start_tls_registry
echo "== TLS + htpasswd mirror registry: $MIRROR_TLS_ADDR (CA $MIRROR_TLS_CA)"
export MIRROR_TLS_ADDR MIRROR_TLS_CA MIRROR_TLS_USER=mirroruser MIRROR_TLS_PASSWORD=Corr3ct-Horse

python3 ui/e2e/make-oci-image.py "$WORK/oci" 1 >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$WORK/oci:1" "docker://$SRC/e2e/app:1"
# An operator index image for the catalog browser steps (steps/50-catalog.mjs), built from
# oc-mirror's e2e catalog in the shared fixtures (never copied into the repository).
FIXTURES=${FERRY_FIXTURES:-$ROOT/../shared/fixtures}
FBC="$FIXTURES/fbc/oc-mirror/v1/test/e2e/artifacts/configs/index.yaml"
E2E_CATALOG=""
if [ -f "$FBC" ]; then
  python3 ui/e2e/make-catalog-image.py "$WORK/catalog-oci" v1 "$FBC" >/dev/null
  skopeo copy -q --dest-tls-verify=false "oci:$WORK/catalog-oci:v1" "docker://$SRC/e2e/catalog:v1"
  E2E_CATALOG="e2e/catalog:v1"
elif [ "${CI:-}" = "true" ]; then
  echo "fixtures not found at $FIXTURES and CI=true: the catalog steps need $FBC (set FERRY_FIXTURES)" >&2; exit 1
else
  echo "SKIPPED seeding the catalog image: no fixtures at $FIXTURES (the catalog steps report skipped)"
fi

# The update service of the release steps (steps/80-release.mjs serves the fixture graphs on
# GRAPH_PORT with node:http while they run): the app reads UPDATE_URL_OVERRIDE at each graph
# request, as oc-mirror does, and a running app's environment cannot be changed from a step.
GRAPH_PORT=$(free_port)
export GRAPH_PORT UPDATE_URL_OVERRIDE="http://127.0.0.1:$GRAPH_PORT/graph"

# The app must not reach the user's real config or keyring.
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.local/share"
mkdir -p "$HOME"
export FERRY_APP="$APP" SRC_REGISTRY="$SRC" DST_REGISTRY="$DST" E2E_IMAGE="e2e/app:1"
export E2E_CATALOG
export WORK SCREENSHOTS="$ROOT/docs/screenshots"
echo "== desktop e2e: driving the app (tauri-driver + WebKitWebDriver under Xvfb)"
xvfb-run -a -s "-screen 0 1400x900x24" dbus-run-session -- node ui/e2e/desktop.mjs
