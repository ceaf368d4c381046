#!/bin/bash
# Install Debian's chromium for the server's browser test (test/server/web-page.test.ts drives
# it through playwright-core with executablePath /usr/bin/chromium; no browser download).
# Idempotent: does nothing when a working /usr/bin/chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1; then
  echo "chromium already installed ($(/usr/bin/chromium --version))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium.sh: run as root (it installs a Debian package)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends chromium
echo "installed $(/usr/bin/chromium --version)"
