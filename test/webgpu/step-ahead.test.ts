// Decoding steps whose commands were recorded while the GPU ran the previous step
// (step-ahead.ts) give what the CPU backend gives, also when other work comes in between:
// another state's step of the same shape, a prefill chunk (another shape), and the state pool
// growing (the recorded commands refer to the old buffers and must not be used).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GpuSessions } from '../../src/backends/webgpu/sessions.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { argmax, modelFixtures } from '../helpers/fixtures.js';
import { backendsFor, gpu, relDiff } from './gpu-test-helpers.js';

const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;
const prompt = fx.reference.tokens;

after(async () => (await gpu()).destroy());

describe('WebGPU steps recorded ahead', () => {
  it('greedy decoding through forward() equals the CPU with other work in between', async () => {
    const ck = await openCheckpoint(fx.files[0]);
    const { cpu, gpu: g } = await backendsFor(ck, { maxRows: 16, initialSlots: 2 });
    await ck.close();
    const [ga, gb, ca, cb] = [
      g.createState(),
      g.createState(),
      cpu.createState(),
      cpu.createState(),
    ];
    let ta = argmax(await g.forward(ga, prompt.slice(0, 5)));
    assert.equal(ta, argmax(await cpu.forward(ca, prompt.slice(0, 5))));
    let tb = 3;
    const extra = [];
    for (let i = 0; i < 12; i++) {
      const la = await g.forward(ga, [ta]);
      const want = await cpu.forward(ca, [ta]);
      assert.ok(relDiff(la, want) <= 1e-3, `step ${i}: logits`);
      ta = argmax(la);
      assert.equal(ta, argmax(want), `step ${i}: greedy token`);
      if (i % 4 === 1) {
        // Same shape, another state: the recorded step serves it (the slot is an input).
        const lb = await g.forward(gb, [tb]);
        assert.ok(relDiff(lb, await cpu.forward(cb, [tb])) <= 1e-3, `step ${i}: other state`);
        tb = argmax(lb);
      }
      if (i === 6) {
        // Another shape: a prefill chunk.
        const lb = await g.forward(gb, prompt.slice(5, 9));
        assert.ok(relDiff(lb, await cpu.forward(cb, prompt.slice(5, 9))) <= 1e-3, 'prefill');
      }
      if (i === 9) {
        // Four more sessions on the GPU: the pool grows, its buffers are replaced.
        const sessions = new GpuSessions(g);
        const before = g.runner.pool.generation;
        for (let n = 0; n < 4; n++) extra.push(sessions.open());
        assert.notEqual(g.runner.pool.generation, before, 'the pool did not grow');
        sessions.dispose();
      }
    }
    await Promise.all([ga.sync(), gb.sync()]);
    assert.ok(relDiff(ga.data, ca.data) <= 1e-3, 'state a');
    assert.ok(relDiff(gb.data, cb.data) <= 1e-3, 'state b');
    assert.ok(g.runner.ahead.reused >= 8, `only ${g.runner.ahead.reused} steps used a spare`);
    extra.forEach((s) => g.runner.pool.release(s));
    await g.dispose();
    await cpu.dispose();
  });
});
