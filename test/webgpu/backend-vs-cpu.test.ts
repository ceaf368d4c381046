// WebGPU forward pass against the CPU backend on synthetic models of awkward shapes (head size
// 32, LoRA ranks not multiples of 8, vocabulary not a multiple of the tile size) and every
// weight format the backend stores, plus matrices split across bindings.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { DType } from '../../src/io/tensor.js';
import type { RwkvConfig } from '../../src/model/config.js';
import { syntheticCheckpoint } from '../../src/model/synthetic.js';
import { CpuBackend } from '../../src/backends/cpu/cpu-backend.js';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { createGpuContext } from '../../src/backends/webgpu/device.js';
import { describeModel } from '../../src/model/model-file.js';
import { argmax } from '../helpers/fixtures.js';
import { backendsFor, gpu, relDiff } from './gpu-test-helpers.js';

const odd: RwkvConfig = {
  version: 'x070',
  nLayer: 2,
  nEmbd: 128,
  headSize: 32,
  nHead: 4,
  vocabSize: 300,
  ffnDim: 448,
  lora: { decay: 12, iclr: 20, valueResidual: 6, gate: 36 },
};

const tokens = [5, 17, 299, 0, 42, 42, 7, 150, 3, 88, 201, 9];

after(async () => (await gpu()).destroy());

describe('WebGPU backend vs CPU backend (synthetic models)', () => {
  it('finds an adapter and reports what it offers', async () => {
    const ctx = await gpu();
    assert.ok(ctx.caps.maxBinding >= 128 * 1024 * 1024, `binding limit ${ctx.caps.maxBinding}`);
  });

  for (const dtype of ['bf16', 'f16', 'f32'] as DType[]) {
    it(`${dtype} weights: per-token logits and state match`, async () => {
      const { cpu, gpu: g } = await backendsFor(syntheticCheckpoint(odd, { dtype, seed: 3 }), {
        maxRows: 16,
      });
      const sc = cpu.createState();
      const sg = g.createState();
      const want = await cpu.forwardAll(sc, tokens);
      const got = await g.forwardAll(sg, tokens);
      assert.equal(got.length, tokens.length);
      got.forEach((row, t) => {
        const rel = relDiff(row, want[t]);
        assert.ok(rel <= 1e-3, `token ${t}: max|Δ|/std = ${rel}`);
        assert.equal(argmax(row), argmax(want[t]), `token ${t}: argmax differs`);
      });
      await sg.sync(); // the newest state is on the GPU until asked for
      const rel = relDiff(sg.data, sc.data);
      assert.ok(rel <= 1e-3, `state: max|Δ|/std = ${rel}`);
      await g.dispose();
    });
  }

  for (const dtype of ['bf16', 'f32'] as DType[]) {
    it(`${dtype} weights: one-token steps (LayerNorm folded into the GEMVs) match`, async () => {
      const { cpu, gpu: g } = await backendsFor(syntheticCheckpoint(odd, { dtype, seed: 4 }));
      const sc = cpu.createState();
      const sg = g.createState();
      // One token per step, so each step takes the single-token form and the token shift is
      // carried through the state from step to step.
      for (const [i, t] of tokens.slice(0, 6).entries()) {
        const want = await cpu.forward(sc, [t]);
        const got = await g.forward(sg, [t]);
        assert.ok(relDiff(got, want) <= 1e-3, `step ${i}: max|Δ|/std = ${relDiff(got, want)}`);
      }
      await sg.sync(); // the newest state is on the GPU until asked for
      const rel = relDiff(sg.data, sc.data);
      assert.ok(rel <= 1e-3, `state: max|Δ|/std = ${rel}`);
      await g.dispose();
    });
  }

  it('one-token steps with rows longer than one GEMV load batch (C = 1152) match', async () => {
    // C = 1152 bf16 is 144 vec4 per row, more than the 128 one batch of matvec-ln covers, and
    // 288 vec4 of x per invocation group: several batches and a partial one per row.
    const wide: RwkvConfig = { ...odd, nEmbd: 1152, nHead: 18, headSize: 64, ffnDim: 1216 };
    const { cpu, gpu: g } = await backendsFor(syntheticCheckpoint(wide, { seed: 6 }));
    const sc = cpu.createState();
    const sg = g.createState();
    for (const [i, t] of tokens.slice(0, 3).entries()) {
      const want = await cpu.forward(sc, [t]);
      const got = await g.forward(sg, [t]);
      assert.ok(relDiff(got, want) <= 1e-3, `step ${i}: max|Δ|/std = ${relDiff(got, want)}`);
    }
    await sg.sync();
    assert.ok(relDiff(sg.data, sc.data) <= 1e-3, 'state');
    await g.dispose();
  });

  it('a step of 320 rows holding two sequences (one from a saved shift) matches', async () => {
    // 320 rows in one step: sequence A's 200-token prompt from a new state, then B's 120 tokens
    // after 9 of its own (its token shift comes from the state). C = 1152: 288 vec4 per row,
    // more than one 256-wide workgroup covers.
    // (Multi-row steps past 8 rows need K a multiple of 32: whole LoRA ranks.)
    const wide: RwkvConfig = {
      ...odd,
      nLayer: 1,
      nEmbd: 1152,
      nHead: 18,
      headSize: 64,
      lora: { decay: 32, iclr: 32, valueResidual: 32, gate: 64 },
    };
    const { cpu, gpu: g } = await backendsFor(syntheticCheckpoint(wide, { seed: 8 }), {
      maxRows: 320,
    });
    const prompt = (n: number, seed: number) =>
      Array.from({ length: n }, (_, i) => (i * 37 + seed * 11) % wide.vocabSize);
    const [a, b0, b] = [prompt(200, 1), prompt(9, 2), prompt(120, 3)];
    const [ca, cb] = [cpu.createState(), cpu.createState()];
    const [ga, gb] = [g.createState(), g.createState()];
    await cpu.forward(cb, b0);
    await g.forward(gb, b0);
    const want = [await cpu.forward(ca, a), await cpu.forward(cb, b)];
    const got = await g.forwardMany([ga, gb], [a, b], [true, true], [null, null]);
    got.forEach((out, i) => {
      assert.ok(out && 'logits' in out, `sequence ${i}: no logits row`);
      const rel = relDiff(out.logits, want[i]);
      assert.ok(rel <= 1e-3, `sequence ${i}: logits max|Δ|/std = ${rel}`);
    });
    for (const [s, c] of [
      [ga, ca],
      [gb, cb],
    ] as const) {
      await s.sync();
      assert.ok(relDiff(s.data, c.data) <= 1e-3, `state: ${relDiff(s.data, c.data)}`);
    }
    await g.dispose();
  });

  it('without subgroups (workgroup-memory fallbacks), decode and prefill still match', async () => {
    // Head size 64 takes the vectorised decode and the prefill scan kernels.
    const cfg: RwkvConfig = { ...odd, headSize: 64, nHead: 2 };
    const ck = syntheticCheckpoint(cfg, { dtype: 'bf16', seed: 9 });
    const model = await describeModel(ck);
    const cpu = await CpuBackend.load(model, { threads: 1 });
    const ctx = await createGpuContext({ noSubgroups: true });
    assert.equal(ctx.caps.subgroups, false);
    const g = await WebGpuBackend.load(model, { context: ctx, ownContext: true, maxRows: 8 });
    const sc = cpu.createState();
    const sg = g.createState();
    const want = await cpu.forwardAll(sc, tokens);
    const got = await g.forwardAll(sg, tokens);
    got.forEach((row, t) => assert.ok(relDiff(row, want[t]) <= 1e-3, `prefill token ${t}`));
    for (const t of [3, 1, 4]) {
      const a = await cpu.forward(sc, [t]);
      const b = await g.forward(sg, [t]);
      assert.ok(relDiff(b, a) <= 1e-3, `decode token ${t}`);
    }
    await sg.sync();
    assert.ok(relDiff(sg.data, sc.data) <= 1e-3, 'state');
    await g.dispose();
  });

  it('matrices split across small bindings give the same results as unsplit', async () => {
    const ck = syntheticCheckpoint(odd, { dtype: 'bf16', seed: 5 });
    const whole = (await backendsFor(ck)).gpu;
    // 32 KiB arenas: the embedding and head (300 × 128 bf16 = 75 KiB) need three parts each,
    // and the projections of a layer no longer share one binding.
    const split = (await backendsFor(ck, { arenaCap: 32 * 1024 })).gpu;
    assert.ok(split.runner !== whole.runner);
    const a = await whole.forwardAll(whole.createState(), tokens.slice(0, 4));
    const b = await split.forwardAll(split.createState(), tokens.slice(0, 4));
    a.forEach((row, t) => assert.ok(relDiff(b[t], row) <= 1e-6, `token ${t}`));
    await whole.dispose();
    await split.dispose();
  });
});
