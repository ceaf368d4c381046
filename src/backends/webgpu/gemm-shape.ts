// Tile shape and K split of the tiled matmuls (kernels/matmul-tiled.wgsl; the plan model and the
// passes are shared with the tensor-core kernel, sgm-gemm.ts) for a dispatch of M input rows.
import type { MatmulDispatch } from './matmul-jobs.js';
import { SEG_ROW_ALIGN, SEG_U32 } from './matmul-jobs.js';
import type { Pipelines } from './pipelines.js';
import type { Defines } from './shader-source.js';

/** 256 threads: ty along M, 256 / ty along N; each computes tm × tn outputs. */
export interface GemmTile {
  ty: number;
  tm: number;
  tn: number;
}

export interface GemmPlan {
  tile: GemmTile;
  /** Splits of K; above 1 the partial tiles go to scratch and a reduce pass adds them. */
  splits: number;
}

export interface GemmPass {
  pipeline: GPUComputePipeline;
  grid: [number, number, number];
  /** Appended to the dispatch's label (profiles show the reduce pass apart). */
  suffix: string;
}

const WG = 256;
const BK = 16;

export const tileRows = (t: GemmTile) => t.ty * t.tm;
export const tileCols = (t: GemmTile) => (WG / t.ty) * t.tn;

/** Workgroup memory of a tile shape: X and W stages of BK rows, each padded by 4 floats. */
export function tileBytes(t: GemmTile): number {
  return BK * (tileRows(t) + 4 + tileCols(t) + 4) * 4;
}

/** Output rows and K of each segment of a dispatch (from its segment table). */
export function jobSegments(job: MatmulDispatch, epv: number): { n: number; k: number }[] {
  const out: { n: number; k: number }[] = [];
  for (let i = 0; i < job.table.length; i += SEG_U32) {
    out.push({ n: job.table[i + 1], k: job.table[i + 2] * epv });
  }
  return out;
}

/** Candidate tiles, largest reuse first (8×8 outputs per thread feed 16 FMAs per read). */
export const GEMM_TILES: GemmTile[] = [
  { ty: 16, tm: 8, tn: 8 }, // 128 × 128
  { ty: 16, tm: 8, tn: 4 }, // 128 × 64
  { ty: 16, tm: 4, tn: 8 }, // 64 × 128
  { ty: 8, tm: 4, tn: 8 }, // 32 × 256
  { ty: 16, tm: 4, tn: 4 }, // 64 × 64
  { ty: 8, tm: 4, tn: 4 }, // 32 × 128
];

/**
 * A model of a plan's time. Workgroups spread evenly over the SMS multiprocessors; one holding
 * w of them takes w times a workgroup's FLOPs at the tile's full rate (TFLOP/s over the whole
 * GPU, divided by SMS), less when a multiprocessor has a single workgroup (nothing to hide its
 * latency). Split-K adds a reduce pass: a launch plus its memory traffic.
 * Rates and constants: the H100 (132 SMs), bench/gemm-tiles.ts at M = 1024 (large grids, times
 * above a millisecond, the only ones that repeated within ~6 % between calls); see
 * bench/RESULTS.md. On other GPUs the choices stay sound: the tile that measured fastest, and
 * splits only where the grid leaves multiprocessors idle.
 */
export const SMS = 132;
const TILE_RATE: { tile: GemmTile; tflops: number }[] = [
  { tile: GEMM_TILES[0], tflops: 33.4 },
  { tile: GEMM_TILES[1], tflops: 34.3 },
  { tile: GEMM_TILES[2], tflops: 35.3 },
  { tile: GEMM_TILES[3], tflops: 30.2 },
  { tile: GEMM_TILES[4], tflops: 28.1 },
  { tile: GEMM_TILES[5], tflops: 25.8 },
];
/** A multiprocessor with one workgroup of 8 warps (ffn.key at M = 128, 128×128 tiles). */
const ALONE = 0.88;
/** Reduce pass: launch and barrier (s) and bytes per second of partials read + output. */
const REDUCE_FIXED_S = 8e-6;
const REDUCE_BYTES_PER_S = 1.5e12;

export interface GemmLimits {
  maxWorkgroupStorage: number;
  scratchFloats: number;
}

/** A tile of either matmul kernel as the cost model sees it. */
export interface TileCandidate<T> {
  tile: T;
  /** TFLOP/s of the whole GPU at full occupancy. */
  tflops: number;
  rows: number;
  cols: number;
  /** Workgroup memory it needs. */
  bytes: number;
  /** Its K step where it differs from the kernel's (SplitModel.bk). */
  bk?: number;
}

export interface SplitModel {
  /** K per step of the kernel's tiles (a split keeps at least 8 steps of its tile). */
  bk: number;
  maxSplits: number;
  /** Rate factor of a multiprocessor that holds a single workgroup. */
  alone: number;
}

/**
 * The cheapest tile and K split by the model above (shared by the f32 and tensor-core kernels,
 * which differ in their tiles, rates and split limits).
 */
export function cheapestPlan<T>(
  cands: TileCandidate<T>[],
  model: SplitModel,
  m: number,
  /** The step's rows: the scratch holds partials for all of them (the head uses fewer). */
  stepRows: number,
  segs: { n: number; k: number }[],
  paddedRows: number,
  limits: GemmLimits,
): { tile: T; splits: number } | null {
  const kMax = Math.max(...segs.map((s) => s.k));
  let best: { tile: T; splits: number } | null = null;
  let bestCost = Infinity;
  for (const { tile, tflops, rows, cols, bytes, bk } of cands) {
    if (bytes > limits.maxWorkgroupStorage) continue;
    const minSplitK = 8 * (bk ?? model.bk);
    const tiles = Math.ceil(m / rows) * segs.reduce((n, s) => n + Math.ceil(s.n / cols), 0);
    for (let splits = 1; splits <= model.maxSplits; splits++) {
      if (splits > 1 && kMax / splits < minSplitK) break;
      if (splits > 1 && splits * stepRows * paddedRows > limits.scratchFloats) break;
      const perSm = Math.ceil((tiles * splits) / SMS);
      const flops = 2 * rows * cols * Math.ceil(kMax / splits);
      let cost = (perSm * flops) / ((tflops * 1e12) / SMS) / (perSm === 1 ? model.alone : 1);
      if (splits > 1) {
        cost += REDUCE_FIXED_S + ((splits + 1) * m * paddedRows * 4) / REDUCE_BYTES_PER_S;
      }
      if (cost < bestCost) {
        bestCost = cost;
        best = { tile, splits };
      }
    }
  }
  return best;
}

/** The cheapest plan of the f32 kernel. */
export function chooseGemmPlan(
  m: number,
  stepRows: number,
  segs: { n: number; k: number }[],
  paddedRows: number,
  limits: GemmLimits,
): GemmPlan {
  const cands = TILE_RATE.map(({ tile, tflops }) => ({
    tile,
    tflops,
    rows: tileRows(tile),
    cols: tileCols(tile),
    bytes: tileBytes(tile),
  }));
  const model = { bk: BK, maxSplits: 16, alone: ALONE };
  const best = cheapestPlan(cands, model, m, stepRows, segs, paddedRows, limits);
  if (!best) throw new Error('no matmul tile fits this device\u2019s workgroup memory');
  return best;
}

/** Whether a segment of the dispatch applies an activation to X (MatmulTerm.xAct). */
export function hasXAct(job: MatmulDispatch): boolean {
  for (let i = 0; i < job.table.length; i += SEG_U32) if (job.table[i + 11] !== 0) return true;
  return false;
}

/**
 * The passes of a tiled matmul of either kernel: the tile pass (one workgroup per output tile of
 * `rows` × `cols`, segment by segment, times the K splits) and, with splits, the reduce pass.
 */
export async function tiledPasses(
  P: Pipelines,
  job: MatmulDispatch,
  m: number,
  logits: boolean,
  scratchOffset: number,
  kernel: { name: string; defines: Defines; rows: number; cols: number },
  splits: number,
): Promise<GemmPass[]> {
  if (scratchOffset % 4 !== 0) throw new Error('matmul scratch must be vec4-aligned');
  const layout = logits ? 'matmulLogits' : 'matmul';
  const scratch = scratchOffset / 4;
  let nTiles = 0;
  for (let i = 0; i < job.table.length; i += SEG_U32) {
    nTiles += Math.ceil(job.table[i + 1] / kernel.cols);
  }
  const passes: GemmPass[] = [
    {
      pipeline: await P.get(kernel.name, layout, {
        ...kernel.defines,
        SCRATCH: scratch,
        TO_LOGITS: logits,
      }),
      grid: [nTiles, Math.ceil(m / kernel.rows), splits],
      suffix: '',
    },
  ];
  if (splits > 1) passes.push(await reducePass(P, job, m, logits, scratchOffset, splits));
  return passes;
}

/**
 * The pass that adds a split-K matmul's `splits` partial sums (written at float offset
 * `scratchOffset` of the activations) and stores them through the job's ops
 * (kernels/matmul-reduce.wgsl).
 */
export async function reducePass(
  P: Pipelines,
  job: MatmulDispatch,
  m: number,
  logits: boolean,
  scratchOffset: number,
  splits: number,
): Promise<GemmPass> {
  if (job.paddedRows % SEG_ROW_ALIGN !== 0) throw new Error('segments must be 64-aligned');
  return {
    pipeline: await P.get('matmul-reduce', logits ? 'matmulLogits' : 'matmul', {
      SPLITS: splits,
      SCRATCH: scratchOffset / 4,
      TO_LOGITS: logits,
    }),
    grid: [Math.ceil(job.paddedRows / 4 / WG), m, 1],
    suffix: '-reduce',
  };
}

/** Pipelines and grids of an f32 tiled matmul of `m` rows under `plan`. */
export async function gemmPasses(
  P: Pipelines,
  job: MatmulDispatch,
  m: number,
  logits: boolean,
  plan: GemmPlan,
  scratchOffset: number,
  /** Another copy of the kernel (benchmarks of variants). */
  kernel = 'matmul-tiled',
): Promise<GemmPass[]> {
  const { tile, splits } = plan;
  if (![4, 8].includes(tile.tm) || ![4, 8].includes(tile.tn)) {
    throw new Error(`matmul tile: ${tile.tm} × ${tile.tn} outputs per thread (4 or 8 each)`);
  }
  const defines = {
    TY: tile.ty,
    TM: tile.tm,
    TN: tile.tn,
    WIDE_M: tile.tm === 8,
    WIDE_N: tile.tn === 8,
    X_ACT: hasXAct(job),
  };
  const shape = { name: kernel, defines, rows: tileRows(tile), cols: tileCols(tile) };
  return tiledPasses(P, job, m, logits, scratchOffset, shape, splits);
}
