#!/usr/bin/env bash
# Benchmark: `ferry mirror` against `skopeo sync`, registry to registry, on one generated data set
# in the same run. Not a test: it prints figures (wall time, throughput, ratio, peak RSS) and
# fails only if a copy fails or a manifest digest in a target differs from the source.
#
#   bench/run.sh                 # full set, with the 1 GiB layer
#   BIG_MIB=256 bench/run.sh     # smaller big layer for a quick look
#   ROUNDS=3 bench/run.sh        # repeat the timed part (fresh target registries each round)
#
# Environment: BIG_MIB (default 1024), ROUNDS (default 1), PARALLEL (ferry --max-per-registry, 6),
# FERRY_BIN (use this binary instead of building), KEEP=1 (keep the work dir).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIG_MIB=${BIG_MIB:-1024}
ROUNDS=${ROUNDS:-1}
PARALLEL=${PARALLEL:-6}

need_pkg() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "bench: installing $2"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq -o DPkg::Lock::Timeout=900
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=900 "$2"
}
need_pkg skopeo skopeo
need_pkg docker-registry docker-registry
need_pkg jq jq
need_pkg curl curl
[ -x /usr/bin/time ] || need_pkg /usr/bin/time time

echo "== building (release)"
cargo build --release -q -p ferry-copy --example bench_env --example bench_copy
BIN_DIR="$ROOT/target/release"
FERRY_MODE=cli
if [ -n "${FERRY_BIN:-}" ]; then
  FERRY="$FERRY_BIN"
elif cargo build --release -q -p ferry-cli 2>/dev/null && "$BIN_DIR/ferry" mirror --help >/dev/null 2>&1; then
  FERRY="$BIN_DIR/ferry"
else
  # The CLI is not buildable yet: time the engine through its small example instead.
  echo "bench: ferry CLI not available, timing crates/ferry-copy/examples/bench_copy.rs instead"
  FERRY="$BIN_DIR/examples/bench_copy"
  FERRY_MODE=example
fi

WORK=$(mktemp -d /tmp/ferry-bench.XXXXXX)
ENV_PID=""
cleanup() {
  touch "$WORK/stop" 2>/dev/null || true
  if [ -n "$ENV_PID" ]; then wait "$ENV_PID" 2>/dev/null || true; fi
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

echo "== starting registries and pushing the data set (big layer ${BIG_MIB} MiB)"
"$BIN_DIR/examples/bench_env" --workdir "$WORK" --big-mib "$BIG_MIB" --targets $((2 * ROUNDS)) &
ENV_PID=$!
for _ in $(seq 1 1800); do
  [ -f "$WORK/ready" ] && break
  kill -0 "$ENV_PID" 2>/dev/null || { echo "bench: data set generator failed" >&2; exit 1; }
  sleep 1
done
[ -f "$WORK/ready" ] || { echo "bench: data set not ready after 30 min" >&2; exit 1; }
# shellcheck disable=SC1091
. "$WORK/env"   # SRC, TARGETS (space-separated hosts), DATASET_BYTES, IMAGES (file: repo tag digest)
read -r -a TARGET_HOSTS <<<"$TARGETS"
n_images=$(wc -l <"$IMAGES")
echo "source $SRC: $n_images images, $(numfmt --to=iec-i --suffix=B "$DATASET_BYTES") of unique blobs"

ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
digest_of() { # host repo ref -> digest or "missing"
  curl -fsS -I -H "Accept: $ACCEPT" "http://$1/v2/$2/manifests/$3" 2>/dev/null |
    tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}' | grep . || echo missing
}
verify_target() { # tool host prefix [basename] -> prints mismatches, returns count
  local bad=0
  while read -r repo tag digest; do
    local got path=$repo
    # skopeo sync keeps only the last path component of the source repository.
    [ "${4:-}" = basename ] && path=${repo##*/}
    got=$(digest_of "$2" "$3$path" "$tag")
    if [ "$got" != "$digest" ]; then
      echo "  $1: $2/$3$path:$tag has $got, source has $digest" >&2
      bad=$((bad + 1))
    fi
  done <"$IMAGES"
  return $bad
}
rss_mib() { awk -F': ' '/Maximum resident set size/{printf "%.1f", $2/1024}' "$1"; }
wall_s() { awk '/^wall /{print $2}' "$1"; }

# ferry: an ImageSetConfiguration listing every image (oc-mirror v1 keeps the source path under
# the target namespace: docker://T/mirror + SRC/bench/app:v1 -> T/mirror/bench/app:v1).
{
  echo "kind: ImageSetConfiguration"
  echo "apiVersion: mirror.openshift.io/v1alpha2"
  echo "mirror:"
  echo "  additionalImages:"
  while read -r repo tag _; do echo "  - name: $SRC/$repo:$tag"; done <"$IMAGES"
} >"$WORK/isc.yaml"
# skopeo: the same list as a sync YAML source.
{
  echo "$SRC:"
  echo "  tls-verify: false"
  echo "  images:"
  while read -r repo tag _; do echo "    $repo: [\"$tag\"]"; done <"$IMAGES"
} >"$WORK/skopeo-sync.yaml"

run_ferry() { # target-host log
  if [ "$FERRY_MODE" = cli ]; then
    (cd "$WORK" && /usr/bin/time -v -o "$2.time" "$FERRY" mirror --config "$WORK/isc.yaml" \
      "docker://$1/mirror" --source-use-http --dest-use-http --max-per-registry "$PARALLEL" \
      --dir "$WORK/ferry-workspace" >"$2" 2>&1)
  else
    /usr/bin/time -v -o "$2.time" "$FERRY" --source "$SRC" --dest "$1" --prefix mirror/ \
      --images "$IMAGES" --parallel "$PARALLEL" >"$2" 2>&1
  fi
}
run_skopeo() { # target-host log
  /usr/bin/time -v -o "$2.time" skopeo sync --all --src yaml --dest docker --dest-tls-verify=false \
    "$WORK/skopeo-sync.yaml" "$1/mirror" >"$2" 2>&1
}
timed() { # log cmd... : records wall seconds with ns precision
  local log=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" || { echo "bench: $* failed; log:" >&2; tail -30 "$log" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "wall $(echo "$t1 - $t0" | bc -l)" >>"$log.time"
}

failures=0
ferry_best=""; skopeo_best=""; ferry_rss=0; skopeo_rss=0
for round in $(seq 1 "$ROUNDS"); do
  tf=${TARGET_HOSTS[$(((round - 1) * 2))]}
  ts=${TARGET_HOSTS[$(((round - 1) * 2 + 1))]}
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  echo "== round $round: ferry -> $tf"
  timed "$WORK/ferry.$round.log" run_ferry "$tf" "$WORK/ferry.$round.log"
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  echo "== round $round: skopeo sync -> $ts"
  timed "$WORK/skopeo.$round.log" run_skopeo "$ts" "$WORK/skopeo.$round.log"
  verify_target ferry "$tf" "mirror/" || failures=$((failures + $?))
  verify_target skopeo "$ts" "mirror/" basename || failures=$((failures + $?))
  fw=$(wall_s "$WORK/ferry.$round.log.time"); sw=$(wall_s "$WORK/skopeo.$round.log.time")
  fr=$(rss_mib "$WORK/ferry.$round.log.time"); sr=$(rss_mib "$WORK/skopeo.$round.log.time")
  printf '   ferry  %7.2fs  peak RSS %6.1f MiB\n   skopeo %7.2fs  peak RSS %6.1f MiB\n' "$fw" "$fr" "$sw" "$sr"
  if [ -z "$ferry_best" ] || (($(echo "$fw < $ferry_best" | bc -l))); then ferry_best=$fw; fi
  if [ -z "$skopeo_best" ] || (($(echo "$sw < $skopeo_best" | bc -l))); then skopeo_best=$sw; fi
  ferry_rss=$(echo "if ($fr > $ferry_rss) $fr else $ferry_rss" | bc -l)
  skopeo_rss=$(echo "if ($sr > $skopeo_rss) $sr else $skopeo_rss" | bc -l)
done

mib=$(echo "$DATASET_BYTES / 1048576" | bc -l)
echo
echo "== result ($n_images images, $(printf '%.0f' "$mib") MiB unique blobs, big layer ${BIG_MIB} MiB, best of $ROUNDS, ferry = $FERRY_MODE)"
printf 'ferry   %7.2fs  %7.1f MiB/s  peak RSS %6.1f MiB\n' "$ferry_best" "$(echo "$mib / $ferry_best" | bc -l)" "$ferry_rss"
printf 'skopeo  %7.2fs  %7.1f MiB/s  peak RSS %6.1f MiB\n' "$skopeo_best" "$(echo "$mib / $skopeo_best" | bc -l)" "$skopeo_rss"
ratio=$(echo "$skopeo_best / $ferry_best" | bc -l)
printf 'throughput ratio ferry/skopeo: %.2fx (goal >= 1.30x): %s\n' "$ratio" \
  "$( (($(echo "$ratio >= 1.3" | bc -l))) && echo met || echo NOT met)"
printf 'ferry peak RSS %.1f MiB (goal < 100 MiB): %s\n' "$ferry_rss" \
  "$( (($(echo "$ferry_rss < 100" | bc -l))) && echo met || echo NOT met)"
if [ "$failures" -ne 0 ]; then
  echo "bench: $failures manifest digest mismatches in the targets" >&2
  exit 1
fi
echo "every manifest digest in both targets equals the source"
