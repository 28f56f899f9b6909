#!/usr/bin/env bash
# Regenerates ui/src/bindings from crates/ferry-api/src/wire.rs (ts-rs). With --check it fails
# when the committed bindings differ (CI also runs `cargo test -p ferry-api`, whose
# `wire::tests::bindings_are_current` fails on drift).
set -euo pipefail
cd "$(dirname "$0")/.."
FERRY_UPDATE_BINDINGS=1 cargo test -q -p ferry-api --lib wire::tests::bindings_are_current
if [ "${1:-}" = "--check" ]; then
  git diff --exit-code -- ui/src/bindings || {
    echo "ui/src/bindings drifted from crates/ferry-api/src/wire.rs: commit the regenerated files" >&2
    exit 1
  }
  if [ -n "$(git ls-files --others --exclude-standard -- ui/src/bindings)" ]; then
    echo "new binding files are not committed:" >&2
    git ls-files --others --exclude-standard -- ui/src/bindings >&2
    exit 1
  fi
fi
