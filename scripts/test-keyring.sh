#!/usr/bin/env bash
# The keyring tests against the real OS stores, headless:
#  - Secret Service: a private D-Bus session with gnome-keyring started and unlocked by the test
#    (XDG dirs in a temp folder, so the user's own keyring is never touched);
#  - kernel keyutils: a fresh session keyring from `keyctl session`.
# FERRY_REQUIRE_KEYRING=1 turns "no session, skipped" into a failure: here the stores must work.
set -euo pipefail
cd "$(dirname "$0")/.."
export FERRY_REQUIRE_KEYRING=1

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/data" "$tmp/runtime" "$tmp/config"
chmod 700 "$tmp/runtime"

. scripts/lib/cargo-set.sh
# Build first, outside the wrappers, so a slow compile never races the keyring daemon. The same
# selection as the main test run, so nothing is compiled again (see cargo-set.sh).
cargo nextest run "${CARGO_SET[@]}" --no-run
# t <test binary>: runs one test binary (exported for the wrappers' child shells, which cannot
# inherit the array).
export CARGO_SET_STR="${CARGO_SET[*]}"
t() { cargo nextest run $CARGO_SET_STR --no-capture --no-tests=fail -E "binary(=$1)"; }
export -f t

echo "== Secret Service (gnome-keyring under dbus-run-session)"
XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/runtime" XDG_CONFIG_HOME="$tmp/config" \
  dbus-run-session -- bash -c '
    set -e
    eval "$(printf ferry-test-pw | gnome-keyring-daemon --unlock --components=secrets)"
    export GNOME_KEYRING_CONTROL
    t secret_service
    FERRY_TEST_KEYRING=secret-service t auth_cli'

echo "== kernel keyutils (under keyctl session)"
XDG_CONFIG_HOME="$tmp/config" keyctl session - bash -c 't keyutils'

echo "== ferry login/logout/auth CLI, one process per command, secrets in keyutils (under keyctl session)"
XDG_CONFIG_HOME="$tmp/config" keyctl session - bash -c 't auth_cli'
