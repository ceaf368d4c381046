// The activations of one step (up to `rows` tokens) live in a single f32 buffer, so every kernel
// binds it once and addresses its regions by offset. All offsets are multiples of 4 floats
// (kernels read them as vec4). Region sizes follow the model shape.
import type { RwkvConfig } from '../../model/config.js';

export interface ActLayout {
  rows: number;
  /** Residual stream x [rows][C]. */
  x: number;
  /** Six mixed inputs r, w, k, v, a, g of the time mix, each [rows][C], `plane` apart. */
  mix: number;
  plane: number;
  /** Projections r, k, v [rows][C] each (`plane` apart). */
  rkv: number;
  /** LoRA hidden vectors per row: decay, iclr, value residual, gate. */
  hid: number;
  hidStride: number;
  hidW: number;
  hidA: number;
  hidV: number;
  hidG: number;
  vFirst: number;
  /**
   * wkv output after group norm, bonus and gate [rows][C]. In steps that gather the last
   * channel mix (step-program.ts Dispatch.gather), that layer's ffn output for the wanted rows,
   * packed, once att.output has read the wkv output.
   */
  y: number;
  ffnIn: number;
  /**
   * relu(key)² [rows][F]. It lives inside the channel mix, when the time mix's planes are dead
   * (the next writer of `mix` is the next layer's ln-mix, after ffn-value has read this), so it
   * shares `mix` where F ≤ 6·C (RWKV-7's F is 4·C).
   */
  ffnHid: number;
  /**
   * LayerNorm(ln_out) of the rows whose logits are wanted [rows][C]; before ln-out, in steps
   * that gather the last channel mix, those rows' ffn input.
   */
  normed: number;
  /**
   * The chunked prefill wkv's per-token vectors ṽ and ŷ, two planes of [rows][C]
   * (kernels/wkv-chunk-mats.wgsl). They live from wkv-chunk-mats to wkv-chunk-scan, after
   * wkv-prep has read the k and v projections (their only reader), so they take those two
   * planes of `rkv`.
   */
  wkvChunkVecs: number;
  /** Per-head bonus sums of the prefill wkv [rows][H]. */
  bonus: number;
  /** Split-K partial sums of the tiled matmul (gemm-shape.ts), `scratchFloats` long. */
  scratch: number;
  scratchFloats: number;
  totalFloats: number;
}

const up4 = (n: number) => Math.ceil(n / 4) * 4;
/** LoRA hidden widths are padded to 8 so a 16-bit weight vec4 never reads past them. */
const up8 = (n: number) => Math.ceil(n / 8) * 8;

/** Activation bytes every model may use for its step capacity, however small its weights. */
export const ACT_BYTES_FLOOR = 256 * 2 ** 20;

/** The longest default step: a whole 4096-token prompt in one step. */
export const MAX_DEFAULT_ROWS = 4096;

/**
 * Step capacity (WebGpuOptions.maxRows) when the caller gives none: the most rows, a power of
 * two from 256 to MAX_DEFAULT_ROWS, whose activation buffer stays within an eighth of the
 * weights' bytes or within ACT_BYTES_FLOOR, whichever is more. Longer prefill chunks are
 * faster (fewer steps, and GEMMs whose tiles fill the multiprocessors' last wave): 2.9B on the
 * H100, T = 4096, 256 rows 12 014–12 065 tok/s, 512 13 255, 1024 14 667–14 686 (eleventh
 * session); 1024 → 2048 rows 14 697 / 15 028 → 15 511 / 15 584, with the f16 GEMM input
 * 19 536 / 19 629 → 20 245 / 20 100; 0.4B 256 / 512 / 1024 rows 45 023 / 63 570 / 68 255
 * (thirteenth session); 2048 → 4096 rows 15 765 → 16 359, f16 input 19 889 → 20 950
 * (fourteenth; bench/RESULTS.md). Buffer at the default: 2.9B 4096 rows, ~660 MB beside
 * 5.9 GB of weights; 7.2B 4096 rows, ~1.0 GB beside 14.3 GB.
 */
export function defaultMaxRows(c: RwkvConfig, weightBytes: number): number {
  const budget = Math.max(weightBytes / 8, ACT_BYTES_FLOOR);
  let rows = 256;
  while (rows < MAX_DEFAULT_ROWS && actBytes(c, 2 * rows) <= budget) rows *= 2;
  return rows;
}

/**
 * Throws unless `maxRows` (WebGpuOptions.maxRows, LoadOptions.stepTokens) is absent or a whole
 * number ≥ 1.
 */
export function checkMaxRows(maxRows: number | undefined): void {
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 1)) {
    throw new Error(`step tokens (maxRows) must be a whole number ≥ 1, got ${maxRows}`);
  }
}

/** Bytes of the activation buffer of a step capacity of `rows` tokens. */
export function actBytes(c: RwkvConfig, rows: number): number {
  return actLayout(c, rows).totalFloats * 4;
}

/** The most rows (at least 1) whose activation buffer fits in `bytes`, e.g. one binding. */
export function rowsWithin(c: RwkvConfig, bytes: number): number {
  let lo = 1; // the answer is ≥ lo (or 1 when nothing fits)
  let hi = 2;
  while (actBytes(c, hi) <= bytes && hi < 2 ** 24) hi *= 2;
  // actBytes grows with rows: keep lo fitting (or 1) and hi not fitting.
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (actBytes(c, mid) <= bytes) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function actLayout(c: RwkvConfig, rows: number): ActLayout {
  const C = c.nEmbd;
  if (C % 8 !== 0 || c.ffnDim % 8 !== 0) {
    throw new Error(
      `WebGPU backend needs n_embd and ffn size divisible by 8 (got ${C}, ${c.ffnDim})`,
    );
  }
  const plane = rows * C;
  let at = 0;
  const take = (floats: number) => {
    const o = at;
    at += up4(floats);
    return o;
  };
  const x = take(plane);
  const mix = take(6 * plane);
  const rkv = take(3 * plane);
  const hidW = 0;
  const hidA = hidW + up8(c.lora.decay);
  const hidV = hidA + up8(c.lora.iclr);
  const hidG = hidV + up8(c.lora.valueResidual);
  const hidStride = hidG + up8(c.lora.gate);
  const hid = take(rows * hidStride);
  const vFirst = take(plane);
  const y = take(plane);
  const ffnIn = take(plane);
  const ffnHid = c.ffnDim <= 6 * C ? mix : take(rows * c.ffnDim);
  const wkvChunkVecs = rkv + plane;
  const normed = take(plane);
  const bonus = take(rows * c.nHead);
  // Split-K partials: at most 16 planes and 64 MB (rowsWithin and defaultMaxRows count the
  // buffer with them). The cap holds two splits of a 1024-row prefill chunk of an N = 4096
  // product (32 MB); matmuls that would need more split less. (At 16 MB, N = 2560 products of
  // 2.9B prefill could not split and ran 160 tiles on 132 multiprocessors: bench/RESULTS.md.)
  const scratchFloats = Math.min(1 << 24, 16 * plane);
  const scratch = take(scratchFloats);
  return {
    rows,
    x,
    mix,
    plane,
    rkv,
    hid,
    hidStride,
    hidW,
    hidA,
    hidV,
    hidG,
    vFirst,
    y,
    ffnIn,
    ffnHid,
    wkvChunkVecs,
    normed,
    bonus,
    scratch,
    scratchFloats,
    totalFloats: at,
  };
}
