// bf16 weights rewritten as f16 on the GPU (weights-to-f16.ts, kernels/bf16-to-f16.wgsl): every
// value in f16's range keeps its value, out-of-range and non-finite ones are counted, and a model
// loaded that way computes what the CPU does (the fixture's bf16 values are exact in f16). The
// default (f16 weights only with the tensor-core GEMM's f16 input) is not reachable on lavapipe,
// so these tests ask for it with `f16Weights`.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CpuBackend } from '../../src/backends/cpu/cpu-backend.js';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { convertBf16ToF16 } from '../../src/backends/webgpu/weights-to-f16.js';
import { bf16ToF32, f16ToF32, f32ToBf16 } from '../../src/io/dtype.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import type { TensorEntry } from '../../src/io/tensor.js';
import { describeModel } from '../../src/model/model-file.js';
import { greedyTokens, modelFixtures } from '../helpers/fixtures.js';
import { gpu, relDiff, submitAndRead } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

/**
 * Uploads 16-bit patterns, converts them (`rowWorkgroups` per grid row, as convertBf16ToF16),
 * and reads back (patterns, out-of-range count).
 */
async function convert(
  bits: Uint16Array,
  rowWorkgroups?: number,
): Promise<{ out: Uint16Array; bad: number }> {
  const ctx = await gpu();
  const size = Math.ceil(bits.byteLength / 16) * 16;
  const buf = ctx.device.createBuffer({
    size,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  const padded = new Uint16Array(size / 2);
  padded.set(bits);
  ctx.device.queue.writeBuffer(buf, 0, padded);
  const bad = await convertBf16ToF16(ctx, [buf], rowWorkgroups);
  const out = await submitAndRead(ctx, ctx.device.createCommandEncoder(), buf);
  buf.destroy();
  return { out: new Uint16Array(out, 0, bits.length), bad };
}

describe('bf16 weights as f16', () => {
  // 300 000 weights are 147 workgroups: one grid row as loaded models get it below 268 MB per
  // buffer, and 15 rows of 10 (the last one partial) for the grid's second dimension.
  for (const rowWorkgroups of [undefined, 10]) {
    it(`keeps every value in f16 range and counts the others (${rowWorkgroups ?? 'default'} workgroups a row)`, async () => {
      // A spread of magnitudes, both signs.
      const n = 300_000;
      const vals = new Float32Array(n);
      let seed = 12345;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
      for (let i = 0; i < n; i++) vals[i] = rnd() * 2 ** Math.round(rnd() * 14);
      // Edge values: f16's largest finite bf16 neighbour, its smallest normal, and the refused.
      const edges = [65280, -65280, 2 ** -14, -(2 ** -14), 0, -0, 65536, -1e30, Infinity, NaN];
      vals.set(edges, 1000);
      const bf = f32ToBf16(vals);
      const { out, bad } = await convert(bf, rowWorkgroups);
      const got = f16ToF32(out);
      assert.equal(bad, 4, 'out-of-range and non-finite weights counted');
      const want = bf16ToF32(bf);
      let subnormal = 0;
      for (let i = 0; i < n; i++) {
        if (i >= 1006 && i < 1010) continue; // undefined after conversion
        if (Math.abs(want[i]) >= 2 ** -14 || want[i] === 0) {
          assert.ok(Object.is(got[i], want[i]), `weight ${i}: ${want[i]} became ${got[i]}`);
        } else {
          // Below f16's normal range its grid is 2^-24 apart: rounded to it, or (WGSL allows it)
          // flushed to zero.
          subnormal++;
          const near = Math.abs(got[i] - want[i]) <= 2 ** -25;
          assert.ok(near || got[i] === 0, `weight ${i}: ${want[i]} became ${got[i]}`);
        }
      }
      assert.ok(subnormal > 1000, 'the spread reaches below f16 normal range');
    });
  }

  it('a fixture model with f16 weights computes what the CPU does', async () => {
    const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;
    const ck = await openCheckpoint(fx.files[0]);
    const model = await describeModel(ck);
    try {
      assert.equal(model.tensor('head.weight').dtype, 'bf16');
      const cpu = await CpuBackend.load(model);
      const be = await WebGpuBackend.load(model, { context: await gpu(), f16Weights: true });
      const asStored = await WebGpuBackend.load(model, { context: await gpu() });
      try {
        assert.equal(be.memory().weights, asStored.memory().weights);
        const ref = fx.reference;
        const [sc, sg, ss] = [cpu.createState(), be.createState(), asStored.createState()];
        const want = await cpu.forwardAll(sc, ref.tokens);
        const got = await be.forwardAll(sg, ref.tokens);
        const stored = await asStored.forwardAll(ss, ref.tokens);
        got.forEach((row, t) => {
          assert.ok(relDiff(row, want[t]) <= 1e-3, `token ${t}: ${relDiff(row, want[t])} vs CPU`);
          // The same weights but those below f16's normal range (|w| < 6.1e-5), which round to
          // its subnormal grid: 1.1e-6 of the logits' std on lavapipe.
          assert.ok(
            relDiff(row, stored[t]) <= 1e-5,
            `token ${t}: f16 vs bf16 weights on the GPU: ${relDiff(row, stored[t])}`,
          );
        });
        await sg.sync();
        assert.ok(relDiff(sg.data, sc.data) <= 1e-3, `state vs CPU: ${relDiff(sg.data, sc.data)}`);
        const greedy = await greedyTokens(be, sg, got[got.length - 1], ref.greedy.length);
        assert.deepEqual(greedy, ref.greedy);
      } finally {
        await be.dispose();
        await asStored.dispose();
      }
    } finally {
      await ck.close();
    }
  });

  it('refuses a model whose weights f16 cannot hold, naming the way out', async () => {
    const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;
    const ck = await openCheckpoint(fx.files[0]);
    try {
      const model = await describeModel(ck);
      const huge: typeof model = {
        ...model,
        tensor: (name: string): TensorEntry => {
          const t = model.tensor(name);
          if (name !== 'blocks.1.ffn.value.weight') return t;
          return {
            ...t,
            readBytes: async (into?: Uint8Array) => {
              const b = await t.readBytes(into);
              const h = new Uint16Array(b.buffer, b.byteOffset, 4);
              h.set(f32ToBf16(new Float32Array([1e6, -3e5, 7, 1])));
              return b;
            },
          };
        },
      };
      await assert.rejects(
        WebGpuBackend.load(huge, { context: await gpu(), f16Weights: true }),
        /2 bf16 weights lie outside f16's range.*gemm 'auto'/,
      );
    } finally {
      await ck.close();
    }
  });
});
