// The tiled matmul (kernels/matmul-tiled.wgsl) in every tile shape, with and without split-K
// (kernels/matmul-reduce.wgsl), for each weight format, against a float64 reference on fresh
// random inputs. Shapes are awkward on purpose: segments whose rows are not multiples of any
// tile, K that splits unevenly, M spanning two row tiles, all three output ops, logits.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  chooseGemmPlan,
  GEMM_TILES,
  gemmPasses,
  tileBytes,
  type GemmPlan,
} from '../../src/backends/webgpu/gemm-shape.js';
import {
  buildMatmulDispatches,
  OP_ADD,
  OP_RELU_SQ,
  OP_STORE,
  type MatmulTerm,
} from '../../src/backends/webgpu/matmul-jobs.js';
import { Pipelines } from '../../src/backends/webgpu/pipelines.js';
import {
  elementsPerVec,
  type PlacedMatrix,
  type WeightFormat,
} from '../../src/backends/webgpu/weight-layout.js';
import { encodePasses, gpu, submitAndRead } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

/** Random 16-bit floats as raw bits (sign, exponent near 1, any mantissa) and their values. */
function random16(format: 'bf16' | 'f16', n: number): { bits: Uint16Array; values: number[] } {
  const bits = new Uint16Array(n);
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const sign = Math.random() < 0.5 ? 1 : -1;
    if (format === 'bf16') {
      const e = 120 + Math.floor(Math.random() * 9); // 2^-7 .. 2^1
      const man = Math.floor(Math.random() * 128);
      bits[i] = (sign < 0 ? 0x8000 : 0) | (e << 7) | man;
      values.push(sign * 2 ** (e - 127) * (1 + man / 128));
    } else {
      const e = 8 + Math.floor(Math.random() * 9); // 2^-7 .. 2^1
      const man = Math.floor(Math.random() * 1024);
      bits[i] = (sign < 0 ? 0x8000 : 0) | (e << 10) | man;
      values.push(sign * 2 ** (e - 15) * (1 + man / 1024));
    }
  }
  return { bits, values };
}

interface Case {
  format: WeightFormat;
  m: number;
  k: number;
  /** Output rows of each segment and its op. */
  segs: { n: number; op: number }[];
  logits: boolean;
}

async function runCase(c: Case, plans: GemmPlan[]): Promise<void> {
  const ctx = await gpu();
  const device = ctx.device;
  const P = new Pipelines(ctx, c.format);
  const epv = elementsPerVec(c.format);
  const kVec = c.k / epv;
  // Weights: the segments' matrices one after another.
  const wRows = c.segs.reduce((n, s) => n + s.n, 0);
  const w: number[] = [];
  const wWords = new Uint32Array(wRows * kVec * 4);
  if (c.format === 'f32') {
    const f = new Float32Array(wWords.buffer);
    for (let i = 0; i < f.length; i++) w.push((f[i] = Math.fround(Math.random() * 2 - 1)));
  } else {
    const r = random16(c.format, wRows * c.k);
    new Uint16Array(wWords.buffer).set(r.bits);
    w.push(...r.values);
  }
  // Activations: X [m][xStride], then Y [m][yStride] (all segments side by side), scratch.
  const xStride = c.k + 8;
  const yStride = wRows + 4;
  const xOff = 0;
  const yOff = c.m * xStride;
  const scratch = yOff + c.m * yStride + 4;
  const scratchFloats = 8 * c.m * (wRows + 64 * c.segs.length);
  const act = new Float32Array(scratch + scratchFloats);
  for (let i = 0; i < yOff; i++) act[i] = Math.random() * 2 - 1;
  for (let i = yOff; i < act.length; i++) act[i] = Math.random() * 2 - 1;
  const outRows = c.logits ? Math.max(1, c.m - 5) : c.m;
  const terms: MatmulTerm[] = [];
  let row = 0;
  c.segs.forEach((s, i) => {
    const m: PlacedMatrix = {
      name: `seg${i}`,
      transpose: false,
      rows: s.n,
      cols: c.k,
      kVec,
      parts: [{ arena: 0, vecOffset: row * kVec, firstRow: 0, rows: s.n }],
    };
    terms.push({
      m,
      xOff,
      xStride,
      yOff: (c.logits ? 0 : yOff) + row,
      yStride,
      op: s.op,
      mSel: c.logits ? 1 : 0,
    });
    row += s.n;
  });
  const [job] = buildMatmulDispatches(terms, epv);
  assert.ok(job.tileableK);
  const make = (data: ArrayBufferView, usage: number) => {
    const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage });
    device.queue.writeBuffer(b, 0, data as ArrayBufferView<ArrayBuffer>);
    return b;
  };
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const wBuf = make(wWords, storage);
  const table = make(job.table, storage);
  const stepBuf = make(
    Uint32Array.from([c.m, outRows, 0, 0]),
    GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  );
  const logitsFloats = outRows * yStride;
  // Reference in float64 (ops applied to the f32 initial values of Y).
  const ref = new Float64Array(c.m * yStride).fill(NaN);
  const bound = new Float64Array(c.m * yStride);
  const rowsOut = c.logits ? outRows : c.m;
  row = 0;
  for (const s of c.segs) {
    for (let mm = 0; mm < rowsOut; mm++) {
      for (let n = 0; n < s.n; n++) {
        let sum = 0;
        let abs = 0;
        for (let k = 0; k < c.k; k++) {
          const p = act[xOff + mm * xStride + k] * w[(row + n) * c.k + k];
          sum += p;
          abs += Math.abs(p);
        }
        const yi = mm * yStride + row + n;
        // Worst-case f32 summation error (K terms, plus the split-K sum and the op's rounding).
        const sumErr = (c.k + 8) * 2 ** -24 * abs;
        if (s.op === OP_RELU_SQ) {
          const r = Math.max(sum, 0);
          ref[yi] = r * r;
          bound[yi] = (2 * r + sumErr) * sumErr + r * r * 2 ** -22 + 1e-30;
        } else if (s.op === OP_ADD && !c.logits) {
          const y0 = act[yOff + yi];
          ref[yi] = sum + y0;
          bound[yi] = sumErr + Math.abs(sum + y0) * 2 ** -23 + 1e-30;
        } else {
          ref[yi] = sum;
          bound[yi] = sumErr + 1e-30;
        }
      }
    }
    row += s.n;
  }
  for (const plan of plans) {
    const actBuf = make(act, storage);
    const logitsBuf = make(new Float32Array(logitsFloats).fill(NaN), storage);
    const layout = c.logits ? P.layouts.matmulLogits : P.layouts.matmul;
    const entries = [actBuf, wBuf, table, stepBuf, ...(c.logits ? [logitsBuf] : [])].map(
      (buffer, binding) => ({ binding, resource: { buffer } }),
    );
    const bindGroup = device.createBindGroup({ layout, entries });
    const passes = await gemmPasses(P, job, rowsOut, c.logits, plan, scratch);
    const enc = device.createCommandEncoder();
    encodePasses(enc, passes, bindGroup);
    const got = new Float32Array(await submitAndRead(ctx, enc, c.logits ? logitsBuf : actBuf));
    const what = `${c.format} m=${c.m} k=${c.k} tile ${JSON.stringify(plan.tile)} ×${plan.splits}`;
    const base = c.logits ? 0 : yOff;
    for (let mm = 0; mm < (c.logits ? outRows : c.m); mm++) {
      for (let j = 0; j < yStride; j++) {
        const g = got[base + mm * yStride + j];
        const r = ref[mm * yStride + j];
        if (Number.isNaN(r)) {
          // Not an output: must be untouched (the poisoned logits stay NaN).
          const before = c.logits ? NaN : act[yOff + mm * yStride + j];
          assert.ok(Object.is(g, before), `${what}: wrote outside the outputs at ${mm},${j}`);
        } else {
          const err = Math.abs(g - r);
          assert.ok(err <= bound[mm * yStride + j], `${what}: y[${mm}][${j}] ${g} vs ${r}`);
        }
      }
    }
    for (const b of [actBuf, logitsBuf]) b.destroy();
  }
  for (const b of [wBuf, table, stepBuf]) b.destroy();
}

describe('tiled matmul kernels', () => {
  const segs = [
    { n: 70, op: OP_STORE },
    { n: 130, op: OP_ADD },
    { n: 40, op: OP_RELU_SQ },
  ];

  it('every tile shape, one split and uneven splits of K, bf16 weights', async () => {
    const limit = (await gpu()).caps.maxWorkgroupStorage;
    const tiles = GEMM_TILES.filter((t) => tileBytes(t) <= limit);
    assert.ok(tiles.length >= 3, 'the device fits most tile shapes');
    const plans = tiles.flatMap((tile) => [1, 4].map((splits) => ({ tile, splits })));
    await runCase({ format: 'bf16', m: 137, k: 96, segs, logits: false }, plans);
  });

  it('f16 and f32 weights, a few rows, more splits than some K ranges need', async () => {
    const plans = [
      { tile: GEMM_TILES[0], splits: 3 },
      { tile: GEMM_TILES[GEMM_TILES.length - 1], splits: 1 },
    ];
    await runCase({ format: 'f16', m: 9, k: 64, segs, logits: false }, plans);
    await runCase({ format: 'f32', m: 45, k: 32, segs, logits: false }, plans);
  });

  it('writes logits (rows from the logit count) with and without split-K', async () => {
    const plans = [
      { tile: GEMM_TILES[1], splits: 1 },
      { tile: GEMM_TILES[1], splits: 2 },
    ];
    await runCase(
      { format: 'bf16', m: 21, k: 128, segs: [{ n: 300, op: OP_STORE }], logits: true },
      plans,
    );
  });

  it('plans fit the workgroup memory and scratch they are given, and fill a large GPU', () => {
    const segsFfnValue = [{ n: 2560, k: 10240 }];
    for (const [m, storage, scratch] of [
      [128, 32768, 1 << 22],
      [128, 16384, 1 << 22],
      [1024, 32768, 1 << 22],
      [16, 32768, 0],
      [300, 16384, 1 << 16],
    ]) {
      const plan = chooseGemmPlan(m, m, segsFfnValue, 2560, {
        maxWorkgroupStorage: storage,
        scratchFloats: scratch,
      });
      assert.ok(tileBytes(plan.tile) <= storage, `m=${m}: tile fits ${storage} bytes`);
      if (plan.splits > 1) assert.ok(plan.splits * m * 2560 <= scratch, `m=${m}: scratch`);
    }
    // At batch 128 the 2 560-row ffn.value gives 20 tiles of 128×128: it must be split.
    const p = chooseGemmPlan(128, 128, segsFfnValue, 2560, {
      maxWorkgroupStorage: 32768,
      scratchFloats: 1 << 22,
    });
    assert.ok(p.splits > 1, JSON.stringify(p));
  });
});
