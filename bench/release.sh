#!/usr/bin/env bash
# Release benchmark (issue 9). Not a test: it prints figures and fails only when a step fails.
#
#  1. Planning offline on the real fixtures: the stable-4.13 graph (98 nodes, `full` and a
#     shortest path) and the expansion of the real 4.12.0 image-references (183 components).
#  2. Planning a generated 185-component release through the network path (loopback registry,
#     update graph and signature store): `ferry mirror --dry-run file://` reads the graph, the
#     release image's layers, every component manifest and the signature.
#  3. Mirror-to-disk of that release set with ferry, against skopeo copying the same image list
#     (release image + components, `skopeo copy --all` into one shared oci: layout, which dedups
#     blobs as ferry's archive does). Ratio reported.
#
# Peak RSS from /usr/bin/time -v. Environment: COMPONENTS (185), LAYER_KIB (1024), FERRY_BIN, KEEP=1.
# Usage: bench/release.sh [fixtures-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
FX="${1:-${FERRY_FIXTURES:-../shared/fixtures}}"
COMPONENTS=${COMPONENTS:-185}
LAYER_KIB=${LAYER_KIB:-1024}
for c in skopeo docker-registry bc; do
  command -v "$c" >/dev/null || { echo "bench: $c missing (bench/run.sh installs the tools)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing" >&2; exit 1; }

echo "== building (release profile)"
cargo build --release -q -p ferry-release --example release_plan_bench --example release_bench_env
BIN_DIR="$ROOT/target/release"
if [ -n "${FERRY_BIN:-}" ]; then FERRY=$FERRY_BIN; else cargo build --release -q -p ferry-cli; FERRY="$BIN_DIR/ferry"; fi

WORK=$(mktemp -d /tmp/ferry-release-bench.XXXXXX)
ENV_PID=""
cleanup() {
  touch "$WORK/stop" 2>/dev/null || true
  if [ -n "$ENV_PID" ]; then wait "$ENV_PID" 2>/dev/null || true; fi
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

timed() { # name cmd... : wall seconds and peak RSS
  local name=$1; shift
  local tf="$WORK/$name.time" t0 t1
  sync
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$tf" "$@" >"$WORK/$name.log" 2>&1 || {
    echo "bench: $name failed:" >&2; tail -30 "$WORK/$name.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  local wall rss
  wall=$(echo "$t1 - $t0" | bc -l)
  rss=$(awk -F': ' '/Maximum resident set size/{printf "%.1f", $2/1024}' "$tf")
  printf '%s\t%.2f\t%s\n' "$name" "$wall" "$rss" >>"$WORK/steps.tsv"
  printf '   %-22s %8.2fs  peak RSS %7.1f MiB\n' "$name" "$wall" "$rss"
}
: >"$WORK/steps.tsv"

echo "== 1. planning offline (real fixtures)"
if [ -d "$FX" ]; then
  timed plan-offline "$BIN_DIR/examples/release_plan_bench" "$FX" 50
  sed 's/^/   /' "$WORK/plan-offline.log"
else
  echo "   fixtures not found at $FX (pass the path or set FERRY_FIXTURES): skipped"
fi

echo "== generating a release with $COMPONENTS components of $LAYER_KIB KiB"
"$BIN_DIR/examples/release_bench_env" --workdir "$WORK/env-dir" --components "$COMPONENTS" --layer-kib "$LAYER_KIB" &
ENV_PID=$!
for _ in $(seq 1 1800); do
  [ -f "$WORK/env-dir/ready" ] && break
  kill -0 "$ENV_PID" 2>/dev/null || { echo "bench: release generator failed" >&2; exit 1; }
  sleep 1
done
# shellcheck disable=SC1091
. "$WORK/env-dir/env" # SRC GRAPH_URL SIG_URL PK RELEASE
export UPDATE_URL_OVERRIDE=$GRAPH_URL OCP_SIGNATURE_URL=$SIG_URL OCP_SIGNATURE_VERIFICATION_PK=$PK
n_images=$(wc -l <"$WORK/env-dir/images.txt")
cat >"$WORK/isc.yaml" <<EOF
kind: ImageSetConfiguration
apiVersion: mirror.openshift.io/v1alpha2
mirror:
  platform:
    channels:
    - name: stable-4.12
EOF

echo "== 2. planning through the network path ($n_images images, loopback)"
timed plan-network bash -c "cd '$WORK' && '$FERRY' mirror --config '$WORK/isc.yaml' 'file://$WORK/dry' --dry-run --source-use-http"
grep -E "images|blobs|bytes" "$WORK/plan-network.log" | tail -3 | sed 's/^/   /' || true

echo "== 3. mirror-to-disk: ferry vs skopeo ($n_images images)"
timed ferry-m2d bash -c "cd '$WORK' && '$FERRY' mirror --config '$WORK/isc.yaml' 'file://$WORK/ferry-out' --source-use-http"
copy_all() {
  while read -r ref; do
    skopeo copy -q --all --src-tls-verify=false "docker://$SRC/$ref" "oci:$WORK/skopeo-oci:${ref##*@sha256:}" || return 1
  done <"$WORK/env-dir/images.txt"
}
export -f copy_all
export WORK SRC
timed skopeo-oci bash -c copy_all

ferry_bytes=$(du -sb "$WORK/ferry-out" | cut -f1)
skopeo_bytes=$(du -sb "$WORK/skopeo-oci" | cut -f1)
f=$(awk -F'\t' '$1=="ferry-m2d"{print $2}' "$WORK/steps.tsv")
s=$(awk -F'\t' '$1=="skopeo-oci"{print $2}' "$WORK/steps.tsv")
echo "== figures"
printf '   ferry m2d   %8.2fs  %s on disk\n' "$f" "$(numfmt --to=iec-i --suffix=B "$ferry_bytes")"
printf '   skopeo oci  %8.2fs  %s on disk\n' "$s" "$(numfmt --to=iec-i --suffix=B "$skopeo_bytes")"
printf '   ratio skopeo/ferry: %.2fx\n' "$(echo "$s / $f" | bc -l)"
