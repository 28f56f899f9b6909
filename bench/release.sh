#!/usr/bin/env bash
# Release planning benchmark (no network): graph parse + selection on the real stable-4.13 graph
# (98 nodes, full and shortest path) and the expansion of the real 4.12.0 image-references
# (183 components). Peak RSS from /usr/bin/time -v. Usage: bench/release.sh [fixtures-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
FX="${1:-${FERRY_FIXTURES:-../shared/fixtures}}"
[ -d "$FX" ] || { echo "fixtures not found at $FX (pass the path or set FERRY_FIXTURES)" >&2; exit 2; }
cargo build --release -q -p ferry-release --example release_plan_bench
BIN=target/release/examples/release_plan_bench
/usr/bin/time -v "$BIN" "$FX" 50 2> /tmp/ferry-release-bench.time
grep -E "Maximum resident set size|Elapsed \(wall clock\)" /tmp/ferry-release-bench.time
