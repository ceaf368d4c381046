// Which pipeline and how many workgroups each dispatch of a step uses, given the step's rows.
import type { RwkvConfig } from '../../model/config.js';
import {
  chooseGemmPlan,
  gemmPasses,
  hasXAct,
  jobSegments,
  reducePass,
  SMS,
  type GemmPass,
} from './gemm-shape.js';
import { SEG_U32, type MatmulDispatch } from './matmul-jobs.js';
import { PREFETCH_WORKGROUPS } from './l2-prefetch.js';
import { matvecDefines, matvecRowsPerWorkgroup, type MatvecShape } from './matvec-source.js';
import type { Pipelines } from './pipelines.js';
import { chooseSgmPlan, sgmPasses, sgmSuits, type AnyGemmPlan, type SgmInput } from './sgm-gemm.js';
import type { Defines } from './shader-source.js';
import type { Dispatch } from './step-program.js';
import type { LayerMatrices, PlacedMatrix } from './weight-layout.js';
import { chunkedScanPasses, type WkvScan } from './wkv-scan-form.js';

/** Largest M served by the matvec kernel (a weight read once feeds up to MR rows). */
export const MATVEC_MAX_ROWS = 8;
/** Most K splits of the staged matvec (stagedMatvec). */
const MATVEC_MAX_SPLITS = 8;
const MATVEC_LANES = 32;
/**
 * Output rows per thread of matvec.wgsl at 3..8 input rows: each loaded input vector feeds this
 * many rows. Measured on the H100 (bench/RESULTS.md): 2 beat 1 and 4 at batch 4 and 8; at
 * batch 2 one row per thread was as fast or faster.
 */
const MATVEC_R = 2;

/**
 * What dispatches need beyond themselves: the tiled matmul's split-K scratch and the device
 * limit, the GEMM kernel, the prefill scan's form.
 */
export interface StepEnv {
  /** Float offset and size of the split-K scratch region of the activation buffer. */
  scratch: number;
  scratchFloats: number;
  maxWorkgroupStorage: number;
  /** Weight elements per vec4<u32> (weight-layout.ts elementsPerVec). */
  epv: number;
  /** Run GEMMs on the tensor cores (kernels/matmul-sgm.wgsl; sgm-gemm.ts's gate passed). */
  tensorCores: boolean;
  /** How X enters the tensor-core kernel (GpuCaps.gemmInput). */
  sgmInput: SgmInput;
  /** The prefill wkv's scan form (wkv-scan-form.ts). */
  wkvScan: WkvScan;
}

/**
 * Per-model sizes the wkv kernels are compiled for: `hmax`, room for the four LoRA hidden
 * vectors of a row (padded to whole weight vec4); `loraVecs`, the most vec4 per row of each
 * LoRA up-projection (decay, iclr, value residual, gate) over the layers.
 */
export interface WkvSizes {
  hmax: number;
  loraVecs: [number, number, number, number];
}

export function wkvSizes(layers: readonly LayerMatrices[], epv: number): WkvSizes {
  const vecs = (pick: (l: LayerMatrices) => PlacedMatrix | undefined) =>
    Math.max(0, ...layers.map((l) => pick(l)?.kVec ?? 0));
  const loraVecs: WkvSizes['loraVecs'] = [
    vecs((l) => l.w2),
    vecs((l) => l.a2),
    vecs((l) => l.v2),
    vecs((l) => l.g2),
  ];
  return {
    hmax: Math.max(
      8,
      loraVecs.reduce((n, v) => n + v * epv, 0),
    ),
    loraVecs,
  };
}

/** vec4 columns per invocation of wkv-decode's LoRA rows (LORA_PARTS = 256 / 64 parts). */
function decodeLoraDefines(w: WkvSizes): Defines {
  const per = (v: number) => Math.max(1, Math.ceil(v / 4));
  const [a, b, c, d] = w.loraVecs.map(per);
  return { LORA_W: a, LORA_A: b, LORA_V: c, LORA_G: d };
}

/** The passes of one dispatch: one, or two for a split-K matmul (partials, then their sum). */
export async function dispatchPasses(
  P: Pipelines,
  config: RwkvConfig,
  wkv: WkvSizes,
  d: Dispatch,
  rows: number,
  seqs: number,
  logitRows: number,
  env: StepEnv,
): Promise<GemmPass[]> {
  if (d.kind === 'matmul') {
    const m = d.logits || d.outRows ? logitRows : rows;
    const deferred = sumsInLnMix(d, rows, seqs);
    const staged = stagedMatvec(d.job, m, rows, env, deferred);
    if (staged) {
      const { splits } = staged.staged!;
      const passes: GemmPass[] = [
        {
          pipeline: await P.get('matvec', d.logits ? 'matmulLogits' : 'matmul', {
            ...matvecDefines(staged, env.epv),
            TO_LOGITS: d.logits,
            COPY: false,
            X_ACT: hasXAct(d.job),
          }),
          grid: [d.job.paddedRows / matvecRowsPerWorkgroup(staged), splits, 1],
          suffix: '',
        },
      ];
      if (splits > 1 && !deferred) {
        passes.push(await reducePass(P, d.job, m, d.logits, env.scratch, splits));
      }
      return passes;
    }
    if (m > MATVEC_MAX_ROWS && d.job.tileableK) {
      const plan = gemmPlan(d.job, m, rows, env);
      const passes =
        plan.kind === 'sgm'
          ? await sgmPasses(
              P,
              d.job,
              m,
              d.logits,
              plan.plan,
              env.scratch,
              env.sgmInput === 'split',
              hasXAct(d.job),
            )
          : await gemmPasses(P, d.job, m, d.logits, plan.plan, env.scratch);
      // The next ln-mix adds the partials (sumsInLnMix): only the partials pass here.
      return deferred && plan.plan.splits > 1 ? passes.slice(0, 1) : passes;
    }
  }
  if (d.kind === 'wkv' && d.variant === 'scan' && env.wkvScan === 'chunked') {
    return chunkedScanPasses(P, config, wkv.hmax, rows, seqs);
  }
  if (d.kind === 'lnMix' && d.partials) {
    const splits = residualSplits({ job: d.partials, deferReduce: true }, rows, seqs, env);
    if (splits > 1) {
      const defs = {
        PER: lnPer(config),
        ADD_PARTIALS: true,
        SPLITS: splits,
        SCRATCH: env.scratch / 4,
        PADDED: d.partials.paddedRows,
      };
      return [
        { pipeline: await P.get('ln-mix', 'lnMix', defs), grid: [rows, 1, 1], suffix: '+sum' },
      ];
    }
  }
  return [
    {
      pipeline: await dispatchPipeline(P, config, wkv, d, rows, logitRows, env),
      grid: dispatchGrid(config, d, rows, seqs, logitRows),
      suffix: '',
    },
  ];
}

function gemmPlan(job: MatmulDispatch, m: number, rows: number, env: StepEnv): AnyGemmPlan {
  const segs = jobSegments(job, env.epv);
  const limits = { maxWorkgroupStorage: env.maxWorkgroupStorage, scratchFloats: env.scratchFloats };
  return env.tensorCores && sgmSuits(segs)
    ? { kind: 'sgm', plan: chooseSgmPlan(m, rows, segs, job.paddedRows, limits, env.sgmInput) }
    : { kind: 'f32', plan: chooseGemmPlan(m, rows, segs, job.paddedRows, limits) };
}

/**
 * Whether the next ln-mix adds a residual matmul's (att.output, ffn.value) split-K partials
 * instead of a reduce pass: only in decode steps (one token per sequence: the fused ln-mix
 * writes the whole row of x it reads, and no other row's workgroup reads it) of several
 * sequences, on the tiled path or the staged matvec.
 */
function sumsInLnMix(
  d: { job: MatmulDispatch; deferReduce?: boolean },
  rows: number,
  seqs: number,
): boolean {
  return (
    !!d.deferReduce && rows === seqs && rows > 1 && (rows <= MATVEC_MAX_ROWS || d.job.tileableK)
  );
}

/** Splits of a residual matmul whose sum the next ln-mix adds; 0 when it keeps its own reduce. */
function residualSplits(
  d: { job: MatmulDispatch; deferReduce?: boolean },
  rows: number,
  seqs: number,
  env: StepEnv,
): number {
  if (!sumsInLnMix(d, rows, seqs)) return 0;
  const staged = stagedMatvec(d.job, rows, rows, env, true);
  if (staged) return staged.staged!.splits;
  return rows > MATVEC_MAX_ROWS ? gemmPlan(d.job, rows, rows, env).plan.splits : 0;
}

/** vec4 of a row of C floats per invocation of a 256-wide LayerNorm workgroup. */
function lnPer(config: RwkvConfig): number {
  return Math.ceil(config.nEmbd / 4 / 256);
}

/**
 * Work split of the single-token GEMV with LayerNorm (kernels/matvec-ln.wgsl): padded rows per
 * workgroup (divides the segment padding of 64), rows a lane group reads together, 16-byte
 * loads per row and lane per batch.
 */
export interface SingleGemvShape {
  rpw: number;
  r: number;
  u: number;
}

/**
 * Chosen from a sweep on the H100 (8–64 rows per workgroup, 1–4 rows in flight; each timed as
 * the 32 layers' dispatches back to back): 64 rows per workgroup gave the least time for the
 * time-mix projections and ffn.key together at both widths; four rows in flight beat two at
 * C = 4096 (−9 %), two beat four at C = 2560 (−3 %).
 */
export function singleGemvShape(config: RwkvConfig, label = ''): SingleGemvShape {
  // K = C for every matrix these dispatches read. A later sweep on 2.9B (bench/RESULTS.md,
  // fifth pass) found the time-mix projections faster with 32 rows per workgroup (260
  // workgroups, two per SM of 132, instead of 130: 35.3 → 32.9 µs per layer in the profile)
  // while ffn.key stayed best at 64; C = 4096 keeps the first sweep's choice.
  const rpw = label === 'proj' && config.nEmbd < 4096 ? 32 : 64;
  return { rpw, r: config.nEmbd >= 4096 ? 4 : 2, u: 4 };
}

/** Defines of kernels/matvec-ln.wgsl for a work split (tests and benchmarks try others). */
export function singleGemvDefines(config: RwkvConfig, shape: SingleGemvShape): Defines {
  return {
    LANES: MATVEC_LANES,
    RPW: shape.rpw,
    R: shape.r,
    U: shape.u,
    C4: config.nEmbd / 4,
    PER: lnPer(config),
    TO_LOGITS: false,
  };
}

/**
 * Lanes per output row of matvec.wgsl: MATVEC_LANES, or fewer when the shortest row of the job
 * has fewer 16-byte loads (tiny models: K = 64 in bf16 is 8 loads, so 24 of 32 lanes would idle
 * and the 65,536-row head would take 8,192 workgroups — seconds per token in a software
 * WebGPU). At least 4, so a workgroup's 256 / LANES rows never cross a 64-row segment boundary.
 */
export function matvecLanes(job: MatmulDispatch): number {
  const shortest = minKVec(job);
  let lanes = MATVEC_LANES;
  while (lanes > 4 && lanes > shortest) lanes /= 2;
  return lanes;
}

/** 16-byte loads in the longest row of a job. */
function maxKVec(job: MatmulDispatch): number {
  let max = 0;
  for (let i = 2; i < job.table.length; i += SEG_U32) max = Math.max(max, job.table[i]!);
  return max;
}

/** 16-byte loads in the shortest row of a job. */
function minKVec(job: MatmulDispatch): number {
  let min = Infinity;
  for (let i = 2; i < job.table.length; i += SEG_U32) min = Math.min(min, job.table[i]!);
  return min;
}

/**
 * Lanes per row and rows per thread of the single-token `out` and `ffn.value` GEMVs (matvec.wgsl
 * with COPY). With rows of at least 4 loads per lane at 64 lanes: 64 lanes, and for ffn.value 2
 * rows per thread (each loaded input vector of its long K feeds both); else matvecLanes and 1.
 * Measured on the H100 (2.9B, µs per layer in the profile): ffn.value 35.9 (32 lanes, 320
 * workgroups for 132 SMs) → 33.1 (64 lanes, 640 workgroups) → 32.6 (64 lanes × 2 rows);
 * `out` 18.8 → 18.4 with 64 lanes; 128 lanes, or 32 lanes × 2 rows, were slower.
 */
function singleMatvecShape(d: Dispatch & { kind: 'lnMatvec' }): { lanes: number; r: number } {
  const lanes = matvecLanes(d.job);
  if (lanes < MATVEC_LANES || minKVec(d.job) < 4 * 2 * MATVEC_LANES) return { lanes, r: 1 };
  return { lanes: 2 * MATVEC_LANES, r: d.label === 'ffn-value' ? 2 : 1 };
}

/** Output rows per thread of matvec.wgsl for M input rows (a workgroup covers ≤ 64 rows). */
function matvecR(job: MatmulDispatch, m: number): number {
  return m <= 2 ? 1 : Math.min(MATVEC_R, (64 * matvecLanes(job)) / 256);
}

/**
 * The staged matvec (matvec.wgsl's STAGED form: X in workgroup memory, K split over grid y)
 * for a matmul of 3..8 input rows; null where the plain matvec or the tiled GEMM runs. `rows`:
 * the step's rows (the split-K partials are laid out per step row); `deferred`: the next ln-mix
 * adds the partials, so splits cost no pass of their own.
 * Measured on the H100 (2.9B, bench/RESULTS.md, batch 2 / 4 / 8 tok/s): the plain kernel 491 /
 * 639 / 760; staged with 8 lanes per row 446 / 810 / 1 319, with 16 lanes 490 / 872 / 1 102;
 * two weight vectors per lane and chunk beat one and four; up to 8 K splits beat 4. Batch 2
 * keeps the plain kernel (X is only twice the weight bytes there).
 */
function stagedMatvec(
  job: MatmulDispatch,
  m: number,
  rows: number,
  env: StepEnv,
  deferred: boolean,
): MatvecShape | null {
  if (m < 3 || m > MATVEC_MAX_ROWS) return null;
  const lanes = Math.min(m <= 4 ? 16 : 8, matvecLanes(job));
  let r = 2;
  while (matvecRowsPerWorkgroup({ lanes, r }) > 64) r /= 2;
  const u = 2;
  const kcv = lanes * u;
  const tiles = job.paddedRows / matvecRowsPerWorkgroup({ lanes, r });
  // Split K to fill the GPU where the next ln-mix adds the partials, or (with a reduce pass)
  // where the rows alone would leave most multiprocessors idle. Each split keeps ≥ 2 chunks.
  const target = deferred ? 2 * SMS : tiles < SMS / 2 ? SMS : 0;
  const longest = maxKVec(job);
  let splits = 1;
  while (
    tiles * splits < target &&
    splits < MATVEC_MAX_SPLITS &&
    longest >= 2 * splits * 2 * kcv &&
    2 * splits * rows * job.paddedRows <= env.scratchFloats
  ) {
    splits *= 2;
  }
  return { lanes, mr: m, r, staged: { u, splits, scratch: env.scratch } };
}

async function dispatchPipeline(
  P: Pipelines,
  config: RwkvConfig,
  wkv: WkvSizes,
  d: Dispatch,
  rows: number,
  logitRows: number,
  env: StepEnv,
): Promise<GPUComputePipeline> {
  switch (d.kind) {
    case 'embed':
      return P.get('embed', 'embed', { PER: lnPer(config) });
    case 'lnMix':
      return P.get('ln-mix', 'lnMix', { PER: lnPer(config), ADD_PARTIALS: false });
    case 'lnRows':
      return P.get('ln-rows', 'lnRows', { PER: lnPer(config), COPY: d.copy === true });
    case 'wkv': {
      const defs = { N: config.headSize, HMAX: wkv.hmax, POOL4: false, ACT4: false };
      // Head size 64 has the vectorised single-token kernels (state as vec4); others the
      // generic one.
      const vec = { ...defs, POOL4: true };
      switch (d.variant) {
        case 'fused':
          return config.headSize === 64
            ? P.get('wkv-decode', 'wkv', { ...vec, ...decodeLoraDefines(wkv) })
            : P.get('wkv', 'wkv', defs);
        case 'batch':
          return P.get('wkv-batch', 'wkv', vec);
        default:
          return P.get(`wkv-${d.variant}`, 'wkv', defs);
      }
    }
    case 'lnMatvec':
      if (d.ln) {
        const shape = singleGemvShape(config, d.label);
        return P.get('matvec-ln', 'matmulLn', singleGemvDefines(config, shape));
      }
      return P.get('matvec', 'matmulLn', {
        ...matvecDefines({ ...singleMatvecShape(d), mr: 1 }, env.epv),
        TO_LOGITS: false,
        COPY: true,
        X_ACT: false,
        C4: config.nEmbd / 4,
      });
    case 'matmul': {
      const m = d.logits || d.outRows ? logitRows : rows;
      const layout = d.logits ? 'matmulLogits' : 'matmul';
      if (m <= MATVEC_MAX_ROWS || !d.job.tileableK) {
        const mr = Math.max(1, m);
        if (mr > MATVEC_MAX_ROWS)
          throw new Error(`matmul with K not a multiple of 32 needs ≤ ${MATVEC_MAX_ROWS} rows`);
        return P.get('matvec', layout, {
          ...matvecDefines({ lanes: matvecLanes(d.job), mr, r: matvecR(d.job, mr) }, env.epv),
          TO_LOGITS: d.logits,
          COPY: false,
          X_ACT: hasXAct(d.job),
        });
      }
      throw new Error('tiled matmuls are planned by dispatchPasses');
    }
  }
}

function dispatchGrid(
  config: RwkvConfig,
  d: Dispatch,
  rows: number,
  seqs: number,
  logitRows: number,
): [number, number, number] {
  const H = config.nHead;
  switch (d.kind) {
    case 'embed':
      return [rows, 1, 1];
    case 'lnMix':
      return [rows, Math.ceil(config.nEmbd / 4 / 256), 1];
    case 'lnRows':
      return [logitRows, 1, 1];
    case 'wkv':
      // One sequence on the head-size-64 kernel: extra workgroups read ahead into L2.
      if (d.variant === 'fused' && seqs === 1 && config.headSize === 64)
        return [1, H + PREFETCH_WORKGROUPS, 1];
      if (d.variant === 'fused' || d.variant === 'batch') return [seqs, H, 1];
      if (d.variant === 'scan') return [seqs, H, config.headSize / 16];
      return [rows, H, 1];
    case 'lnMatvec': {
      const single = singleMatvecShape(d);
      const per = d.ln ? singleGemvShape(config, d.label).rpw : matvecRowsPerWorkgroup(single);
      return [d.job.paddedRows / per, 1, 1];
    }
    case 'matmul': {
      const m = d.logits || d.outRows ? logitRows : rows;
      if (m <= MATVEC_MAX_ROWS || !d.job.tileableK) {
        const mr = Math.max(1, m);
        const shape = { lanes: matvecLanes(d.job), r: matvecR(d.job, mr) };
        return [d.job.paddedRows / matvecRowsPerWorkgroup(shape), 1, 1];
      }
      throw new Error('tiled matmuls are planned by dispatchPasses');
    }
  }
}
