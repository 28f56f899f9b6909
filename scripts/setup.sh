#!/usr/bin/env bash
# Installs everything Ferry needs on a fresh Debian 12 / Ubuntu machine (run as root, or with sudo
# available): system packages for the engine, the desktop app, the real-registry tests, the
# keyring tests and the benchmarks, plus the UI's npm packages. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  build-essential pkg-config curl wget file libssl-dev
  libwebkit2gtk-4.1-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth xdotool imagemagick webkit2gtk-driver
  gnome-keyring dbus libsecret-tools keyutils
  docker-registry apache2-utils openssl skopeo chromium
  squashfs-tools
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq -o DPkg::Lock::Timeout=900
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 "${missing[@]}"
fi
# Debian's docker-registry package enables a service on :5000; tests start their own instances.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
  $SUDO systemctl stop docker-registry || true
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; installing the Rust toolchain with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest (the test runner scripts/test.sh uses)"
  cargo install cargo-nextest --locked
fi
if ! command -v node >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 nodejs npm
fi

if [ -f package-lock.json ]; then
  # The root holds only the Tauri CLI, whose per-platform optional packages npm 11 leaves out of
  # the lock file, so `npm ci` refuses it; `npm install` honours the pinned version and fetches
  # the package for this platform.
  [ -d node_modules/@tauri-apps/cli ] && [ node_modules -nt package-lock.json ] || npm install --no-audit --no-fund
fi
if [ -f ui/package-lock.json ]; then
  [ -d ui/node_modules ] && [ ui/node_modules -nt ui/package-lock.json ] || (cd ui && npm ci --no-audit --no-fund)
fi
echo "setup: done"
