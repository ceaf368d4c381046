// The single-token GEMV with LayerNorm + token-shift mix (kernels/matvec-ln.wgsl), run directly
// for every work split it may be given, against a float64 reference: two segments with
// different mix vectors and output ops, row counts that divide no split, and rows long enough
// for several load batches (K = 1160: 145 vec4 of bf16, batches of 128).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { bf16ToF32, f32ToBf16 } from '../../src/io/dtype.js';
import {
  singleGemvDefines,
  type SingleGemvShape,
} from '../../src/backends/webgpu/dispatch-shape.js';
import { buildMatmulDispatches, OP_ADD, OP_STORE } from '../../src/backends/webgpu/matmul-jobs.js';
import { Pipelines } from '../../src/backends/webgpu/pipelines.js';
import type { PlacedMatrix } from '../../src/backends/webgpu/weight-layout.js';
import type { RwkvConfig } from '../../src/model/config.js';
import { gpu, submitAndRead } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

const C = 1160;
const ROWS = [70, 13];

function random(n: number, seed: number, lo: number, hi: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return lo + (a / 2 ** 32) * (hi - lo);
  });
}

describe('matvec-ln (single-token GEMV with LayerNorm folded in)', () => {
  // One row per group; two rows in flight; the splits the backend picks at C = 2560 and 4096.
  const splits: SingleGemvShape[] = [
    { rpw: 8, r: 1, u: 4 },
    { rpw: 16, r: 2, u: 4 },
    { rpw: 64, r: 2, u: 4 },
    { rpw: 64, r: 4, u: 4 },
  ];
  for (const split of splits) {
    it(`${split.rpw} rows per workgroup, ${split.r} in flight, ${split.u} loads: matches float64`, async () => {
      const ctx = await gpu();
      const device = ctx.device;
      const P = new Pipelines(ctx, 'bf16');
      // Weights rounded to bf16 once; the reference uses the rounded values.
      const w = ROWS.map((n, s) => bf16ToF32(f32ToBf16(random(n * C, 10 + s, -0.05, 0.05))));
      const x = random(C, 3, -2, 3);
      const lnW = random(C, 4, 0.5, 1.5);
      const lnB = random(C, 5, -0.2, 0.2);
      const mu = [random(C, 6, 0, 1), random(C, 7, 0, 1)];
      const shift = random(C, 8, -1, 1);
      const yInit = random(ROWS[1], 9, -1, 1);

      // act: x [C] | y0 [70] | gap [2] | y1 [13] | gap | scratch [C]
      const Y0 = C;
      const Y1 = Y0 + ROWS[0] + 2;
      const SCR = Math.ceil((Y1 + ROWS[1] + 2) / 4) * 4;
      const act = new Float32Array(SCR + C).fill(NaN);
      act.set(x, 0);
      act.set(yInit, Y1);
      const kVec = C / 8;
      const matrices: PlacedMatrix[] = ROWS.map((n, s) => ({
        name: `m${s}`,
        transpose: false,
        rows: n,
        cols: C,
        kVec,
        parts: [{ arena: 0, vecOffset: s === 0 ? 0 : ROWS[0] * kVec, firstRow: 0, rows: n }],
      }));
      const [job] = buildMatmulDispatches(
        [
          {
            m: matrices[0],
            xOff: 0,
            xStride: C,
            yOff: Y0,
            yStride: ROWS[0],
            op: OP_STORE,
            mSel: 0,
            mix: 2 * C,
          },
          {
            m: matrices[1],
            xOff: 0,
            xStride: C,
            yOff: Y1,
            yStride: ROWS[1],
            op: OP_ADD,
            mSel: 0,
            mix: 3 * C,
          },
        ],
        8,
      );
      const wts = new Uint16Array([...f32ToBf16(w[0]), ...f32ToBf16(w[1])]);

      const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
      const make = (data: ArrayBufferView, extra = 0, u = usage) => {
        const b = device.createBuffer({
          size: Math.ceil(data.byteLength / 16) * 16,
          usage: u | extra,
        });
        device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
        return b;
      };
      const uniform = GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST;
      const actBuf = make(act);
      const buffers = [
        actBuf,
        make(wts),
        make(job.table),
        make(Uint32Array.from([1, 1, 0, 0]), 0, uniform),
        make(Float32Array.from([...lnW, ...lnB, ...mu[0], ...mu[1]])),
        make(shift),
        make(Uint32Array.from([0, 0, 0, 0])),
        make(Uint32Array.from([0, 0, C, 0, 0, SCR, 0, 0]), 0, uniform),
      ];
      const config = { nEmbd: C } as RwkvConfig;
      const pipeline = await P.get('matvec-ln', 'matmulLn', singleGemvDefines(config, split));
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          layout: P.layouts.matmulLn,
          entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
        }),
      );
      pass.dispatchWorkgroups(job.paddedRows / split.rpw);
      pass.end();
      const got = new Float32Array(await submitAndRead(ctx, enc, actBuf, act.byteLength));
      for (const b of buffers) b.destroy();

      // Reference in float64: two-pass LayerNorm (eps 1e-5), mix, products.
      const mean = x.reduce((s, v) => s + v, 0) / C;
      const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / C;
      const xx = Array.from(
        x,
        (v, k) => ((v - mean) / Math.sqrt(variance + 1e-5)) * lnW[k] + lnB[k],
      );
      for (let k = 0; k < C; k++) {
        assert.ok(Math.abs(got[SCR + k] - xx[k]) <= 1e-5, `scratch LN(x)[${k}]`);
      }
      for (const [s, n] of ROWS.entries()) {
        const input = xx.map((v, k) => v + (shift[k] - v) * mu[s][k]);
        for (let r = 0; r < n; r++) {
          let want = s === 1 ? yInit[r] : 0;
          for (let k = 0; k < C; k++) want += w[s][r * C + k] * input[k];
          const at = (s === 0 ? Y0 : Y1) + r;
          assert.ok(
            Math.abs(got[at] - want) <= 1e-4 * (1 + Math.abs(want)),
            `segment ${s} row ${r}: ${got[at]} vs ${want}`,
          );
        }
        // Nothing written past the segment's rows (the gap keeps its NaN poison).
        const end = (s === 0 ? Y0 : Y1) + n;
        assert.ok(
          Number.isNaN(got[end]) && Number.isNaN(got[end + 1]),
          `segment ${s}: wrote past its rows`,
        );
      }
    });
  }
});
