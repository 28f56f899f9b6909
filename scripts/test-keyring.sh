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

# Build first, outside the wrappers, so a slow compile never races the keyring daemon.
cargo test -p ferry-auth --test secret_service --test keyutils --no-run
cargo test -p ferry-cli --test auth_cli --no-run

echo "== Secret Service (gnome-keyring under dbus-run-session)"
XDG_DATA_HOME="$tmp/data" XDG_RUNTIME_DIR="$tmp/runtime" XDG_CONFIG_HOME="$tmp/config" \
  dbus-run-session -- sh -c '
    eval "$(printf ferry-test-pw | gnome-keyring-daemon --unlock --components=secrets)"
    export GNOME_KEYRING_CONTROL
    cargo test -p ferry-auth --test secret_service -- --nocapture
    FERRY_TEST_KEYRING=secret-service cargo test -p ferry-cli --test auth_cli -- --nocapture'

echo "== kernel keyutils (under keyctl session)"
XDG_CONFIG_HOME="$tmp/config" keyctl session - cargo test -p ferry-auth --test keyutils -- --nocapture

echo "== ferry login/logout/auth CLI, one process per command, secrets in keyutils (under keyctl session)"
XDG_CONFIG_HOME="$tmp/config" keyctl session - cargo test -p ferry-cli --test auth_cli -- --nocapture
