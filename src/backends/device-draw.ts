// Drawing the next token on the device, exactly as the CPU sampler would (runtime/sampling/
// sampler.ts is the definition), so that a decode step returns a token id instead of a
// 65536-float logits row. Reading the row back and sampling it on the CPU costs ~0.3 ms
// (greedy) to ~0.9 ms (temperature, no truncation) of CPU per row on this project's 2-core
// machine: at batch 128 more than the GPU's whole step.
//
// What the device is given (a DrawPlan, built by Sampler.planDraw): 1/T (0 = greedy), the
// step's uniform u, and the few tokens whose logit the sampler changes (bias, bans, repetition
// penalties) as sorted (id, change) pairs. What it returns (DrawResult) is checked here with
// exact arithmetic and proven error bounds; the token is used only when the bound shows that
// the definition picks the same one on the same logits. Otherwise the caller reads the row
// and samples on the CPU with the same u, so the result never depends on which path ran.
//
// The device's numbers (kernels/draw.wgsl computes them):
//   greedy: the best adjusted logit (lowest id on ties) and the best value among all others.
//     Unchanged tokens hold their raw float32 logits on both sides, so their order is the
//     same; a changed token's f32 value (raw + change, rounded) is within `epsMax` of the
//     CPU's float64 one, so the pick is certain when best − second > 2·epsMax.
//   draw: weights v_t = e^{(a_t − max)/T} as fixed-point integers (units of 2⁻⁴⁰, exact
//     64-bit sums, so every running sum is exact for the values summed), the total S, the
//     token c whose interval [P_c, P_c + W_c) holds u·S, and a bound E on the sum of |v_t −
//     exact v_t| (each weight computed in double-f32 to ~2⁻⁴⁰ relative, kernels/draw-weight.wgsl,
//     then rounded to a unit; changed tokens' logits within their bound). E is about half a
//     unit per token, ~1e-8 of the total or less: only a target within that of a boundary is
//     left to the CPU (with f32 weights the bound was ~1e-6, and 5–35 % of draws on flat or
//     high-temperature rows fell back). The definition's weights are the exact ones up to
//     a common factor (the two maxima may differ by a changed token's rounding), which cancels
//     in "running sum > u · total", so c is certain when P_c + E < u·(S − E) and
//     P_c + W_c − E > u·(S + E).

import type { Backend } from './backend.js';

/** The sampler's request for one row (see Sampler.planDraw). */
export interface DrawPlan {
  /** 1 / temperature (> 0), or 0 for greedy. */
  invT: number;
  /** This step's uniform in [0, 1) (ignored when greedy). */
  u: number;
  /** Token ids the sampler changes, ascending, without repeats. */
  ids: Int32Array;
  /** Change added to each one's logit (float64); −Infinity bans the token. */
  deltas: Float64Array;
  /**
   * For options that truncate (top-k, top-p, min-p): the device lists the tokens near the top
   * (CandidateRow) and this decides — the token the definition draws, or null when the list
   * cannot prove it (Sampler.planDraw supplies it; runtime/sampling/candidate-draw.ts).
   */
  fromCandidates?: (row: CandidateRow) => number | null;
}

/** What the device lists for a truncating plan. */
export interface CandidateRow {
  /** Unchanged tokens whose logit is above `bound` (any order), and their raw logits. */
  ids: Int32Array;
  raw: Float32Array;
  /** Every unchanged token not listed has a raw logit ≤ bound. */
  bound: number;
  /** Raw logits of the plan's changed tokens, aligned with plan.ids. */
  changedRaw: Float32Array;
  /** The row's draw numbers (max, total weight S and its bound E, relative to that max). */
  result: DrawResult;
}

/** A decode step's result for one row: the token drawn on the device, or the logits row. */
export type DrawOutcome = { token: number } | { logits: Float32Array };

/** What kernels/draw.wgsl writes per row (16 words), decoded. */
export interface DrawResult {
  /** Best adjusted logit's token (−1: nothing drawable) and value; best value among the rest. */
  best: number;
  bestValue: number;
  second: number;
  /** A NaN or ±∞ logit was seen (the CPU path reports it). */
  nonFinite: boolean;
  /** Largest |f32 − float64| of a changed token's adjusted logit (bound). */
  epsMax: number;
  /** The drawn token (−1: none) and, in units of 2⁻⁴⁰: its running sum before, its weight, the
   *  total, and the error bound. */
  chosen: number;
  before: number;
  weight: number;
  total: number;
  error: number;
  /** Candidates listed (−1: none — not asked, or more than fit above any threshold). */
  listed: number;
  /** The candidates' threshold (see CandidateRow.bound). */
  threshold: number;
}

export const DRAW_RESULT_WORDS = 16;
const NONE = 0xffffffff;
const TWO32 = 2 ** 32;

/** Decodes row `row` of the kernel's output. */
export function readDrawResult(words: Uint32Array, row: number): DrawResult {
  const w = words.subarray(row * DRAW_RESULT_WORDS, (row + 1) * DRAW_RESULT_WORDS);
  const f = new Float32Array(w.buffer, w.byteOffset, DRAW_RESULT_WORDS);
  // 64-bit sums are below 2⁵⁶: as float64 they are exact to 8 units, which the margin covers.
  return {
    best: w[0] === NONE ? -1 : w[0],
    bestValue: f[1],
    second: f[2],
    nonFinite: (w[3] & 1) !== 0,
    chosen: w[4] === NONE ? -1 : w[4],
    before: w[6] * TWO32 + w[5],
    weight: w[8] * TWO32 + w[7],
    total: w[10] * TWO32 + w[9],
    error: f[11],
    epsMax: f[12],
    listed: w[13] === NONE ? -1 : w[13],
    threshold: f[14],
  };
}

/**
 * The token the CPU sampler would pick for this plan from the same logits, or null when the
 * device's numbers cannot prove it (the caller then samples the row on the CPU).
 */
export function certifyDraw(plan: DrawPlan, r: DrawResult, vocabSize: number): number | null {
  if (r.nonFinite || r.best < 0) return null;
  if (plan.invT === 0) {
    if (plan.ids.length === 0) return r.best; // raw f32 values on both sides: same order
    // second is −3.4e38 when no other token is drawable.
    return r.bestValue - r.second > 2 * r.epsMax * 1.001 ? r.best : null;
  }
  if (r.chosen < 0 || !(r.total > 0)) return null;
  const { u } = plan;
  const S = r.total;
  // Kernel bound (summed in f32: ×1.001), the 8-unit float64 conversion of each 64-bit value,
  // and the definition's own float64 running sums and product (any order: V·2⁻⁵³ each).
  const E = r.error * 1.001 + 32 + S * 4 * vocabSize * Number.EPSILON;
  const low = r.before + E < u * (S - E);
  const high = r.before + r.weight - E > u * (S + E);
  return low && high ? r.chosen : null;
}

/**
 * `backend` without the device draw (no forwardBatchDraw, no lastLogits; forwardMany, where
 * the backend has it, without plans): every logits row is read back and sampled on the CPU.
 * For comparing the two paths (bench/sampled-decode.ts, the WebGPU tests); disposing the
 * wrapper leaves `backend` alone.
 */
export function withoutDeviceDraw(backend: Backend): Backend {
  return {
    device: backend.device,
    model: backend.model,
    config: backend.config,
    createState: () => backend.createState(),
    forward: (s, t) => backend.forward(s, t),
    forwardAll: (s, t) => backend.forwardAll(s, t),
    forwardBatch: (s, t) => backend.forwardBatch(s, t),
    forwardMany: backend.forwardMany
      ? (s, t, want) =>
          backend.forwardMany!(
            s,
            t,
            want,
            s.map(() => null),
          )
      : undefined,
    dispose: async () => {},
  };
}
