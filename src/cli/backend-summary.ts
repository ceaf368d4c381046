// One line on what a loaded model runs on, for the commands' stderr: which backend `auto` took,
// and on WebGPU the adapter, the GEMM kernel (so `--gemm f16` on a GPU without tensor cores
// shows that it changed nothing) and the step capacity with the GPU memory of its scratch buffers
// (activations and logit rows; it grows with the model: WebGpuOptions.maxRows).
import type { Backend } from '../backends/backend.js';
import type { GpuCaps } from '../backends/webgpu/device.js';

/** What the summary reads off a WebGPU backend (WebGpuBackend, without loading its code). */
interface GpuFacts {
  caps: GpuCaps;
  gemmKernel?: 'tensor-core' | 'f32';
  stepRows?: number;
  memory?: () => { scratch: number };
}

export function backendSummary(backend: Backend): string {
  if (backend.device !== 'webgpu' || !('caps' in backend)) return backend.device;
  const gpu = backend as unknown as GpuFacts;
  const caps = gpu.caps;
  // The model's own kernel where the backend says it (f32 weights, or bf16 beyond f16's range,
  // keep the f32 kernel on a tensor-core device).
  const gemm =
    (gpu.gemmKernel ?? caps.gemm) !== 'tensor-core'
      ? 'f32 GEMM'
      : caps.gemmInput === 'f16'
        ? 'tensor-core GEMM, f16 inputs'
        : 'tensor-core GEMM, f32-like';
  let steps = '';
  if (gpu.stepRows !== undefined && gpu.memory) {
    const mib = Math.round(gpu.memory().scratch / 2 ** 20);
    steps = `; ${gpu.stepRows}-token steps, ${mib} MiB of scratch`;
  }
  return `webgpu (${caps.adapterName || 'unnamed adapter'}; ${gemm}${steps})`;
}
