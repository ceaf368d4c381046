// The tensor-core GEMM (sgm-gemm.ts, sgm-source.ts, kernels/matmul-sgm.wgsl): the gate that
// decides where it runs, the Dawn flags it needs, its tile and split choice, the kernel's
// template in every variant, and its results against a float64 reference for every output op,
// X activations and split-K: on a device that passes the gate, and everywhere with the matrix
// products emulated (kernels/sgm-emulate.wgsl).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  NO_ROBUSTNESS_TOGGLES,
  withDawnToggles,
  withTensorCoreFlags,
} from '../../src/backends/webgpu/dawn-flags.js';
import {
  buildMatmulDispatches,
  OP_ADD,
  OP_RELU_SQ,
  OP_STORE,
  X_SIGMOID,
  X_TANH,
  type MatmulTerm,
} from '../../src/backends/webgpu/matmul-jobs.js';
import { Pipelines } from '../../src/backends/webgpu/pipelines.js';
import {
  chooseSgmPlan,
  SGM_TILE_RATE,
  sgmPasses,
  sgmShape,
  sgmSuits,
  sgmUnavailable,
  type SgmDeviceInfo,
  type SgmInput,
} from '../../src/backends/webgpu/sgm-gemm.js';
import {
  sgmDefines,
  sgmTileBytes,
  sgmTileCols,
  sgmTileRows,
  type SgmTile,
} from '../../src/backends/webgpu/sgm-source.js';
import { tiledPasses } from '../../src/backends/webgpu/gemm-shape.js';
import type { GpuContext } from '../../src/backends/webgpu/device.js';
import { loadKernel } from '../../src/backends/webgpu/shader-source.js';
import type { PlacedMatrix } from '../../src/backends/webgpu/weight-layout.js';
import { encodePasses, gpu, submitAndRead } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

const h100: SgmDeviceInfo = {
  subgroups: true,
  shaderF16: true,
  subgroupMatrixF16: true,
  subgroupMinSize: 32,
  subgroupMaxSize: 32,
  maxWorkgroupStorage: 49152,
};
const limits = { maxWorkgroupStorage: 49152, scratchFloats: 1 << 22 };
const padded = (segs: { n: number }[]) => segs.reduce((r, s) => r + Math.ceil(s.n / 64) * 64, 0);

describe('tensor-core GEMM: gate, flags and plans', () => {
  it('runs only with f16 matrices, subgroups of exactly 32 and 16-bit weights', () => {
    assert.equal(sgmUnavailable(h100, 'bf16'), null);
    assert.equal(sgmUnavailable(h100, 'f16'), null);
    assert.match(sgmUnavailable(h100, 'f32')!, /f32 weights/);
    // A model with bf16 weights f16 cannot hold keeps the f32 kernel (f16-range.ts).
    assert.match(sgmUnavailable(h100, 'bf16', 'split', 2)!, /2 bf16 weights beyond f16's range/);
    assert.match(sgmUnavailable(h100, 'bf16', 'f16', 1)!, /beyond f16's range/);
    assert.equal(sgmUnavailable(h100, 'bf16', 'f16', 0), null);
    assert.match(sgmUnavailable({ ...h100, shaderF16: false }, 'bf16')!, /shader-f16/);
    assert.match(sgmUnavailable({ ...h100, subgroupMatrixF16: false }, 'bf16')!, /16x16x16/);
    assert.match(sgmUnavailable({ ...h100, subgroups: false }, 'bf16')!, /subgroups/);
    // lavapipe reports 8; a device that may run 16..64 lanes must not pass either.
    const lvp = { ...h100, subgroupMinSize: 8, subgroupMaxSize: 8 };
    assert.match(sgmUnavailable(lvp, 'bf16')!, /subgroup size 8\.\.8/);
    const range = { ...h100, subgroupMinSize: 16, subgroupMaxSize: 64 };
    assert.match(sgmUnavailable(range, 'bf16')!, /not exactly 32/);
    assert.match(
      sgmUnavailable({ ...h100, maxWorkgroupStorage: 16384 }, 'bf16')!,
      /workgroup memory/,
    );
    // Without the lo tile X takes less workgroup memory: 36 KB serves only the f16 input.
    const kb36 = { ...h100, maxWorkgroupStorage: 36 * 1024 };
    assert.match(sgmUnavailable(kb36, 'bf16', 'split')!, /workgroup memory/);
    assert.equal(sgmUnavailable(kb36, 'bf16', 'f16'), null);
  });

  it('merges its Dawn toggles into the flags it is given', () => {
    const tog = 'enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia';
    assert.deepEqual(withTensorCoreFlags([]), [tog]);
    const other = 'disable-dawn-features=timestamp_quantization';
    assert.deepEqual(withTensorCoreFlags([other]), [other, tog]);
    assert.deepEqual(withTensorCoreFlags(['enable-dawn-features=foo,allow_unsafe_apis']), [
      'enable-dawn-features=foo,allow_unsafe_apis,vulkan_enable_f16_on_nvidia',
    ]);
    assert.deepEqual(withDawnToggles([tog], NO_ROBUSTNESS_TOGGLES), [`${tog},disable_robustness`]);
    assert.deepEqual(withDawnToggles([other], []), [other]);
  });

  it('keeps K below 64 on the f32 kernel, with either input', () => {
    // The LoRA up-projections (K = 64–224) gain from the tensor cores (bench/RESULTS.md).
    assert.equal(sgmSuits([{ k: 128 }, { k: 224 }]), true);
    assert.equal(sgmSuits([{ k: 32 }, { k: 64 }]), true);
    assert.equal(sgmSuits([{ k: 32 }]), false);
  });

  it('plans 2.9B shapes: full tiles at prefill, split K where the grid is small', () => {
    const proj = [2560, 2560, 2560, 2560].map((n) => ({ n, k: 2560 }));
    const big = chooseSgmPlan(1024, 1024, proj, padded(proj), limits, 'split');
    assert.equal(sgmTileRows(big.tile), 128);
    assert.equal(big.splits, 1);
    const value = [{ n: 2560, k: 10240 }];
    const dec = chooseSgmPlan(128, 128, value, padded(value), limits, 'split');
    assert.ok(dec.splits > 1, `ffn.value at M = 128: ${dec.splits} splits`);
    // The scratch bounds the splits: partials of every row for every padded output row.
    const tight = { ...limits, scratchFloats: 2 * 128 * 2560 };
    assert.ok(chooseSgmPlan(128, 128, value, padded(value), tight, 'split').splits <= 2);
    // Every candidate fits the H100's 48 KB; with less, only tiles that fit are chosen.
    for (const { tile } of SGM_TILE_RATE.split) assert.ok(sgmTileBytes(tile, true) <= 49152);
    for (const { tile } of SGM_TILE_RATE.f16) assert.ok(sgmTileBytes(tile, false) <= 49152);
    const small = Math.min(...SGM_TILE_RATE.split.map((r) => sgmTileBytes(r.tile, true)));
    const p = chooseSgmPlan(
      1024,
      1024,
      proj,
      padded(proj),
      { ...limits, maxWorkgroupStorage: small },
      'split',
    );
    assert.equal(sgmTileBytes(p.tile, true), small);
    const none = { ...limits, maxWorkgroupStorage: 1024 };
    assert.throws(() => chooseSgmPlan(128, 128, value, padded(value), none, 'split'));
  });

  it('plans the f16 input with K steps of 64 where every K allows them', () => {
    const proj = [2560, 2560, 2560, 2560].map((n) => ({ n, k: 2560 }));
    const f16 = chooseSgmPlan(1024, 1024, proj, padded(proj), limits, 'f16');
    assert.equal(f16.tile.bk, 64);
    assert.equal(sgmTileRows(f16.tile), 128);
    // One segment with K a multiple of 32 but not 64: every tile of the dispatch steps by 32.
    const odd = [...proj, { n: 64, k: 2592 }];
    assert.equal(chooseSgmPlan(1024, 1024, odd, padded(odd), limits, 'f16').tile.bk, 32);
    // Every split keeps at least 8 K steps of its tile (att.output at batch 128: K = 2560).
    const out = [{ n: 2560, k: 2560 }];
    for (const m of [32, 128, 256]) {
      const p = chooseSgmPlan(m, m, out, padded(out), limits, 'f16');
      assert.ok(
        2560 / p.splits >= 8 * p.tile.bk,
        `M = ${m}: ${p.splits} splits of BK ${p.tile.bk}`,
      );
    }
  });

  it('writes out one product per accumulator and k step (two with the hi/lo split)', async () => {
    for (const { tile } of [...SGM_TILE_RATE.split, ...SGM_TILE_RATE.f16]) {
      for (const xSplit of [true, false]) {
        const d = sgmDefines(tile, xSplit);
        const mma = String(d.MMA).match(/subgroupMatrixMultiplyAccumulate/g)!.length;
        assert.equal(mma, tile.fm * tile.fn * (xSplit ? 2 : 1));
        for (const fmt of [{ W_F16: false }, { W_F16: true }]) {
          for (const v of [
            { TO_LOGITS: false, X_ACT: false },
            { TO_LOGITS: true, X_ACT: true },
          ]) {
            const code = await loadKernel('matmul-sgm', {
              ...d,
              ...fmt,
              ...v,
              SUBGROUPS: true,
              W32: false,
              SCRATCH: 0,
            });
            assert.match(code, /var acc0_0 = subgroup_matrix_result<f32, 16, 16>\(\);/);
            assert.doesNotMatch(code, /\{\{/);
          }
        }
      }
    }
  });
});

/**
 * The candidate tiles of `input`; emulated, on a device with less workgroup memory than a tile
 * needs (lavapipe: 32 KB), the same K steps and accumulators with fewer subgroups (the K step is
 * what the tiles differ in), else K steps of 16.
 */
function testedTiles(ctx: GpuContext, emulated: boolean, input: SgmInput): SgmTile[] {
  const xSplit = input === 'split';
  const fits = (t: SgmTile) => sgmTileBytes(t, xSplit) <= ctx.caps.maxWorkgroupStorage;
  return SGM_TILE_RATE[input].map(({ tile }) => {
    if (!emulated || fits(tile)) return tile;
    for (const smaller of [
      { ...tile, sgM: Math.max(1, tile.sgM / 2) },
      { ...tile, sgM: Math.max(1, tile.sgM / 2), sgN: Math.max(1, tile.sgN / 2) },
      { ...tile, bk: 16 as const },
    ]) {
      if (fits(smaller)) return smaller;
    }
    assert.fail(`no tile like ${JSON.stringify(tile)} fits`);
  });
}

/**
 * The kernel's outputs for a 3-segment job (every op, tanh / sigmoid X) at M = m, K = 576, each
 * candidate tile of `input`, one and three K splits, against float64. `emulated`: the
 * subgroup-matrix builtins replaced by kernels/sgm-emulate.wgsl (devices without them).
 */
async function checkAgainstFloat64(
  ctx: GpuContext,
  format: 'bf16' | 'f16',
  m: number,
  emulated: boolean,
  input: SgmInput,
): Promise<void> {
  const xSplit = input === 'split';
  const device = ctx.device;
  const P = new Pipelines(ctx, format);
  const k = 576;
  const kVec = k / 8;
  const segs = [
    { n: 100, op: OP_STORE, xAct: X_TANH },
    { n: 300, op: OP_ADD, xAct: 0 },
    { n: 70, op: OP_RELU_SQ, xAct: X_SIGMOID },
  ];
  const wRows = segs.reduce((n, s) => n + s.n, 0);
  // Weights: random 16-bit values of magnitude 2^-7 .. 2^1 (exact in either format).
  const bits = new Uint16Array(wRows * k);
  const w = new Float64Array(wRows * k);
  for (let i = 0; i < bits.length; i++) {
    const sign = Math.random() < 0.5 ? -1 : 1;
    const e = -7 + Math.floor(Math.random() * 9);
    const man = Math.floor(Math.random() * 128);
    w[i] = sign * 2 ** e * (1 + man / 128);
    bits[i] =
      format === 'bf16'
        ? (sign < 0 ? 0x8000 : 0) | ((e + 127) << 7) | man
        : (sign < 0 ? 0x8000 : 0) | ((e + 15) << 10) | (man << 3);
  }
  const xStride = k + 4;
  const yStride = wRows + 4;
  const yOff = m * xStride;
  const scratch = yOff + m * yStride;
  const act = new Float32Array(scratch + 3 * m * padded(segs));
  for (let i = 0; i < scratch; i++) act[i] = Math.random() * 4 - 2;
  const terms: MatmulTerm[] = [];
  let row = 0;
  for (const [i, s] of segs.entries()) {
    const part = { arena: 0, vecOffset: row * kVec, firstRow: 0, rows: s.n };
    const mat: PlacedMatrix = {
      name: `s${i}`,
      transpose: false,
      rows: s.n,
      cols: k,
      kVec,
      parts: [part],
    };
    terms.push({
      m: mat,
      xOff: 0,
      xStride,
      yOff: yOff + row,
      yStride,
      op: s.op,
      mSel: 0,
      xAct: s.xAct,
    });
    row += s.n;
  }
  const [job] = buildMatmulDispatches(terms, 8);
  const xin = (v: number, a: number) =>
    a === X_TANH ? Math.tanh(v) : a === X_SIGMOID ? 1 / (1 + Math.exp(-v)) : v;
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const make = (data: ArrayBufferView, usage: number) => {
    const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage });
    device.queue.writeBuffer(b, 0, data as ArrayBufferView<ArrayBuffer>);
    return b;
  };
  const wBuf = make(bits, storage);
  const table = make(job.table, storage);
  const stepBuf = make(
    Uint32Array.from([m, m, 0, 0]),
    GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  );
  for (const tile of testedTiles(ctx, emulated, input)) {
    for (const splits of [1, 3]) {
      const actBuf = make(act, storage);
      const bindGroup = device.createBindGroup({
        layout: P.layouts.matmul,
        entries: [actBuf, wBuf, table, stepBuf].map((buffer, binding) => ({
          binding,
          resource: { buffer },
        })),
      });
      const passes = emulated
        ? await tiledPasses(P, job, m, false, scratch, sgmShape(tile, xSplit, true, true), splits)
        : await sgmPasses(P, job, m, false, { tile, splits }, scratch, xSplit, true);
      const enc = device.createCommandEncoder();
      encodePasses(enc, passes, bindGroup);
      const got = new Float32Array(await submitAndRead(ctx, enc, actBuf));
      let r0 = 0;
      for (const s of segs) {
        for (let mm = 0; mm < m; mm++) {
          for (let n = 0; n < s.n; n++) {
            let sum = 0;
            let abs = 0;
            for (let kk = 0; kk < k; kk++) {
              const p = xin(act[mm * xStride + kk], s.xAct) * w[(r0 + n) * k + kk];
              sum += p;
              abs += Math.abs(p);
            }
            const yi = yOff + mm * yStride + r0 + n;
            // X as hi + lo f16 halves: ~2^-22 of each product, plus f32 accumulation; X
            // rounded to f16: half a unit of its 11 bits, 2^-11 of each product.
            const err = (xSplit ? 2 ** -18 : 2 ** -11 + 2 ** -18) * abs + 1e-30;
            const y0 = act[yi];
            const r =
              s.op === OP_ADD ? sum + y0 : s.op === OP_RELU_SQ ? Math.max(sum, 0) ** 2 : sum;
            const bound =
              s.op === OP_RELU_SQ
                ? (2 * Math.max(sum, 0) + err) * err + 1e-30
                : err + Math.abs(r) * 2 ** -22;
            const what = `${format} ${input}${emulated ? ' (emulated)' : ''} tile ${sgmTileRows(tile)}×${sgmTileCols(tile)} bk ${tile.bk} ×${splits} op ${s.op} at ${mm},${n}`;
            assert.ok(Math.abs(got[yi] - r) <= bound, `${what}: ${got[yi]} vs ${r}`);
          }
        }
        r0 += s.n;
      }
    }
  }
}

describe('tensor-core GEMM on the device', async () => {
  const ctx = await gpu();
  const skip = ctx.caps.gemm === 'tensor-core' ? false : `GEMM here: ${ctx.caps.gemm}`;

  it('caps.gemm follows the gate', () => {
    assert.equal(ctx.caps.gemm === 'tensor-core', sgmUnavailable(ctx.caps, 'bf16') === null);
    assert.equal(ctx.caps.gemmInput, process.env.RWKV_WEBGPU_GEMM === 'f16' ? 'f16' : 'split');
  });

  for (const input of ['split', 'f16'] as const) {
    for (const format of ['bf16', 'f16'] as const) {
      it(
        `${format}, X ${input}: every op, X activations and split-K against float64`,
        { skip },
        () => checkAgainstFloat64(ctx, format, 200, false, input),
      );
    }
  }
});

// Everywhere (CI's lavapipe included): the same kernel text with the matrix products emulated,
// which checks its staging (hi/lo halves, bf16/f16 to f16), tiles, K splits and epilogue.
describe('tensor-core GEMM kernel, matrix products emulated', () => {
  it('needs shader-f16 (lavapipe has it)', async () => {
    const ctx = await gpu();
    assert.ok(ctx.caps.shaderF16, 'this device has no shader-f16: the emulated kernel cannot run');
  });
  for (const input of ['split', 'f16'] as const) {
    for (const format of ['bf16', 'f16'] as const) {
      it(`${format}, X ${input}: every op, X activations and split-K against float64`, async () =>
        checkAgainstFloat64(await gpu(), format, 40, true, input));
    }
  }
});
