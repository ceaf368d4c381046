// One call from a checkpoint path to a ready backend: file → tensors → model → backend.
import type { Backend, DeviceName } from '../backends/backend.js';
import { CpuBackend } from '../backends/cpu/cpu-backend.js';
import { openCheckpoint } from '../io/open-checkpoint.js';
import { describeModel, type ModelFile } from '../model/model-file.js';

export type DeviceChoice = DeviceName | 'auto';

export interface LoadOptions {
  device?: DeviceChoice;
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
    return await createBackend(model, opts.device ?? 'cpu');
  } finally {
    await model.checkpoint.close();
  }
}

export async function createBackend(model: ModelFile, device: DeviceChoice): Promise<Backend> {
  switch (device) {
    case 'cpu':
    case 'auto':
      return CpuBackend.load(model);
    case 'webgpu':
      throw new Error('the WebGPU backend is not available in this build yet; use --device cpu');
  }
}
