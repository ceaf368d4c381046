#!/bin/bash
# Install lavapipe (Mesa's software Vulkan driver) so WebGPU (Dawn, through the `webgpu` npm
# package) runs on a machine without a GPU, e.g. CI. Plain bookworm ships Mesa 22, too old for
# Dawn; bookworm-backports has Mesa 25. Idempotent: safe to run again.
# Run the tests afterwards with LP_NUM_THREADS=0 (lavapipe's worker threads crash in some
# sandboxes) and XDG_RUNTIME_DIR set (see DEVELOPERS.md).
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-lavapipe.sh: run as root (it adds an apt source and installs packages)" >&2
  exit 1
fi

# Already installed from backports with a recent enough Mesa? Then there is nothing to do.
installed=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
if [ -n "$installed" ] && dpkg --compare-versions "$installed" ge 24 && [ -n "$(ls /usr/share/vulkan/icd.d/lvp_icd*.json 2>/dev/null)" ]; then
  echo "lavapipe already installed (mesa-vulkan-drivers $installed)"
  exit 0
fi

# Reuse the mirror the machine already uses for bookworm (deb822 or one-line format).
# Only active lines count (comments may name other mirrors, e.g. snapshot.debian.org).
mirror=$(grep -rhE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
  grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -1 | tr -d ' ' || true)
mirror=${mirror:-http://deb.debian.org/debian}
mirror=${mirror%/}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
src=/etc/apt/sources.list.d/bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  {
    echo "Types: deb"
    echo "URIs: $mirror"
    echo "Suites: bookworm-backports"
    echo "Components: main"
    [ -f "$keyring" ] && echo "Signed-By: $keyring"
  } > "$src"
  echo "added $src ($mirror)"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1
echo "installed mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers)"
