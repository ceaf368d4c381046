#!/bin/bash
# Bundle bench/gpu.ts and the tensor-core GEMM test (with the WGSL kernels beside them) into
# .gpubench/ for a machine that has Node and the `webgpu` package but not this repo's dev tools
# (e.g. a rented GPU box): `node --test .gpubench/sgm-gemm.test.js` runs the real tensor-core
# cases that lavapipe skips, `node .gpubench/gpu.js --check …` the benchmark,
# `node .gpubench/gemm-tiles.js --kernel tensor-core …` the GEMM tile sweep.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .gpubench && mkdir -p .gpubench
npx esbuild bench/gpu.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --outfile=.gpubench/gpu.js --log-level=warning
npx esbuild bench/gemm-tiles.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --outfile=.gpubench/gemm-tiles.js --log-level=warning
npx esbuild test/webgpu/sgm-gemm.test.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --outfile=.gpubench/sgm-gemm.test.js --log-level=warning
cp -r src/backends/webgpu/kernels .gpubench/kernels
echo "bundled .gpubench/gpu.js ($(du -sh .gpubench | cut -f1))"
