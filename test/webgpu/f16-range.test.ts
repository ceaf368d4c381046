// Counting the bf16 weights f16 cannot hold (f16-range.ts, kernels/f16-range.wgsl): the
// tensor-core GEMM converts W to f16, so a model with such a weight keeps the f32 kernel
// (sgmUnavailable's outsideF16, tested in sgm-gemm.test.ts). Lavapipe has no tensor cores, so
// these tests ask for the count with `checkF16Range`.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CpuBackend } from '../../src/backends/cpu/cpu-backend.js';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { countOutsideF16 } from '../../src/backends/webgpu/f16-range.js';
import { bf16ToF32, f32ToBf16 } from '../../src/io/dtype.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import type { TensorEntry } from '../../src/io/tensor.js';
import { describeModel } from '../../src/model/model-file.js';
import { modelFixtures } from '../helpers/fixtures.js';
import { gpu, relDiff, submitAndRead } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

/**
 * Uploads 16-bit patterns, counts them (`rowWorkgroups` per grid row, as countOutsideF16), and
 * reads the buffer back (patterns, count).
 */
async function count(
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
  const bad = await countOutsideF16(ctx, [buf], rowWorkgroups);
  const out = await submitAndRead(ctx, ctx.device.createCommandEncoder(), buf);
  buf.destroy();
  return { out: new Uint16Array(out, 0, bits.length), bad };
}

/** tiny-a with two weights of blocks.1.ffn.value made too large for f16 (in every reader). */
function withHugeWeights(model: Awaited<ReturnType<typeof describeModel>>): typeof model {
  const first = f32ToBf16(new Float32Array([1e6, -3e5, 7, 1]));
  return {
    ...model,
    tensor: (name: string): TensorEntry => {
      const t = model.tensor(name);
      if (name !== 'blocks.1.ffn.value.weight') return t;
      assert.equal(t.dtype, 'bf16');
      const readBytes = async (into?: Uint8Array) => {
        const b = await t.readBytes(into);
        new Uint16Array(b.buffer, b.byteOffset, first.length).set(first);
        return b;
      };
      const readF32 = async () => bf16ToF32(new Uint16Array((await readBytes()).slice().buffer));
      return {
        ...t,
        readBytes,
        readF32,
        readF32Into: async (out: Float32Array) => out.set(await readF32()),
      };
    },
  };
}

describe('bf16 weights beyond f16', () => {
  // 300 000 weights are 147 workgroups: one grid row as loaded models get it below 268 MB per
  // buffer, and 15 rows of 10 (the last one partial) for the grid's second dimension.
  for (const rowWorkgroups of [undefined, 10]) {
    it(`counts the weights f16 cannot hold and leaves them as they are (${rowWorkgroups ?? 'default'} workgroups a row)`, async () => {
      // A spread of magnitudes, both signs, all within f16's range.
      const n = 300_000;
      const vals = new Float32Array(n);
      let seed = 12345;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
      for (let i = 0; i < n; i++) vals[i] = rnd() * 2 ** Math.round(rnd() * 14);
      // Edge values: the largest bf16 below f16's limit, its smallest normal, zeros, and four
      // that f16 cannot hold (the first at the end of the buffer's last vec4 row).
      const edges = [65280, -65280, 2 ** -14, -(2 ** -14), 0, -0, 65536, -1e30, Infinity, NaN];
      vals.set(edges, 1000);
      vals[n - 1] = -65536;
      const bf = f32ToBf16(vals);
      const { out, bad } = await count(bf, rowWorkgroups);
      assert.equal(bad, 5, 'out-of-range and non-finite weights counted');
      assert.deepEqual(out, bf, 'the weights are only read');
    });
  }

  it('a model whose bf16 weights f16 cannot hold still loads and computes what the CPU does', async () => {
    const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;
    const ck = await openCheckpoint(fx.files[0]);
    try {
      const model = await describeModel(ck);
      const huge = withHugeWeights(model);
      const ctx = await gpu();
      const plain = await WebGpuBackend.load(model, { context: ctx, checkF16Range: true });
      const be = await WebGpuBackend.load(huge, { context: ctx, checkF16Range: true });
      try {
        assert.equal(plain.runner.weightsOutsideF16, 0);
        assert.equal(be.runner.weightsOutsideF16, 2);
        // Wherever the device's GEMMs would run on the tensor cores, this model's do not.
        assert.equal(be.gemmKernel, 'f32');
        const cpu = await CpuBackend.load(huge);
        const tokens = fx.reference.tokens;
        const want = await cpu.forwardAll(cpu.createState(), tokens);
        const got = await be.forwardAll(be.createState(), tokens);
        got.forEach((row, t) => {
          assert.ok(relDiff(row, want[t]) <= 1e-3, `token ${t}: ${relDiff(row, want[t])} vs CPU`);
        });
      } finally {
        await plain.dispose();
        await be.dispose();
      }
    } finally {
      await ck.close();
    }
  });
});
