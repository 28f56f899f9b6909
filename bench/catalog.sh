#!/usr/bin/env bash
# Catalog benchmark: load + filter the community-operators v4.17 FBC (heads only; all packages
# full), then a generated catalog 10x that size. Prints wall times and peak RSS per run.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${FERRY_FIXTURES:-../shared/fixtures}/fbc/community-operators-prod/catalogs/v4.17"
cargo build --release -p ferry-catalog --example catalog_bench
BIN=target/release/examples/catalog_bench
echo "== community v4.17"
"$BIN" "$DIR"
echo "== generated, 10x"
"$BIN" --generate 10 "$DIR"
