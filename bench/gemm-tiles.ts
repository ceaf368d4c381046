// Tiled matmul sweep: every tile shape and K split of a GEMM kernel on the matrix shapes of a
// model's step (time-mix projections, att.output, ffn.key, ffn.value, head, and with --matrices
// lora-up the LoRA up-projections: four segments of their own K, X through tanh / sigmoid as
// the step reads it) at several row counts, timed with GPU timestamps. The kernel is the f32
// one (kernels/matmul-tiled.wgsl) or the tensor-core one (kernels/matmul-sgm.wgsl: its
// candidate tiles plus any --sgm-tiles);
// --kernel emulated runs the latter with its matrix builtins in plain WGSL (devices without
// them, e.g. lavapipe: checks the sweep, its times mean nothing). Prints one JSON line per
// (matrix, M): the plan the backend picks, the fastest plan measured, their TFLOP/s and ratio to
// the kernel's peak (--peak-f32, --peak-tensor: the H100 SXM's dense FP32 and FP16 figures; the
// tensor-core kernel takes every product twice, hi and lo half of X, so it can reach at most
// half of its peak; `--x-forms f32-round` times it with X rounded to one f16 instead), and for
// the f32 kernel a copy of the previous kernel when the bundle carries it as
// kernels/matmul-tiled-base.wgsl. Every plan's output is checked on sampled elements against a
// float64 product first. `--w-format f16` stores the random weights as f16 instead of bf16 (the
// tensor-core kernel then stages them without converting).
// The GPU drops to 345 MHz whenever it idles (H100), and the compile, check and readback
// between plans idle it: every plan runs back to back for at least 300 ms before it is timed.
//   node --import tsx bench/gemm-tiles.ts --sizes 2.9B --rows 32,128,1024
//   node --import tsx bench/gemm-tiles.ts --kernel tensor-core --sgm-tiles 2,4,4,4,32,1
import { parseArgs } from 'node:util';
import { actLayout } from '../src/backends/webgpu/act-layout.js';
import { createGpuContext } from '../src/backends/webgpu/device.js';
import {
  chooseGemmPlan,
  GEMM_TILES,
  gemmPasses,
  hasXAct,
  jobSegments,
  tileBytes,
  tiledPasses,
  type GemmLimits,
  type GemmPass,
  type GemmPlan,
} from '../src/backends/webgpu/gemm-shape.js';
import {
  buildMatmulDispatches,
  OP_STORE,
  X_AS_IS,
  X_SIGMOID,
  X_TANH,
  type MatmulDispatch,
  type MatmulTerm,
} from '../src/backends/webgpu/matmul-jobs.js';
import { Pipelines } from '../src/backends/webgpu/pipelines.js';
import {
  chooseSgmPlan,
  SGM_TILE_RATE,
  sgmShape,
  type SgmInput,
  type SgmPlan,
} from '../src/backends/webgpu/sgm-gemm.js';
import {
  sgmTileBytes,
  sgmTileCols,
  sgmTileRows,
  type SgmTile,
} from '../src/backends/webgpu/sgm-source.js';
import type { PlacedMatrix } from '../src/backends/webgpu/weight-layout.js';
import { bf16ToF32, f16ToF32 } from '../src/io/dtype.js';
import { standardConfig, type StandardSize } from '../src/model/synthetic.js';
import { helpText } from './usage.js';

// Each option's line of --help beside its parse rule (usage.ts).
const OPTIONS = {
  help: { type: 'boolean', short: 'h', default: false, help: 'this list' },
  sizes: { type: 'string', default: '2.9B', help: 'synthetic model shapes' },
  rows: { type: 'string', default: '32,128,1024', help: 'input rows M (tokens in a step)' },
  reps: { type: 'string', default: '7', help: 'timed runs per plan (median)' },
  all: { type: 'boolean', default: false, help: 'also K splits above 4 at M > 256' },
  splits: { type: 'string', default: '', help: 'only these K splits, e.g. 1,2 (default: all)' },
  variants: {
    type: 'string',
    default: '',
    help: 'f32: other kernel files carried in the bundle, timed on a few plans',
  },
  matrices: {
    type: 'string',
    default: 'proj,out,ffn-key,ffn-value,head',
    help: 'which of the step\u2019s matrix shapes (lora-up too, when named)',
  },
  kernel: {
    type: 'string',
    default: 'auto',
    help: 'auto (the backend\u2019s) | f32 | tensor-core | emulated',
  },
  gemm: {
    type: 'string',
    default: 'auto',
    help: 'the context\u2019s GEMM choice: auto | f16 (X rounded to f16, DeviceOptions.gemm)',
  },
  'unsafe-no-robustness': {
    type: 'boolean',
    default: false,
    help: "Dawn's bounds checks off in every kernel (dawn-flags.ts: opt-in only)",
  },
  'sgm-tiles': {
    type: 'string',
    default: '',
    help: 'extra tensor-core tiles "sgM,sgN,fm,fn,bk,stages;…"',
  },
  'x-forms': {
    type: 'string',
    default: '',
    help: 'tensor-core X forms: f32-split | f32-round (default: the context\u2019s, see --gemm)',
  },
  'w-format': {
    type: 'string',
    default: 'bf16',
    help: 'how the weights are stored: bf16 (checkpoints) | f16 (no conversion when staged)',
  },
  'peak-f32': { type: 'string', default: '67e12', help: 'FLOP/s of the f32 ratio (H100 SXM)' },
  'peak-tensor': {
    type: 'string',
    default: '989e12',
    help: 'FLOP/s of the tensor-core ratio (H100 SXM dense f16)',
  },
} as const;
const { values: args } = parseArgs({ options: OPTIONS });
if (args.help) {
  console.log(
    helpText('usage: bench/gemm-tiles.ts [options]   (one JSON line per matrix and M)', OPTIONS),
  );
  process.exit(0);
}
const ctx = await createGpuContext({
  timestamps: true,
  gemm: args.gemm as 'auto' | 'f16',
  robustness: !args['unsafe-no-robustness'],
  dawnFlags: ['disable-dawn-features=timestamp_quantization'],
});
if (!ctx.caps.timestamps) throw new Error('this adapter has no timestamp queries');
const device = ctx.device;
const wFormat = args['w-format'];
if (wFormat !== 'bf16' && wFormat !== 'f16') {
  throw new Error(`--w-format ${wFormat}: want bf16 or f16`);
}
const P = new Pipelines(ctx, wFormat);
const kernel =
  args.kernel === 'auto' ? (ctx.caps.gemm === 'tensor-core' ? 'tensor-core' : 'f32') : args.kernel;
if (!['f32', 'tensor-core', 'emulated'].includes(kernel)) {
  throw new Error(`--kernel ${args.kernel}: want auto, f32, tensor-core or emulated`);
}
if (kernel === 'tensor-core' && ctx.caps.gemm !== 'tensor-core') {
  throw new Error('--kernel tensor-core: this device has no f16 subgroup matrices (try emulated)');
}
const peak = Number(kernel === 'f32' ? args['peak-f32'] : args['peak-tensor']);
const extraTiles: SgmTile[] = args['sgm-tiles']
  .split(';')
  .filter((t) => t)
  .map((t) => {
    const [sgM, sgN, fm, fn, bk, stages] = t.split(',').map(Number);
    if (
      ![sgM, sgN, fm, fn].every((v) => v >= 1) ||
      ![16, 32, 64, 128].includes(bk) ||
      (stages !== 1 && stages !== 2)
    ) {
      throw new Error(`--sgm-tiles ${t}: want sgM,sgN,fm,fn,bk(16|32|64|128),stages(1|2)`);
    }
    return { sgM, sgN, fm, fn, bk, stages } as SgmTile;
  });

/** One GEMM kernel as the sweep sees it: the backend's plan, the candidates, their passes. */
interface SweptKernel<T> {
  chosen(M: number, segs: { n: number; k: number }[], padded: number, limits: GemmLimits): T | null;
  /** `kFit`: what every segment's K is a multiple of; `kMax`: the longest (for K splits). */
  candidates(M: number, kFit: number, kMax: number, padded: number, limits: GemmLimits): T[];
  key(plan: T): string;
  passes(job: MatmulDispatch, M: number, plan: T, scratch: number): Promise<GemmPass[]>;
}

const SPLITS = [1, 2, 3, 4, 6, 8, 12];
const onlySplits = args.splits ? args.splits.split(',').map(Number) : SPLITS;
const splitsFor = (M: number, K: number, padded: number, scratchFloats: number) =>
  SPLITS.filter(
    (s) =>
      onlySplits.includes(s) &&
      (s === 1 ||
        (K / s >= 128 && s * M * padded <= scratchFloats && (args.all || s <= 4 || M <= 256))),
  );

const f32Kernel: SweptKernel<GemmPlan> = {
  chosen: (M, segs, padded, limits) => chooseGemmPlan(M, M, segs, padded, limits),
  candidates: (M, _kFit, kMax, padded, limits) =>
    GEMM_TILES.filter((tile) => tileBytes(tile) <= limits.maxWorkgroupStorage).flatMap((tile) =>
      splitsFor(M, kMax, padded, limits.scratchFloats).map((splits) => ({ tile, splits })),
    ),
  key: (p) => `${p.tile.ty * p.tile.tm}x${(256 / p.tile.ty) * p.tile.tn}/${p.splits}`,
  passes: (job, M, plan, scratch) => gemmPasses(P, job, M, false, plan, scratch),
};

/**
 * How X reaches the tensor-core kernel: f32 split into hi + lo f16 halves as staged (the
 * backend's default, SgmInput 'split'), or rounded to one f16 ('f16': every product once; 1e-3
 * of Σ|x·w| instead of ~1e-7 per term), each with its own candidate tiles. X in f16 written by
 * its producer was measured no faster (bench/RESULTS.md, ninth session) and is not offered.
 */
type XForm = 'f32-split' | 'f32-round';
const X_FORMS: Record<XForm, { input: SgmInput }> = {
  'f32-split': { input: 'split' },
  'f32-round': { input: 'f16' },
};
const xForms = (args['x-forms'] || (ctx.caps.gemmInput === 'split' ? 'f32-split' : 'f32-round'))
  .split(',')
  .filter((f) => f) as XForm[];
for (const f of xForms) {
  if (!(f in X_FORMS)) throw new Error(`--x-forms ${f}: want ${Object.keys(X_FORMS).join(', ')}`);
}

const sgmKernel = (form: XForm): SweptKernel<SgmPlan> => {
  const { input } = X_FORMS[form];
  const split = input === 'split';
  return {
    chosen(M, segs, padded, limits) {
      try {
        return chooseSgmPlan(M, M, segs, padded, limits, input);
      } catch {
        return null; // no candidate tile fits this device's workgroup memory
      }
    },
    candidates: (M, kFit, kMax, padded, limits) =>
      [...SGM_TILE_RATE[input].map((r) => r.tile), ...extraTiles]
        .filter((tile) => sgmTileBytes(tile, split) <= limits.maxWorkgroupStorage)
        .filter((tile) => kFit % tile.bk === 0)
        .flatMap((tile) =>
          splitsFor(M, kMax, padded, limits.scratchFloats).map((splits) => ({ tile, splits })),
        ),
    key: (p) =>
      `${form}:${sgmTileRows(p.tile)}x${sgmTileCols(p.tile)}(${p.tile.sgM}x${p.tile.sgN}sg,bk${p.tile.bk},${p.tile.stages}st)/${p.splits}`,
    passes: (job, M, plan, scratch) =>
      tiledPasses(
        P,
        job,
        M,
        false,
        scratch,
        sgmShape(plan.tile, split, hasXAct(job), kernel === 'emulated'),
        plan.splits,
      ),
  };
};

const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
const upload = (data: ArrayBufferView, u = usage) => {
  const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage: u });
  device.queue.writeBuffer(b, 0, data as ArrayBufferView<ArrayBuffer>);
  return b;
};

/** Random weights of magnitude 2^-7 .. 1 with every mantissa bit of the format used. */
function randomWeights(n: number): Uint16Array {
  const out = new Uint16Array(n);
  // bf16: 7 mantissa bits, exponent bias 127; f16: 10 bits, bias 15.
  const [mant, bias] = wFormat === 'bf16' ? [7, 127] : [10, 15];
  for (let i = 0; i < n; i++) {
    const exp = bias - 7 + ((Math.random() * 8) | 0);
    const sign = Math.random() < 0.5 ? 0x8000 : 0;
    out[i] = sign | (exp << mant) | ((Math.random() * (1 << mant)) | 0);
  }
  return out;
}
const decodeWeights = (bits: Uint16Array) =>
  wFormat === 'bf16' ? bf16ToF32(bits) : f16ToF32(bits);
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
/** X as the kernels read it (kernels/x-act.wgsl), in float64. */
const xAct = (x: number, act: number) =>
  act === X_TANH ? Math.tanh(x) : act === X_SIGMOID ? 1 / (1 + Math.exp(-x)) : x;

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

/**
 * Times a plan after at least 300 ms of back-to-back runs. Between plans the GPU idles while
 * pipelines compile and outputs are checked, and the H100 drops its clock; ~50 ms of warm-up
 * was not enough there (the sweep read 18–28 TFLOP/s for plans that a probe warmed for 300 ms
 * timed at 87–89).
 */
async function timeWarm(bind: GPUBindGroup, passes: GemmPass[], reps: number): Promise<number> {
  const start = performance.now();
  const estimate = await timePasses(bind, passes, 1, 3);
  const batch = Math.min(400, Math.max(1, Math.ceil(50000 / estimate)));
  while (performance.now() - start < 300) await timePasses(bind, passes, batch, 1);
  return timePasses(bind, passes, batch, reps);
}

for (const size of args.sizes.split(',') as StandardSize[]) {
  const cfg = standardConfig(size);
  const C = cfg.nEmbd;
  const F = cfg.ffnDim;
  const L = cfg.lora;
  // Segments of N outputs each, one K for all or one per segment (the LoRA up-projections, whose
  // X is the hidden vectors side by side, tanh / sigmoid applied as read: `act`).
  const shapes: { name: string; n: number[]; k: number | number[]; act?: number[] }[] = [
    { name: 'proj', n: [C, C, C, L.decay, L.iclr, L.gate, L.valueResidual], k: C },
    { name: 'out', n: [C], k: C },
    { name: 'ffn-key', n: [F], k: C },
    { name: 'ffn-value', n: [C], k: F },
    { name: 'head', n: [cfg.vocabSize], k: C },
    {
      name: 'lora-up',
      n: [C, C, C, C],
      k: [L.decay, L.iclr, L.valueResidual, L.gate],
      act: [X_TANH, X_AS_IS, X_AS_IS, X_SIGMOID],
    },
  ];
  const maxRows = Math.max(...args.rows.split(',').map(Number));
  // The split-K scratch the runner has at this many rows.
  const { scratchFloats } = actLayout(cfg, maxRows);
  for (const shape of shapes.filter((s) => args.matrices.split(',').includes(s.name))) {
    const nTotal = shape.n.reduce((a, b) => a + b, 0);
    const ks = shape.n.map((_, i) => (typeof shape.k === 'number' ? shape.k : shape.k[i]));
    const acts = shape.n.map((_, i) => shape.act?.[i] ?? X_AS_IS);
    // X row: each segment's K side by side; W: each segment's rows of its own K, one after another.
    const kRow = typeof shape.k === 'number' ? shape.k : ks.reduce((a, b) => a + b, 0);
    const xAt = ks.map((_, i) => (typeof shape.k === 'number' ? 0 : sum(ks.slice(0, i))));
    const wAt = shape.n.map((_, i) => sum(shape.n.slice(0, i).map((n, j) => n * ks[j])));
    const kMax = Math.max(...ks);
    const kFit = ks.reduce(gcd); // every segment's K is a multiple of a tile's BK iff this is
    const macs = sum(shape.n.map((n, i) => n * ks[i]));
    const wBits = randomWeights(macs);
    const wVals = decodeWeights(wBits);
    const wBuf = upload(new Uint32Array(wBits.buffer));
    const xFloats = maxRows * kRow;
    const yOff = xFloats;
    const scratch = yOff + maxRows * nTotal;
    const x = new Float32Array(xFloats).map(() => Math.random() * 2 - 1);
    const actBuf = device.createBuffer({ size: (scratch + scratchFloats) * 4, usage });
    device.queue.writeBuffer(actBuf, 0, x);
    let row = 0;
    const terms: MatmulTerm[] = shape.n.map((n, i) => {
      const m: PlacedMatrix = {
        name: `${shape.name}${i}`,
        transpose: false,
        rows: n,
        cols: ks[i],
        kVec: ks[i] / 8,
        parts: [{ arena: 0, vecOffset: wAt[i] / 8, firstRow: 0, rows: n }],
      };
      const t = {
        m,
        xOff: xAt[i],
        xStride: kRow,
        yOff: yOff + row,
        yStride: nTotal,
        op: OP_STORE,
        mSel: 0 as const,
        xAct: acts[i],
      };
      row += n;
      return t;
    });
    // Which segment output column n belongs to.
    const segOf = (n: number) => {
      let i = 0;
      while (n >= shape.n[i]) n -= shape.n[i++];
      return { i, r: n };
    };
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
      const flop = 2 * M * macs;
      const reps = Number(args.reps);
      const tflops = (us: number) => Math.round((flop / us / 1e6) * 10) / 10;
      const ratio = (tf: number) => Math.round((tf * 1e12 * 1000) / peak) / 1000;
      const limits = {
        maxWorkgroupStorage: ctx.caps.maxWorkgroupStorage,
        scratchFloats,
      };
      /** Runs `passes` once with the output poisoned, then checks sampled outputs against float64. */
      const check = async (passes: GemmPass[], label: string, tol: number): Promise<number> => {
        let worst = 0;
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
          const { i, r } = segOf(n);
          for (let k = 0; k < ks[i]; k++) {
            const p = xAct(x[m * kRow + xAt[i] + k], acts[i]) * wVals[wAt[i] + r * ks[i] + k];
            sum += p;
            abs += Math.abs(p);
          }
          const err = Math.abs(y[m * nTotal + n] - sum) / abs;
          if (!(err < tol))
            throw new Error(
              `${size} ${shape.name} M=${M} ${label}: y[${m}][${n}] = ${y[m * nTotal + n]}, want ${sum}`,
            );
          worst = Math.max(worst, err);
        }
        return worst;
      };
      const results: Record<string, number> = {};
      let worstErr = 0;
      /** Checks and times the kernel's chosen plan and every candidate; the chosen plan's key. */
      // X rounded to one f16 keeps ~2^-12 of each term: 1e-3 of Σ|x·w| for that form.
      const sweep = async <T>(sk: SweptKernel<T>, tol = 1e-4): Promise<string | null> => {
        const chosen = sk.chosen(M, jobSegments(job, 8), job.paddedRows, limits);
        const plans = [
          ...(chosen ? [chosen] : []),
          ...sk.candidates(M, kFit, kMax, job.paddedRows, limits),
        ];
        for (const plan of plans) {
          const label = sk.key(plan);
          if (label in results) continue;
          const passes = await sk.passes(job, M, plan, scratch);
          worstErr = Math.max(worstErr, await check(passes, label, tol));
          results[label] = tflops(await timeWarm(bind, passes, reps));
        }
        return chosen ? sk.key(chosen) : null;
      };
      /** The tensor-core kernel once per X form. */
      const sweepForms = async (): Promise<string | null> => {
        let first: string | null = null;
        for (const form of xForms) {
          const chosen = await sweep(
            sgmKernel(form),
            X_FORMS[form].input === 'split' ? 1e-4 : 1e-3,
          );
          first ??= chosen;
        }
        return first;
      };
      const chosen = kernel === 'f32' ? await sweep(f32Kernel) : await sweepForms();
      for (const variant of kernel === 'f32' ? args.variants.split(',').filter((v) => v) : []) {
        const plan = f32Kernel.chosen(M, jobSegments(job, 8), job.paddedRows, limits)!;
        const few = [
          plan,
          ...f32Kernel
            .candidates(M, kFit, kMax, job.paddedRows, limits)
            .filter((p) => p.splits === 1 && p.tile.tn === 4),
        ];
        for (const p of few) {
          const passes = await gemmPasses(P, job, M, false, p, scratch, variant);
          results[`${variant}:${f32Kernel.key(p)}`] = tflops(await timeWarm(bind, passes, reps));
        }
      }
      const base =
        kernel === 'f32'
          ? await P.get('matmul-tiled-base', 'matmul', { TO_LOGITS: false }).catch(() => null)
          : null;
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
          kernel,
          baseTflops,
          chosen,
          chosenTflops: chosen ? results[chosen] : null,
          chosenOfPeak: chosen ? ratio(results[chosen]) : null,
          best: ranked.slice(0, 4),
          bestOfPeak: ranked.length ? ratio(ranked[0][1]) : null,
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
