#!/bin/bash
# Bundle bench/gpu.ts (with the WGSL kernels beside it) into .gpubench/ for a machine that
# has Node and the `webgpu` package but not this repo's dev tools (e.g. a rented GPU box).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpubench && mkdir -p .gpubench
npx esbuild bench/gpu.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --outfile=.gpubench/gpu.js --log-level=warning
cp -r src/backends/webgpu/kernels .gpubench/kernels
echo "bundled .gpubench/gpu.js ($(du -sh .gpubench | cut -f1))"
