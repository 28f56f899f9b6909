#!/usr/bin/env bash
# The one command that sets up a fresh Debian/Ubuntu machine and runs the Ferry desktop app:
# installs system and npm packages, builds the release app with the bundled UI, and starts it. Without a
# display (a headless server) it runs under Xvfb so the command still works end to end.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
# `tauri build` turns on the custom-protocol feature, so the binary serves the bundled UI
# instead of waiting for a dev server. Release mode: the app as it ships (scripts/package.sh
# bundles this same build into the .deb/.rpm).
npx tauri build --no-bundle
app=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/ferry-desktop
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$app" "$@"
else
  echo "run-app: no display found; running under Xvfb (xvfb-run -a dbus-run-session)"
  exec xvfb-run -a dbus-run-session -- "$app" "$@"
fi
