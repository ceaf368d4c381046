#!/bin/bash
# Everything the test suite needs from the operating system, installed from Debian's packages:
# lavapipe (software Vulkan, so the WebGPU tests run without a GPU) and chromium (the server's
# browser test). Idempotent; needs root. The README's test command runs it before `npm test`.
set -euo pipefail
here=$(dirname "$0")
bash "$here/install-lavapipe.sh"
bash "$here/install-chromium.sh"
