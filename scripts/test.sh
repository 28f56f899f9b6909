#!/usr/bin/env bash
# The one command that sets up the machine and runs every Ferry test: engine unit and
# integration tests against real registries, the keyring tests against the real stores, the
# UI tests and the desktop end-to-end suite. CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
start=$(date +%s)

./scripts/setup.sh
. scripts/lib/cargo-set.sh

echo "== build the UI (the app bundles it; every cargo command below builds the app too)"
build_ui

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy "${CARGO_SET[@]}" --all-targets -- -D warnings

echo "== engine and CLI tests (real docker-registry on loopback)"
# cargo-nextest runs every test in a process of its own: tests that set process-wide state
# (config folders, the environment) or measure this process's I/O cannot disturb each other.
# Doc tests are not run by nextest, so cargo runs them after.
cargo nextest run "${CARGO_SET[@]}" --no-fail-fast --failure-output final
cargo test "${CARGO_SET[@]}" --doc

# Every suite runs, always: a missing or non-executable script is a failure, never a silent skip
# (a CI run must not pass without the keyring, UI and desktop tests).
for extra in scripts/test-keyring.sh scripts/test-ui.sh scripts/test-desktop-e2e.sh; do
  if [ ! -f "$extra" ]; then
    echo "error: $extra is missing; every suite must run (restore it from git)" >&2
    exit 1
  fi
  echo "== $extra ($(( $(date +%s) - start ))s so far)"
  bash "$extra"
done

# The install test of issue 12: the test run's own binaries (nothing compiled again) bundled as
# .deb/.rpm, the .deb installed with apt into a clean Debian 12 root and started under Xvfb. The
# release build (scripts/package.sh with no arguments) is the documented packaging command; a cold
# release build of both programs takes over 20 minutes on 2 cores, more than this run can carry.
echo "== packages: bundle this run's binaries, install the .deb on a clean Debian 12 ($(( $(date +%s) - start ))s so far)"
FERRY_PACKAGE_PROFILE=debug ./scripts/package.sh
./scripts/test-package.sh

echo "== all tests passed in $(( $(date +%s) - start ))s"
