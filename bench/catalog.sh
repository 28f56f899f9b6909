#!/usr/bin/env bash
# Catalog benchmark: load + filter the real community-operators v4.17 FBC (heads only; every
# package full, written as index.json), then a generated catalog 10x that size; each in its own
# process, timed with /usr/bin/time -v (wall time, peak RSS), ferry's example against a peer
# (bench/catalog_peer.py: PyYAML's libyaml loader, a simpler filter). Not a test: it prints
# figures. Goal (issue 10): community v4.17 under 2 s and under 300 MiB peak RSS.
#
#   bench/catalog.sh                       # fixtures beside the repository (shared/fixtures)
#   FERRY_FIXTURES=/path/to/fixtures bench/catalog.sh
#   COPIES=20 bench/catalog.sh             # another size for the generated catalog
#   PEER=0 bench/catalog.sh                # ferry only
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
COPIES=${COPIES:-10}
PEER=${PEER:-1}

# The fixtures: $FERRY_FIXTURES, else shared/fixtures in the repository's folder or one above
# it (as ferry-testkit looks for them).
FIX="${FERRY_FIXTURES:-}"
if [ -z "$FIX" ]; then
  d="$ROOT"
  while [ "$d" != "/" ]; do
    if [ -d "$d/shared/fixtures" ]; then FIX="$d/shared/fixtures"; break; fi
    d=$(dirname "$d")
  done
fi
if [ -z "$FIX" ]; then
  echo "bench/catalog.sh: no shared/fixtures folder in $ROOT or above it;" >&2
  echo "  set FERRY_FIXTURES to the shared fixtures folder (it holds fbc/community-operators-prod/)" >&2
  exit 2
fi
DIR="$FIX/fbc/community-operators-prod/catalogs/v4.17"
if [ ! -d "$DIR" ]; then
  echo "bench/catalog.sh: the community v4.17 catalog is not at $DIR;" >&2
  echo "  set FERRY_FIXTURES to the shared fixtures folder (it holds fbc/community-operators-prod/)" >&2
  exit 2
fi

need_pkg() { # path package
  [ -x "$1" ] && return 0
  echo "bench: installing $2"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq -o DPkg::Lock::Timeout=900
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=900 "$2"
}
need_pkg /usr/bin/time time
if [ "$PEER" = 1 ] && ! python3 -c 'import yaml' 2>/dev/null; then
  need_pkg /usr/lib/python3/dist-packages/yaml/__init__.py python3-yaml
fi

echo "== building (release)"
cargo build --release -q -p ferry-catalog --example catalog_bench
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/catalog_bench"
echo "machine: $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"

# run LABEL CMD...: the command's own figures, then wall time and peak RSS of the process.
run() {
  local label=$1; shift
  local log; log=$(mktemp)
  echo "== $label"
  /usr/bin/time -v "$@" 2>"$log"
  awk -F': ' '/Elapsed \(wall clock\)/ {w=$2} /Maximum resident set size/ {printf "process: wall %s, peak RSS %.0f MiB\n", w, $2/1024}' "$log"
  rm -f "$log"
}

run "ferry, community v4.17" "$BIN" "$DIR"
[ "$PEER" = 1 ] && run "peer (PyYAML libyaml), community v4.17" python3 bench/catalog_peer.py "$DIR"
run "ferry, generated ${COPIES}x" "$BIN" --generate "$COPIES" "$DIR"
[ "$PEER" = 1 ] && run "peer (PyYAML libyaml), generated ${COPIES}x" python3 bench/catalog_peer.py --generate "$COPIES" "$DIR"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
