// Choosing the GEMM kernel (DeviceOptions.gemm, WebGpuOptions.gemm, LoadOptions.gemm,
// RWKV_WEBGPU_GEMM): the choice reaches the context the backend runs on, and an unknown or
// contradictory one is refused by name. Whether the tensor cores run depends on the device
// (lavapipe has none: caps.gemm 'f32'); the input form is recorded either way.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { createGpuContext } from '../../src/backends/webgpu/device.js';
import { describeModel } from '../../src/model/model-file.js';
import { syntheticCheckpoint } from '../../src/model/synthetic.js';
import { createBackend } from '../../src/runtime/load.js';
import { gpu } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

const config = {
  version: 'x070' as const,
  nLayer: 1,
  nEmbd: 64,
  headSize: 64,
  nHead: 1,
  vocabSize: 64,
  ffnDim: 128,
  lora: { decay: 16, iclr: 16, valueResidual: 16, gate: 16 },
};
const model = () => describeModel(syntheticCheckpoint(config, { seed: 5 }));

describe('GEMM kernel choice', () => {
  it("createGpuContext: 'f16' takes X rounded to f16; unknown choices are refused", async () => {
    const shared = await gpu();
    const f16 = await createGpuContext({ gemm: 'f16' });
    try {
      assert.equal(f16.caps.gemmInput, 'f16');
      // The f16 input's tiles need less workgroup memory, so it runs wherever the split does.
      assert.equal(f16.caps.gemm, shared.caps.gemm);
    } finally {
      f16.destroy();
    }
    await assert.rejects(createGpuContext({ gemm: 'fp8' as 'f16' }), /gemm option 'fp8'.*auto/);
    const saved = process.env.RWKV_WEBGPU_GEMM;
    process.env.RWKV_WEBGPU_GEMM = 'fast';
    try {
      await assert.rejects(createGpuContext(), /RWKV_WEBGPU_GEMM 'fast'/);
    } finally {
      if (saved === undefined) delete process.env.RWKV_WEBGPU_GEMM;
      else process.env.RWKV_WEBGPU_GEMM = saved;
    }
  });

  it('reaches the backend through LoadOptions and WebGpuOptions', async () => {
    const be = await createBackend(await model(), { device: 'webgpu', gemm: 'f16' });
    try {
      assert.ok(be instanceof WebGpuBackend);
      assert.equal(be.caps.gemmInput, 'f16');
      // It runs: one token's logits, finite.
      const row = await be.forward(be.createState(), [3]);
      assert.equal(row.length, config.vocabSize);
      assert.ok(row.every(Number.isFinite));
    } finally {
      await be.dispose();
    }
    const shared = await WebGpuBackend.load(await model(), { context: await gpu() });
    try {
      assert.equal(shared.caps.gemmInput, (await gpu()).caps.gemmInput);
    } finally {
      await shared.dispose();
    }
    await assert.rejects(
      WebGpuBackend.load(await model(), { context: await gpu(), gemm: 'f16' }),
      /give gemm to createGpuContext/,
    );
  });

  it('is refused for the CPU backend, which has no GEMM kernel to choose', async () => {
    await assert.rejects(
      createBackend(await model(), { device: 'cpu', threads: 1, gemm: 'f16' }),
      /CPU backend has none/,
    );
    const cpu = await createBackend(await model(), { device: 'cpu', threads: 1, gemm: 'auto' });
    await cpu.dispose();
  });
});
