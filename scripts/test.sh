#!/usr/bin/env bash
# The one command that sets up the machine and runs every Ferry test: engine unit and
# integration tests against real registries, the keyring tests against the real stores, the
# UI tests and the desktop end-to-end suite. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
start=$(date +%s)

./scripts/setup.sh

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings

echo "== engine and CLI tests (real docker-registry on loopback)"
cargo test --no-fail-fast

for extra in scripts/test-keyring.sh scripts/test-ui.sh scripts/test-desktop-e2e.sh; do
  if [ -x "$extra" ]; then
    echo "== $extra"
    "$extra"
  fi
done

echo "== all tests passed in $(( $(date +%s) - start ))s"
