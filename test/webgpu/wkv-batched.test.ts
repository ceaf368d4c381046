// The batched single-token wkv path (LoRA up-projections as one GEMM over all rows, then
// wkv-batch per sequence and head) only runs from WKV_BATCHED_MIN_SEQS sequences on: a batch
// that large on a small head-size-64 model must give what separate runs give, and what the
// CPU reference gives.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { syntheticCheckpoint } from '../../src/model/synthetic.js';
import { chooseWkvPath, WKV_BATCHED_MIN_SEQS } from '../../src/backends/webgpu/step-shape.js';
import type { RwkvState } from '../../src/runtime/state.js';
import { CpuBackend } from '../../src/backends/cpu/cpu-backend.js';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { createGpuContext } from '../../src/backends/webgpu/device.js';
import { describeModel } from '../../src/model/model-file.js';
import { argmax } from '../helpers/fixtures.js';
import { backendsFor, gpu, HEAD64_CONFIG, relDiff } from './gpu-test-helpers.js';

const config = HEAD64_CONFIG;

after(async () => (await gpu()).destroy());

describe('WebGPU batched single-token wkv', () => {
  it('chooses the batched path only for wide single-token steps of head size 64', () => {
    const n = WKV_BATCHED_MIN_SEQS;
    assert.equal(chooseWkvPath(config, n, n, true), 'batched');
    assert.equal(chooseWkvPath(config, n, n, false), 'fused');
    assert.equal(chooseWkvPath(config, n - 1, n - 1, true), 'fused');
    assert.equal(chooseWkvPath(config, n + 3, n, true), 'prefill');
    assert.equal(chooseWkvPath({ ...config, headSize: 32 }, n, n, true), 'fused');
  });

  const batch = WKV_BATCHED_MIN_SEQS + 2;
  // Each sequence its own 3-token prompt, fed one token per step in lockstep.
  const prompts = Array.from({ length: batch }, (_, s) =>
    Array.from({ length: 3 }, (_, t) => (s * 37 + t * 101 + 1) % config.vocabSize),
  );

  async function batched(g: WebGpuBackend): Promise<{ rows: Float32Array[]; states: RwkvState[] }> {
    const states = prompts.map(() => g.createState());
    let rows: Float32Array[] = [];
    for (let t = 0; t < 3; t++) {
      rows = await g.forwardBatch(
        states,
        prompts.map((p) => p[t]),
      );
      assert.ok(g.runner.lastLabels.includes('wkv-batch'), `step ${t}: batched wkv not used`);
      assert.ok(!g.runner.lastLabels.includes('wkv-fused'), `step ${t}: fused wkv used`);
      // ffn.value (K = 512) runs split-K here; layer 1's ln-mix adds its partials.
      assert.ok(g.runner.lastLabels.includes('ln-mix+sum'), `step ${t}: partials not fused`);
    }
    await Promise.all(states.map((s) => s.sync()));
    return { rows, states };
  }

  it(`a batch of ${batch} sequences equals separate runs and the CPU`, async () => {
    const { cpu, gpu: g } = await backendsFor(syntheticCheckpoint(config, { seed: 5 }), {
      maxRows: 32,
    });
    const { rows, states } = await batched(g);
    for (let s = 0; s < batch; s++) {
      const alone = g.createState();
      let last: Float32Array = new Float32Array();
      for (const tok of prompts[s]) last = await g.forward(alone, [tok]);
      await alone.sync();
      assert.ok(relDiff(rows[s], last) <= 1e-4, `sequence ${s}: logits vs separate`);
      assert.ok(relDiff(states[s].data, alone.data) <= 1e-4, `sequence ${s}: state vs separate`);
      const ref = cpu.createState();
      const want = await cpu.forward(ref, prompts[s]);
      assert.ok(relDiff(rows[s], want) <= 1e-3, `sequence ${s}: logits vs CPU`);
      assert.equal(argmax(rows[s]), argmax(want), `sequence ${s}: argmax vs CPU`);
      assert.ok(relDiff(states[s].data, ref.data) <= 1e-3, `sequence ${s}: state vs CPU`);
    }
    await g.dispose();
  });

  it('without subgroups (workgroup-memory sums) the batched path matches the CPU', async () => {
    const model = await describeModel(syntheticCheckpoint(config, { seed: 6 }));
    const cpu = await CpuBackend.load(model, { threads: 1 });
    const ctx = await createGpuContext({ noSubgroups: true });
    assert.equal(ctx.caps.subgroups, false);
    const g = await WebGpuBackend.load(model, { context: ctx, ownContext: true, maxRows: 32 });
    const { rows, states } = await batched(g);
    for (let s = 0; s < batch; s++) {
      const ref = cpu.createState();
      const want = await cpu.forward(ref, prompts[s]);
      assert.ok(relDiff(rows[s], want) <= 1e-3, `sequence ${s}: logits vs CPU`);
      assert.ok(relDiff(states[s].data, ref.data) <= 1e-3, `sequence ${s}: state vs CPU`);
    }
    await g.dispose();
  });
});
