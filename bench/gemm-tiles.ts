// Tiled matmul sweep: every tile shape and K split of kernels/matmul-tiled.wgsl on the matrix
// shapes of a model's step (time-mix projections, att.output, ffn.key, ffn.value, head) at
// several row counts, timed with GPU timestamps. Prints one JSON line per (matrix, M): the
// plan gemm-shape.ts picks, the fastest plan measured, and a copy of the previous kernel when
// the bundle carries it as kernels/matmul-tiled-base.wgsl. Every plan's output is checked on
// sampled elements against a float64 product first.
// Caveat (H100, 2026-11-23): runs shorter than ~0.5 ms varied up to 5× between calls and
// between neighbouring plans (the GPU drops to 345 MHz whenever it idles, and the check and
// readback between plans idle it); trust the large shapes, and bench/gpu.ts --profile for the
// small ones.
//   node --import tsx bench/gemm-tiles.ts --sizes 2.9B --rows 32,128,1024
import { parseArgs } from 'node:util';
import { createGpuContext } from '../src/backends/webgpu/device.js';
import {
  chooseGemmPlan,
  GEMM_TILES,
  gemmPasses,
  jobSegments,
  tileBytes,
  type GemmPass,
  type GemmPlan,
} from '../src/backends/webgpu/gemm-shape.js';
import {
  buildMatmulDispatches,
  OP_STORE,
  type MatmulTerm,
} from '../src/backends/webgpu/matmul-jobs.js';
import { Pipelines } from '../src/backends/webgpu/pipelines.js';
import type { PlacedMatrix } from '../src/backends/webgpu/weight-layout.js';
import { standardConfig, type StandardSize } from '../src/model/synthetic.js';

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '2.9B' },
    rows: { type: 'string', default: '32,128,1024' },
    reps: { type: 'string', default: '7' },
    all: { type: 'boolean', default: false },
    /** Other kernel files (copies carried in the bundle) timed on a few plans for comparison. */
    variants: { type: 'string', default: '' },
    matrices: { type: 'string', default: 'proj,out,ffn-key,ffn-value,head' },
  },
});
const SCRATCH_FLOATS = 1 << 22; // what act-layout.ts gives the runner
const ctx = await createGpuContext({
  timestamps: true,
  dawnFlags: ['disable-dawn-features=timestamp_quantization'],
});
if (!ctx.caps.timestamps) throw new Error('this adapter has no timestamp queries');
const device = ctx.device;
const P = new Pipelines(ctx, 'bf16');
const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
const upload = (data: ArrayBufferView, u = usage) => {
  const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage: u });
  device.queue.writeBuffer(b, 0, data as ArrayBufferView<ArrayBuffer>);
  return b;
};

function randomBf16(n: number): Uint16Array {
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    out[i] =
      ((Math.random() < 0.5 ? 0x8000 : 0) | ((120 + ((Math.random() * 8) | 0)) << 7)) +
      ((Math.random() * 128) | 0);
  }
  return out;
}
const bf16 = (b: number) => new Float32Array(new Uint32Array([b << 16]).buffer)[0];

/**
 * Median µs per run of `passes`: `warm` untimed runs first (the H100 idles at 345 MHz and needs
 * tens of ms of work to reach its boost clock), then `reps` runs, each in its own compute pass.
 * Only end-of-pass stamps are used, a run being end(i) − end(i − 1): a start stamp may be
 * taken before the previous pass has drained, which would make runs overlap.
 */
async function timePasses(
  bind: GPUBindGroup,
  passes: GemmPass[],
  warm: number,
  reps: number,
): Promise<number> {
  const qs = device.createQuerySet({ type: 'timestamp', count: reps + 1 });
  const bytes = 8 * (reps + 1);
  const res = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const read = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  for (let r = -1; r < reps; r++) {
    const pass = enc.beginComputePass({
      timestampWrites: { querySet: qs, endOfPassWriteIndex: r + 1 },
    });
    for (let w = 0; w < (r < 0 ? warm : 1); w++) {
      for (const p of passes) {
        pass.setPipeline(p.pipeline);
        pass.setBindGroup(0, bind);
        pass.dispatchWorkgroups(...p.grid);
      }
    }
    pass.end();
  }
  enc.resolveQuerySet(qs, 0, reps + 1, res, 0);
  enc.copyBufferToBuffer(res, 0, read, 0, bytes);
  device.queue.submit([enc.finish()]);
  await ctx.wait(read.mapAsync(GPUMapMode.READ));
  const t = new BigUint64Array(read.getMappedRange().slice(0));
  read.unmap();
  [qs, res, read].forEach((b) => b.destroy());
  const us = Array.from({ length: reps }, (_, r) => Number(t[r + 1] - t[r]) / 1000);
  us.sort((a, b) => a - b);
  return us[us.length >> 1];
}

/** Times a plan after ~50 ms of warm-up runs. */
async function timeWarm(bind: GPUBindGroup, passes: GemmPass[], reps: number): Promise<number> {
  const estimate = await timePasses(bind, passes, 1, 3);
  return timePasses(bind, passes, Math.min(400, Math.ceil(50000 / estimate)), reps);
}

for (const size of args.sizes.split(',') as StandardSize[]) {
  const cfg = standardConfig(size);
  const C = cfg.nEmbd;
  const F = cfg.ffnDim;
  const L = cfg.lora;
  const shapes: { name: string; n: number[]; k: number }[] = [
    { name: 'proj', n: [C, C, C, L.decay, L.iclr, L.gate, L.valueResidual], k: C },
    { name: 'out', n: [C], k: C },
    { name: 'ffn-key', n: [F], k: C },
    { name: 'ffn-value', n: [C], k: F },
    { name: 'head', n: [cfg.vocabSize], k: C },
  ];
  const maxRows = Math.max(...args.rows.split(',').map(Number));
  for (const shape of shapes.filter((s) => args.matrices.split(',').includes(s.name))) {
    const nTotal = shape.n.reduce((a, b) => a + b, 0);
    const kVec = shape.k / 8;
    const wBits = randomBf16(nTotal * shape.k);
    const wBuf = upload(new Uint32Array(wBits.buffer));
    const xFloats = maxRows * shape.k;
    const yOff = xFloats;
    const scratch = yOff + maxRows * nTotal;
    const x = new Float32Array(xFloats).map(() => Math.random() * 2 - 1);
    const actBuf = device.createBuffer({ size: (scratch + SCRATCH_FLOATS) * 4, usage });
    device.queue.writeBuffer(actBuf, 0, x);
    let row = 0;
    const terms: MatmulTerm[] = shape.n.map((n, i) => {
      const m: PlacedMatrix = {
        name: `${shape.name}${i}`,
        transpose: false,
        rows: n,
        cols: shape.k,
        kVec,
        parts: [{ arena: 0, vecOffset: row * kVec, firstRow: 0, rows: n }],
      };
      const t = {
        m,
        xOff: 0,
        xStride: shape.k,
        yOff: yOff + row,
        yStride: nTotal,
        op: OP_STORE,
        mSel: 0 as const,
      };
      row += n;
      return t;
    });
    const [job] = buildMatmulDispatches(terms, 8);
    const table = upload(job.table);
    for (const M of args.rows.split(',').map(Number)) {
      if (shape.name === 'head' && M > 128) continue; // prefill wants one row of logits
      const stepBuf = upload(
        Uint32Array.from([M, M, 0, 0]),
        GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      );
      const bind = device.createBindGroup({
        layout: P.layouts.matmul,
        entries: [actBuf, wBuf, table, stepBuf].map((buffer, binding) => ({
          binding,
          resource: { buffer },
        })),
      });
      const flop = 2 * M * nTotal * shape.k;
      const reps = Number(args.reps);
      const tflops = (us: number) => Math.round((flop / us / 1e6) * 10) / 10;
      const chosen = chooseGemmPlan(M, M, jobSegments(job, 8), job.paddedRows, {
        maxWorkgroupStorage: ctx.caps.maxWorkgroupStorage,
        scratchFloats: SCRATCH_FLOATS,
      });
      const key = (p: GemmPlan) =>
        `${p.tile.ty * p.tile.tm}x${(256 / p.tile.ty) * p.tile.tn}/${p.splits}`;
      const plans: GemmPlan[] = [chosen];
      for (const tile of GEMM_TILES) {
        if (tileBytes(tile) > ctx.caps.maxWorkgroupStorage) continue;
        for (const splits of [1, 2, 3, 4, 6, 8, 12]) {
          if (splits > 1 && shape.k / splits < 128) break;
          if (splits > 1 && splits * M * job.paddedRows > SCRATCH_FLOATS) break;
          if (args.all || splits <= 4 || M <= 256) plans.push({ tile, splits });
        }
      }
      const results: Record<string, number> = {};
      let worstErr = 0;
      for (const plan of plans) {
        if (key(plan) in results) continue;
        const passes = await gemmPasses(P, job, M, false, plan, scratch);
        // Check sampled outputs (poisoned first) against float64.
        device.queue.writeBuffer(actBuf, yOff * 4, new Float32Array(M * nTotal).fill(NaN));
        await timePasses(bind, passes, 0, 1);
        const read = device.createBuffer({
          size: M * nTotal * 4,
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        });
        const enc = device.createCommandEncoder();
        enc.copyBufferToBuffer(actBuf, yOff * 4, read, 0, M * nTotal * 4);
        device.queue.submit([enc.finish()]);
        await ctx.wait(read.mapAsync(GPUMapMode.READ));
        const y = new Float32Array(read.getMappedRange().slice(0));
        read.unmap();
        read.destroy();
        for (let s = 0; s < 64; s++) {
          const m = (Math.random() * M) | 0;
          const n = (Math.random() * nTotal) | 0;
          let sum = 0;
          let abs = 0;
          for (let k = 0; k < shape.k; k++) {
            const p = x[m * shape.k + k] * bf16(wBits[n * shape.k + k]);
            sum += p;
            abs += Math.abs(p);
          }
          const err = Math.abs(y[m * nTotal + n] - sum) / abs;
          if (!(err < 1e-4))
            throw new Error(
              `${size} ${shape.name} M=${M} ${key(plan)}: y[${m}][${n}] = ${y[m * nTotal + n]}, want ${sum}`,
            );
          worstErr = Math.max(worstErr, err);
        }
        results[key(plan)] = tflops(await timeWarm(bind, passes, reps));
      }
      for (const variant of args.variants.split(',').filter((v) => v)) {
        const few = [chosen, ...plans.filter((p) => p.splits === 1 && p.tile.tn === 4)];
        for (const plan of few) {
          const passes = await gemmPasses(P, job, M, false, plan, scratch, variant);
          results[`${variant}:${key(plan)}`] = tflops(await timeWarm(bind, passes, reps));
        }
      }
      const base = await P.get('matmul-tiled-base', 'matmul', { TO_LOGITS: false }).catch(
        () => null,
      );
      let baseTflops: number | null = null;
      if (base) {
        const grid: [number, number, number] = [job.paddedRows / 64, Math.ceil(M / 64), 1];
        baseTflops = tflops(await timeWarm(bind, [{ pipeline: base, grid, suffix: '' }], reps));
      }
      const ranked = Object.entries(results).sort((a, b) => b[1] - a[1]);
      console.log(
        JSON.stringify({
          size,
          matrix: shape.name,
          M,
          N: nTotal,
          K: shape.k,
          gflop: Math.round(flop / 1e6) / 1e3,
          baseTflops,
          chosen: key(chosen),
          chosenTflops: results[key(chosen)],
          best: ranked.slice(0, 4),
          all: results,
          worstRelErr: worstErr,
        }),
      );
      stepBuf.destroy();
    }
    [wBuf, actBuf, table].forEach((b) => b.destroy());
  }
}
ctx.destroy();
