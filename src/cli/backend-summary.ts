// One line on what a loaded model runs on, for the commands' stderr: which backend `auto` took,
// and on WebGPU the adapter and the GEMM kernel (so `--gemm f16` on a GPU without tensor cores
// shows that it changed nothing).
import type { Backend } from '../backends/backend.js';
import type { GpuCaps } from '../backends/webgpu/device.js';

export function backendSummary(backend: Backend): string {
  if (backend.device !== 'webgpu' || !('caps' in backend)) return backend.device;
  const caps = backend.caps as GpuCaps;
  const gemm =
    caps.gemm !== 'tensor-core'
      ? 'f32 GEMM'
      : caps.gemmInput === 'f16'
        ? 'tensor-core GEMM, f16 inputs'
        : 'tensor-core GEMM, f32-like';
  return `webgpu (${caps.adapterName || 'unnamed adapter'}; ${gemm})`;
}
