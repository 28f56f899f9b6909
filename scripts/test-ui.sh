#!/usr/bin/env bash
# UI tests: type check, Vitest component tests (jsdom) and the Playwright scenarios in Debian's
# Chromium against the Vite dev server with mocked IPC. Idempotent: installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=900 chromium
fi
if [ ! -f ui/node_modules/.package-lock.json ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  (cd ui && npm ci --no-audit --no-fund)
fi

cd ui
echo "== ui: type check"
npx tsc -b
echo "== ui: component tests (Vitest)"
npx vitest run
echo "== ui: Playwright scenarios (Chromium, mocked IPC)"
mkdir -p test-results
node e2e/run-playwright.mjs
