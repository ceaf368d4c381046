// One call from a checkpoint path to a ready backend: file → tensors → model → backend.
import type { Backend, DeviceName } from '../backends/backend.js';
import type { GemmChoice } from '../backends/webgpu/device.js';
import { CpuBackend } from '../backends/cpu/cpu-backend.js';
import { openCheckpoint } from '../io/open-checkpoint.js';
import { describeModel, type ModelFile } from '../model/model-file.js';

export type DeviceChoice = DeviceName | 'auto';

export interface LoadOptions {
  device?: DeviceChoice;
  /** CPU backend: threads for matrix products (default: every core; 1 = no worker threads). */
  threads?: number;
  /**
   * WebGPU backend: its GEMM kernel (DeviceOptions.gemm): 'auto' (tensor cores where available,
   * f32-like results), 'f16' (tensor cores with f16 inputs: faster prefill and batches at fp16
   * precision) or 'f32'. Default: RWKV_WEBGPU_GEMM, else 'auto'.
   */
  gemm?: GemmChoice;
  /**
   * WebGPU backend: tokens one step holds (WebGpuOptions.maxRows): the longest prompt chunk and
   * the largest batch. Default: by the model's size, up to 4096 (act-layout.ts defaultMaxRows);
   * fewer use less GPU memory (2.9B: ~145 KB a token) and prefill more slowly.
   */
  stepTokens?: number;
}

/** Opens and validates a checkpoint without loading weights (for `rwkv info`). */
export async function openModel(path: string): Promise<ModelFile> {
  const checkpoint = await openCheckpoint(path);
  try {
    return await describeModel(checkpoint);
  } catch (err) {
    await checkpoint.close();
    throw err;
  }
}

export async function loadModel(path: string, opts: LoadOptions = {}): Promise<Backend> {
  const model = await openModel(path);
  try {
    return await createBackend(model, opts);
  } finally {
    await model.checkpoint.close();
  }
}

/** The backend for an opened model (LoadOptions; device 'cpu' unless given). */
export async function createBackend(model: ModelFile, opts: LoadOptions = {}): Promise<Backend> {
  const { device = 'cpu', threads, gemm, stepTokens } = opts;
  if (device === 'cpu' && gemm !== undefined && gemm !== 'auto') {
    throw new Error(
      `gemm '${gemm}' chooses the WebGPU backend's matrix kernel; the CPU backend has none ` +
        '(use device webgpu or auto)',
    );
  }
  if (device === 'cpu' && stepTokens !== undefined) {
    throw new Error(
      `step tokens (${stepTokens}) size the WebGPU backend's steps; the CPU backend has none ` +
        '(use device webgpu or auto)',
    );
  }
  const gpu = { gemm, maxRows: stepTokens };
  switch (device) {
    case 'cpu':
      return CpuBackend.load(model, { threads });
    case 'auto':
      return (await import('../backends/webgpu/select.js')).loadAuto(
        model,
        () => CpuBackend.load(model, { threads }),
        gpu,
      );
    case 'webgpu':
      return (await import('../backends/webgpu/select.js')).loadWebGpu(model, gpu);
  }
}
