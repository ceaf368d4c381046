// The tensor-core GEMM (kernels/matmul-sgm.wgsl): when a device may use it, which tile and K
// split a dispatch gets, and its passes. Devices or weights that fail the gate keep the exact
// f32 kernel (gemm-shape.ts).
import {
  cheapestPlan,
  tiledPasses,
  type GemmLimits,
  type GemmPass,
  type GemmPlan,
} from './gemm-shape.js';
import type { MatmulDispatch } from './matmul-jobs.js';
import type { Pipelines } from './pipelines.js';
import {
  SGM_LANES,
  sgmDefines,
  sgmTileBytes,
  sgmTileCols,
  sgmTileRows,
  type SgmTile,
} from './sgm-source.js';
import type { WeightFormat } from './weight-layout.js';

/**
 * How X (f32 activations) enters the tensor-core kernel (kernels/matmul-sgm.wgsl).
 * - 'split': as hi + lo f16 halves, every product taken twice: f32-like results (max error
 *   1.6e-5 of the output rms at K = 2560, as the f32 kernel's 1.2e-5). The default.
 * - 'f16': rounded to f16 once, every product once — the precision of fp16 inference (the
 *   official code runs its activations in fp16): 6.5e-3 of the output rms in the same probe,
 *   logits within ~2e-3 of their std on a 2-layer model (bench/RESULTS.md, eleventh session)
 *   against ~1e-5 split. Without the lo tile, 128 × 128 tiles with K steps of 64 fit the 48 KB
 *   of workgroup memory: 1.4× the GEMM rate (H100, M = 1024: 152 against 108 TFLOP/s).
 *   Opt-in (DeviceOptions.gemm = 'f16').
 */
export type SgmInput = 'split' | 'f16';

/** What the gate reads off the device (GpuCaps fields). */
export interface SgmDeviceInfo {
  subgroups: boolean;
  shaderF16: boolean;
  /** The adapter lists an f16 × f16 → f32 subgroup-matrix config of 16 × 16 × 16. */
  subgroupMatrixF16: boolean;
  subgroupMinSize: number;
  subgroupMaxSize: number;
  maxWorkgroupStorage: number;
}

/**
 * Why the tensor-core kernel cannot serve this device and weight format, or null when it can.
 * The kernel's subgroup count per workgroup is threads / 32, so the subgroup size must be
 * exactly 32; W must convert to f16 exactly (bf16 or f16, not f32), so `outsideF16`, the count
 * of a model's bf16 weights that f16 cannot hold (f16-range.ts), must be 0.
 */
export function sgmUnavailable(
  dev: SgmDeviceInfo,
  format: WeightFormat,
  input: SgmInput = 'split',
  outsideF16 = 0,
): string | null {
  if (!dev.subgroups) return 'no subgroups';
  if (!dev.shaderF16) return 'no shader-f16';
  if (!dev.subgroupMatrixF16) return 'no f16 16x16x16 subgroup matrices with f32 results';
  if (dev.subgroupMinSize !== SGM_LANES || dev.subgroupMaxSize !== SGM_LANES) {
    return `subgroup size ${dev.subgroupMinSize}..${dev.subgroupMaxSize}, not exactly ${SGM_LANES}`;
  }
  if (format === 'f32') return 'f32 weights (f16 inputs would round them)';
  if (outsideF16 > 0) return `${outsideF16} bf16 weights beyond f16's range`;
  const xSplit = input === 'split';
  const least = Math.min(...SGM_TILE_RATE[input].map((r) => sgmTileBytes(r.tile, xSplit)));
  if (least > dev.maxWorkgroupStorage) return 'too little workgroup memory';
  return null;
}

/** A plan of the tensor-core kernel: its tile and the splits of K. */
export interface SgmPlan {
  tile: SgmTile;
  splits: number;
}

/**
 * Candidate tiles and their rates per input form (TFLOP/s over the H100 at full occupancy; the
 * model compares rates within one form only). 'split': .scratch probe at M = 1024, N = 10240,
 * K = 2560: 62 and 45, see bench/RESULTS.md; with the matrix loads' offsets provably in range,
 * 75–89 and 38–53 in the same noisy probe, so the ranking and the plans at M ≥ 128 are
 * unchanged and the first readings stay; the third tile's rate is explained at its entry. The
 * model is the f32 kernel's (gemm-shape.ts): workgroups spread evenly over the
 * multiprocessors, split-K adds a reduce pass. Unlike the f32 kernel, one workgroup alone on a
 * multiprocessor was not measurably slower per FLOP (M = 128, N = 10240, K = 2560: 80 tiles
 * 189 µs, two splits of 160 tiles 198 µs). The model reproduced the probe's other choices: at
 * M = 1024, N = K = 2560 (160 tiles, 2 per multiprocessor) two splits beat one (45 vs 37
 * TFLOP/s); 128 × 128 tiles beat 64 × 128 ones at M = 128.
 */
export const SGM_TILE_RATE: Record<SgmInput, { tile: SgmTile; tflops: number }[]> = {
  split: [
    // 128 × 128, one stage of BK 32 (double-buffered it needs 68 KB; Dawn allows 48 KB here)
    { tile: { sgM: 4, sgN: 2, fm: 2, fn: 4, bk: 32, stages: 1 }, tflops: 62 },
    // 64 × 128, two stages: more workgroups for small grids
    { tile: { sgM: 4, sgN: 2, fm: 1, fn: 4, bk: 32, stages: 2 }, tflops: 45 },
    // 64 × 128 as 2 × 4 subgroups of 2 × 2, one stage of BK 64 (45 KB): twice the tiles of
    // 128 × 128 without split-K's reduce. Thirteenth session, M = 2048: att.output 99.4 in one
    // split against 87.7 for 128 × 128 in two; proj 102.9 against 111.2. Its rate here is
    // 128 × 128's 62 scaled by their ratio in that call (~100 against ~108).
    { tile: { sgM: 2, sgN: 4, fm: 2, fn: 2, bk: 64, stages: 1 }, tflops: 57 },
  ],
  // bench/gemm-tiles.ts, H100, 2.9B proj at M = 1024 (eleventh session; 'split' tiles 108 in the
  // same call): BK 64 halves the K steps (each a round of loads, staging and two barriers, which
  // bound this kernel); K steps of 32 stay for dispatches whose K is not a multiple of 64.
  f16: [
    // 128 × 128, one stage of BK 64: 45 KB
    { tile: { sgM: 4, sgN: 2, fm: 2, fn: 4, bk: 64, stages: 1 }, tflops: 152 },
    // 64 × 128, one stage of BK 64: more workgroups for small grids
    { tile: { sgM: 2, sgN: 4, fm: 2, fn: 2, bk: 64, stages: 1 }, tflops: 121 },
    // 128 × 128, two stages of BK 32: exactly 48 KB
    { tile: { sgM: 4, sgN: 2, fm: 2, fn: 4, bk: 32, stages: 2 }, tflops: 120 },
  ],
};
const BK = 32;
/** More splits measured no faster (M = 128, K = 10240: 4 splits 187 µs, 8 splits 207 µs). */
const MAX_SPLITS = 8;
/**
 * Dispatches whose longest K is below this stay on the f32 kernel, whichever the input form:
 * the LoRA up-projections (K = 64–224) gain on the tensor cores with either. 'f16': 3.69 → 2.92
 * ms per 1024-token 2.9B chunk (H100, eleventh session; prefill T = 4096 18 482 → 18 637 tok/s).
 * 'split': the fourth session's kernel lost there (6.1 against 4.2 ms, K = 128 probe 14 against
 * 21 TFLOP/s) and its bound was 512; the thirteenth session's kernel gains: 6.47 → 5.30 ms per
 * 2048-token chunk, prefill T = 4096 15 687 / 15 357 → 15 724 / 15 834 tok/s, alternating.
 */
export const SGM_MIN_K = 64;

/** Whether a dispatch with these segments should use the tensor-core kernel (K long enough). */
export function sgmSuits(segs: { k: number }[]): boolean {
  return Math.max(...segs.map((s) => s.k)) >= SGM_MIN_K;
}

export function chooseSgmPlan(
  m: number,
  stepRows: number,
  segs: { n: number; k: number }[],
  paddedRows: number,
  limits: GemmLimits,
  input: SgmInput,
): SgmPlan {
  const xSplit = input === 'split';
  // A tile's K steps must divide every segment's K (the job is tileable: multiples of 32).
  const fits = (t: SgmTile) => segs.every((s) => s.k % t.bk === 0);
  const cands = SGM_TILE_RATE[input]
    .filter(({ tile }) => fits(tile))
    .map(({ tile, tflops }) => ({
      tile,
      tflops,
      rows: sgmTileRows(tile),
      cols: sgmTileCols(tile),
      bytes: sgmTileBytes(tile, xSplit),
      // Splits of fewer K steps lose to their fixed costs: 2.9B att.output at M = 128, f16
      // input, 128 × 128 tiles of BK 64 (H100): 6 splits (~7 steps each) 24.7 TFLOP/s, 4: 45.5.
      bk: tile.bk,
    }));
  const model = { bk: BK, maxSplits: MAX_SPLITS, alone: 1 };
  const best = cheapestPlan(cands, model, m, stepRows, segs, paddedRows, limits);
  if (!best) throw new Error('no tensor-core matmul tile fits this device\u2019s workgroup memory');
  return best;
}

/**
 * The tensor-core kernel as tiledPasses takes it: name, defines and output tile. `emulated`:
 * its matrix builtins in plain WGSL (sgm-source.ts; tests on devices without them).
 */
export function sgmShape(tile: SgmTile, xSplit: boolean, xAct: boolean, emulated = false) {
  return {
    name: 'matmul-sgm',
    defines: { ...sgmDefines(tile, xSplit, emulated), X_ACT: xAct },
    rows: sgmTileRows(tile),
    cols: sgmTileCols(tile),
  };
}

/** Pipelines and grids of a tensor-core matmul of `m` rows under `plan`. */
export async function sgmPasses(
  P: Pipelines,
  job: MatmulDispatch,
  m: number,
  logits: boolean,
  plan: SgmPlan,
  scratchOffset: number,
  xSplit: boolean,
  xAct: boolean,
): Promise<GemmPass[]> {
  const shape = sgmShape(plan.tile, xSplit, xAct);
  return tiledPasses(P, job, m, logits, scratchOffset, shape, plan.splits);
}

/** A plan of either GEMM kernel (dispatch-shape.ts picks one per dispatch). */
export type AnyGemmPlan = { kind: 'f32'; plan: GemmPlan } | { kind: 'sgm'; plan: SgmPlan };
