// One call from a checkpoint path to a ready backend: file → tensors → model → backend.
import type { Backend, DeviceName } from '../backends/backend.js';
import { CpuBackend } from '../backends/cpu/cpu-backend.js';
import { openCheckpoint } from '../io/open-checkpoint.js';
import { describeModel, type ModelFile } from '../model/model-file.js';

export type DeviceChoice = DeviceName | 'auto';

export interface LoadOptions {
  device?: DeviceChoice;
  /** CPU backend: threads for matrix products (default: every core; 1 = no worker threads). */
  threads?: number;
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
    return await createBackend(model, opts.device ?? 'cpu', opts.threads);
  } finally {
    await model.checkpoint.close();
  }
}

export async function createBackend(
  model: ModelFile,
  device: DeviceChoice,
  threads?: number,
): Promise<Backend> {
  switch (device) {
    case 'cpu':
      return CpuBackend.load(model, { threads });
    case 'auto':
      return (await import('../backends/webgpu/select.js')).loadAuto(model, () =>
        CpuBackend.load(model, { threads }),
      );
    case 'webgpu':
      return (await import('../backends/webgpu/select.js')).loadWebGpu(model);
  }
}
