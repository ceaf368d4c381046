// The step capacity asked for at load (LoadOptions.stepTokens → WebGpuOptions.maxRows): a short
// step holds fewer tokens and splits a prompt into more steps with the same results; a value
// that is not a whole number ≥ 1 is refused, as is the option on the CPU backend.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { createBackend } from '../../src/runtime/load.js';
import { describeModel } from '../../src/model/model-file.js';
import { syntheticCheckpoint } from '../../src/model/synthetic.js';
import { gpu, HEAD64_CONFIG, relDiff } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

const model = () => describeModel(syntheticCheckpoint(HEAD64_CONFIG, { seed: 11 }));

describe('step tokens', () => {
  it('sizes the steps, and a prompt split into short steps gives the same logits', async () => {
    const short = await createBackend(await model(), { device: 'webgpu', stepTokens: 7 });
    const whole = await WebGpuBackend.load(await model(), { context: await gpu() });
    try {
      assert.ok(short instanceof WebGpuBackend);
      assert.equal(short.stepRows, 7);
      assert.ok(whole.stepRows >= 256);
      assert.ok(short.memory().scratch < whole.memory().scratch);
      const tokens = Array.from({ length: 30 }, (_, i) => (i * 17 + 3) % HEAD64_CONFIG.vocabSize);
      const a = await short.forward(short.createState(), tokens);
      const b = await whole.forward(whole.createState(), tokens);
      assert.ok(relDiff(a, b) <= 1e-5, `logits: ${relDiff(a, b)}`);
    } finally {
      await short.dispose();
      await whole.dispose();
    }
  });

  it('refuses a step that is not a whole number of tokens ≥ 1, and the CPU backend', async () => {
    for (const bad of [0, -4, 2.5, Number.NaN]) {
      for (const device of ['webgpu', 'auto'] as const) {
        await assert.rejects(
          createBackend(await model(), { device, stepTokens: bad }),
          /step tokens \(maxRows\) must be a whole number ≥ 1/,
        );
      }
    }
    await assert.rejects(
      createBackend(await model(), { device: 'cpu', stepTokens: 64 }),
      /the CPU backend has none/,
    );
  });
});
