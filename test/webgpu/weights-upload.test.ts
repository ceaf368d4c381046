// Uploading a model's matrices (weights.ts, through a shared read buffer and the staging
// buffers of staged-upload.ts): a read that fails part-way must fail the load with that error,
// leave no rejection unhandled, and leave the device usable. (The fixture fits one staging
// buffer; staged-upload.test.ts drops an upload with a mapping in flight.)
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { planWeights } from '../../src/backends/webgpu/weight-layout.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import type { TensorEntry } from '../../src/io/tensor.js';
import { describeModel } from '../../src/model/model-file.js';
import { modelFixtures } from '../helpers/fixtures.js';
import { gpu } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

describe('weights upload', () => {
  it('a matrix whose read fails part-way fails the load, with nothing left unhandled', async () => {
    const fx = modelFixtures().find((f) => f.name === 'tiny-fp16')!;
    const ck = await openCheckpoint(fx.files[0]);
    const model = await describeModel(ck);
    const order = planWeights(model.config, 'f16', 2 ** 30).all.map((m) => m.name);
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      // Fail the read of a matrix in the middle, and (another load) of the second one.
      for (const victim of [order[Math.floor(order.length / 2)], order[1]]) {
        const failing: typeof model = {
          ...model,
          tensor: (name: string): TensorEntry => {
            const t = model.tensor(name);
            if (name !== victim) return t;
            return {
              ...t,
              readBytes: async () => {
                throw new Error(`disk error reading ${name}`);
              },
            };
          },
        };
        await assert.rejects(
          WebGpuBackend.load(failing, { context: await gpu() }),
          new RegExp(`disk error reading ${victim.replace(/\./g, '\\.')}`),
        );
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(unhandled, [], 'no rejection left unhandled');
      // The device is fine afterwards: the same model loads and runs.
      const be = await WebGpuBackend.load(model, { context: await gpu() });
      const logits = await be.forward(be.createState(), fx.reference.tokens.slice(0, 4));
      assert.ok(logits.every(Number.isFinite), 'finite logits after the failed loads');
      await be.dispose();
    } finally {
      process.off('unhandledRejection', record);
      await ck.close();
    }
  });
});
