#!/usr/bin/env bash
# Benchmark: the removable-media round trip (mirror-to-disk, then disk-to-mirror) with ferry against
# skopeo on the same generated data set, in the same run. Not a test: it prints figures and fails only
# when a copy fails or a manifest digest in a target differs from the source.
#
#   ferry        ferry mirror --config isc.yaml file://OUT         (parts split at SPLIT_MIB)
#                ferry mirror --from OUT docker://T/mirror
#   skopeo dir   skopeo sync --dest dir  → tar | split -b SPLIT_MIB → cat | tar x → skopeo sync --src dir
#   skopeo oci   skopeo copy --all → one shared oci: layout → tar | split → cat | tar x → skopeo copy --all
#
# Environment: BIG_MIB (default 1024), SPLIT_MIB (default 1024), FERRY_BIN, BENCH_ENV_BIN (the
# data-set generator; built when unset), BENCH_DIR (where the work folder and the registries'
# storage go, default /tmp; /dev/shm puts every tool on the same tmpfs when the disk is short),
# KEEP=1. Each tool's intermediate copies are deleted once its round trip is timed and checked,
# so the run needs about the data set times (registries + 2), not times 11.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIG_MIB=${BIG_MIB:-1024}
SPLIT_MIB=${SPLIT_MIB:-1024}

for c in skopeo docker-registry jq curl bc; do
  command -v "$c" >/dev/null || { echo "bench: $c missing (bench/run.sh installs the tools)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing" >&2; exit 1; }

echo "== building (release)"
BIN_DIR="$ROOT/target/release"
if [ -n "${BENCH_ENV_BIN:-}" ]; then BENCH_ENV=$BENCH_ENV_BIN; else
  cargo build --release -q -p ferry-copy --example bench_env; BENCH_ENV="$BIN_DIR/examples/bench_env"; fi
if [ -n "${FERRY_BIN:-}" ]; then FERRY=$FERRY_BIN; else cargo build --release -q -p ferry-cli; FERRY="$BIN_DIR/ferry"; fi

BENCH_DIR=${BENCH_DIR:-/tmp}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
WORK=$(mktemp -d "$BENCH_DIR/ferry-disk-bench.XXXXXX")
ENV_PID=""
cleanup() {
  touch "$WORK/stop" 2>/dev/null || true
  if [ -n "$ENV_PID" ]; then wait "$ENV_PID" 2>/dev/null || true; fi
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

echo "== starting registries and pushing the data set (big layer ${BIG_MIB} MiB)"
TMPDIR="$BENCH_DIR" "$BENCH_ENV" --workdir "$WORK" --big-mib "$BIG_MIB" --targets 3 &
ENV_PID=$!
for _ in $(seq 1 1800); do
  [ -f "$WORK/ready" ] && break
  kill -0 "$ENV_PID" 2>/dev/null || { echo "bench: data set generator failed" >&2; exit 1; }
  sleep 1
done
# shellcheck disable=SC1091
. "$WORK/env" # SRC, TARGETS, DATASET_BYTES, IMAGES (file: repo tag digest)
read -r -a T <<<"$TARGETS"
n_images=$(wc -l <"$IMAGES")
echo "source $SRC: $n_images images, $(numfmt --to=iec-i --suffix=B "$DATASET_BYTES") of unique blobs"

ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
digest_of() {
  curl -fsS -I -H "Accept: $ACCEPT" "http://$1/v2/$2/manifests/$3" 2>/dev/null |
    tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}' | grep . || echo missing
}
verify_target() { # tool host -> count of mismatches
  local bad=0
  while read -r repo tag digest; do
    got=$(digest_of "$2" "mirror/$repo" "$tag")
    if [ "$got" != "$digest" ]; then
      echo "  $1: $2/mirror/$repo:$tag has $got, source has $digest" >&2
      bad=$((bad + 1))
    fi
  done <"$IMAGES"
  echo "$bad"
}
STEPS="$WORK/steps.tsv"
: >"$STEPS"
step() { # tool step cmd... : wall seconds and peak RSS of one step
  local tool=$1 name=$2; shift 2
  local tf="$WORK/$tool.$name.time" t0 t1
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$tf" "$@" >"$WORK/$tool.$name.log" 2>&1 || {
    echo "bench: $tool $name failed:" >&2; tail -30 "$WORK/$tool.$name.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  local wall rss
  wall=$(echo "$t1 - $t0" | bc -l)
  rss=$(awk -F': ' '/Maximum resident set size/{printf "%.1f", $2/1024}' "$tf")
  cpu=$(awk -F': ' '/User time|System time/{s+=$2} END{printf "%.2f", s}' "$tf")
  printf '%s\t%s\t%.2f\t%s\n' "$tool" "$name" "$wall" "$rss" >>"$STEPS"
  printf '   %-10s %-14s %8.2fs  cpu %7.2fs  peak RSS %7.1f MiB\n' "$tool" "$name" "$wall" "$cpu" "$rss"
}
tar_split() { (cd "$1" && tar cf - .) | split -b "${SPLIT_MIB}M" -d -a 6 - "$2/part_"; }
untar_parts() { mkdir -p "$2" && cat "$1"/part_* | tar xf - -C "$2"; }

# ferry
{
  echo "kind: ImageSetConfiguration"
  echo "apiVersion: mirror.openshift.io/v1alpha2"
  echo "archiveSize: $(( (SPLIT_MIB + 1023) / 1024 ))"
  echo "storageConfig:"
  echo "  local:"
  echo "    path: $WORK/ferry-meta"
  echo "mirror:"
  echo "  additionalImages:"
  while read -r repo tag _; do echo "  - name: $SRC/$repo:$tag"; done <"$IMAGES"
} >"$WORK/isc.yaml"
echo "== ferry"
step ferry m2d bash -c "cd '$WORK' && '$FERRY' mirror --config '$WORK/isc.yaml' 'file://$WORK/ferry-out' --source-use-http"
step ferry d2m bash -c "cd '$WORK' && '$FERRY' mirror --from '$WORK/ferry-out' 'docker://${T[0]}/mirror' --dest-use-http --dir '$WORK/ferry-ws'"
f_bad=$(verify_target ferry "${T[0]}")
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK/ferry-out"

# skopeo dir: + tar/split
{
  echo "$SRC:"
  echo "  tls-verify: false"
  echo "  images:"
  while read -r repo tag _; do echo "    $repo: [\"$tag\"]"; done <"$IMAGES"
} >"$WORK/sync.yaml"
echo "== skopeo dir: + tar/split"
mkdir -p "$WORK/sdir" "$WORK/sdir-media" "$WORK/sdir-in"
step skopeo-dir m2d skopeo sync --all --src yaml --dest dir "$WORK/sync.yaml" "$WORK/sdir"
step skopeo-dir pack bash -c "$(declare -f tar_split); tar_split '$WORK/sdir' '$WORK/sdir-media'"
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK/sdir"
step skopeo-dir unpack bash -c "$(declare -f untar_parts); untar_parts '$WORK/sdir-media' '$WORK/sdir-in'"
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK/sdir-media"
# `sync --src dir` names each destination after the path below the given directory's parent, so
# sync every top-level folder (the source repositories' first path component) on its own.
dir_in() { for d in "$WORK"/sdir-in/*/; do skopeo sync --all --src dir --dest docker --dest-tls-verify=false "${d%/}" "$T1/mirror" || return 1; done; }
export WORK T1=${T[1]}
step skopeo-dir d2m bash -c "$(declare -f dir_in); dir_in"
d_bad=$(verify_target skopeo-dir "${T[1]}")
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK/sdir-in"

# skopeo oci: layout + tar/split
echo "== skopeo oci: layout + tar/split"
mkdir -p "$WORK/soci-media" "$WORK/soci-in"
oci_out() { while read -r repo tag _; do skopeo copy -q --all --src-tls-verify=false "docker://$SRC/$repo:$tag" "oci:$WORK/soci:${repo//\//_}_$tag" || return 1; done <"$IMAGES"; }
oci_in() { while read -r repo tag _; do skopeo copy -q --all --dest-tls-verify=false "oci:$WORK/soci-in:${repo//\//_}_$tag" "docker://${T[2]}/mirror/$repo:$tag" || return 1; done <"$IMAGES"; }
export -f oci_out oci_in
export WORK SRC IMAGES
export T2=${T[2]}
step skopeo-oci m2d bash -c "$(declare -f oci_out); oci_out"
step skopeo-oci pack bash -c "$(declare -f tar_split); tar_split '$WORK/soci' '$WORK/soci-media'"
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK/soci"
step skopeo-oci unpack bash -c "$(declare -f untar_parts); untar_parts '$WORK/soci-media' '$WORK/soci-in'"
[ "${KEEP:-0}" = 1 ] || rm -rf "$WORK/soci-media"
step skopeo-oci d2m bash -c "T=( '' '' '${T[2]}' ); $(declare -f oci_in); oci_in"

echo
o_bad=$(verify_target skopeo-oci "${T[2]}")
mib=$(echo "$DATASET_BYTES / 1048576" | bc -l)
total() { awk -F'\t' -v t="$1" '$1==t{s+=$3} END{printf "%.2f", s}' "$STEPS"; }
peak() { awk -F'\t' -v t="$1" '$1==t && $4>m{m=$4} END{printf "%.1f", m}' "$STEPS"; }
echo "== result ($n_images images, $(printf '%.0f' "$mib") MiB unique blobs, big layer ${BIG_MIB} MiB, split ${SPLIT_MIB} MiB)"
for t in ferry skopeo-dir skopeo-oci; do
  printf '%-10s round trip %8.2fs  %7.1f MiB/s  peak RSS %7.1f MiB\n' "$t" "$(total $t)" \
    "$(echo "$mib / $(total $t)" | bc -l)" "$(peak $t)"
done
best_skopeo=$(printf '%s\n%s\n' "$(total skopeo-dir)" "$(total skopeo-oci)" | sort -g | head -1)
ratio=$(echo "$best_skopeo / $(total ferry)" | bc -l)
printf 'round trip speed-up vs skopeo fastest path: %.2fx (goal >= 2x): %s\n' "$ratio" \
  "$( (($(echo "$ratio >= 2" | bc -l))) && echo met || echo NOT met)"
printf 'ferry peak RSS %.1f MiB (goal < 100 MiB): %s\n' "$(peak ferry)" \
  "$( (($(echo "$(peak ferry) < 100" | bc -l))) && echo met || echo NOT met)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (at the start: $LOAD0)"
echo "digest mismatches: ferry $f_bad, skopeo dir $d_bad, skopeo oci $o_bad"
echo "(skopeo's oci: layout converts Docker v2s2 images to OCI, so those digests change; skopeo sync --src dir"
echo " names target repositories differently from the source paths, so its images are not found under mirror/<repo>:"
echo " its timing still covers pushing every blob. Only ferry's digests decide the exit status.)"
[ "$f_bad" -eq 0 ] || exit 1
