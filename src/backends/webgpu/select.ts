// Device selection for the runtime: `webgpu` demands a GPU (clear error when there is none);
// `auto` takes a real GPU when there is one and the CPU backend otherwise (a software adapter
// such as lavapipe is correct but slower than the CPU backend, so auto does not pick it).
import type { Backend } from '../backend.js';
import type { ModelFile } from '../../model/model-file.js';
import { createGpuContext, NoGpuAdapterError, type GemmChoice } from './device.js';
import { checkMaxRows } from './act-layout.js';
import { WebGpuBackend } from './backend.js';

/** What the runtime passes to the WebGPU backend (LoadOptions.gemm, LoadOptions.stepTokens). */
export interface GpuLoadOptions {
  gemm?: GemmChoice;
  maxRows?: number;
}

export function loadWebGpu(model: ModelFile, opts: GpuLoadOptions = {}): Promise<Backend> {
  return WebGpuBackend.load(model, { gemm: opts.gemm, maxRows: opts.maxRows });
}

export async function loadAuto(
  model: ModelFile,
  cpu: () => Promise<Backend>,
  opts: GpuLoadOptions = {},
): Promise<Backend> {
  // Before a context exists: the backend's own check would leave this one open.
  checkMaxRows(opts.maxRows);
  let ctx;
  try {
    ctx = await createGpuContext({ gemm: opts.gemm });
  } catch (err) {
    if (err instanceof NoGpuAdapterError) return cpu();
    throw err;
  }
  if (ctx.caps.software) {
    ctx.destroy();
    return cpu();
  }
  return WebGpuBackend.load(model, { context: ctx, ownContext: true, maxRows: opts.maxRows });
}
