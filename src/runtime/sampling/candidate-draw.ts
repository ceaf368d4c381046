// The draw for options that truncate (top-k, top-p, min-p) from a device's candidate list
// (backends/device-draw.ts CandidateRow) instead of the whole row: the listed tokens and the
// changed ones are known exactly, every other token's logit is ≤ `bound`, and the device's
// total weight S comes with a proven bound. The token is returned only when that provably
// decides what the definition (distribution.ts) does on the full row; otherwise null.
//
//   top-k:  the k best known tokens are the row's k best when the k-th of them is > bound.
//           Everything after top-k involves only those k, so the definition's own code runs
//           on the known tokens (listed in token-id order, as ties rank by id).
//   top-p:  the cut-off t (the largest weight with Σ_{w ≥ t} w ≥ p · Σ w) is found among the
//           known tokens for the smallest and the largest total the device's S allows; when
//           both give the same t and t is above every unknown token's weight, it is the row's.
//   min-p:  the survivors are known when every unknown weight is below minP × the top weight.
// The weights, survivors and their sum are then the definition's own computations on the
// same values in the same order. (The one rounding corner is sampler.ts's: a mass landing
// within ulps of p.)
import type { CandidateRow } from '../../backends/device-draw.js';
import { drawCandidate, truncate, type TruncationOptions } from './distribution.js';
import { cutoffForMass } from './nucleus.js';
import { topIndices } from './top-indices.js';
import type { SamplingScratch } from './scratch.js';
import { exactWeights, keepAtLeast } from './weight-loops.js';

const FIX = 2 ** 40; // the device's weight unit (kernels/draw.wgsl)

export interface CandidateDraw {
  options: TruncationOptions;
  vocabSize: number;
  u: number;
  /** Token ids the sampler changes (the plan's ids) and their adjusted logits (float64, exactly
   *  as the sampler computes them from the raw ones). */
  changedIds: Int32Array;
  adjusted: (token: number, raw: number) => number;
  scratch: SamplingScratch;
}

export function drawFromCandidates(d: CandidateDraw, row: CandidateRow): number | null {
  const r = row.result;
  if (r.nonFinite || r.best < 0) return null;
  const o = d.options;
  const V = d.vocabSize;

  // Known tokens in token-id order: listed (unchanged) and changed (unless banned).
  const known = new Map<number, number>();
  for (let j = 0; j < row.ids.length; j++) known.set(row.ids[j], row.raw[j]);
  for (let j = 0; j < d.changedIds.length; j++) {
    const a = d.adjusted(d.changedIds[j], row.changedRaw[j]);
    if (a > -Infinity) known.set(d.changedIds[j], a);
    else known.delete(d.changedIds[j]);
  }
  const ids = Int32Array.from(known.keys()).sort();
  const n = ids.length;
  if (n === 0) return null;
  const values = Float64Array.from(ids, (t) => known.get(t)!);
  let max = -Infinity;
  for (let j = 0; j < n; j++) if (values[j] > max) max = values[j];
  if (!(max > row.bound)) return null; // the row's maximum might be unknown

  const invT = 1 / o.temperature;
  const s = d.scratch;
  if (o.topK > 0 && o.topK < V) {
    if (o.topK > n || !(values[topIndices(values, o.topK)[o.topK - 1]] > row.bound)) return null;
    return pick(truncate(values, o, s, max), ids, d.u);
  }
  // Every unknown token's weight is at most this (monotone exp; margin for its rounding).
  const unknownW = Math.exp((row.bound - max) * invT) * (1 + 1e-12);
  if (o.topP >= 1) {
    if (!(unknownW < o.minP)) return null; // min-p alone: the unknown tokens must all drop
    return pick(truncate(values, o, s, max), ids, d.u);
  }

  // Top-p: the total weight over all V tokens, relative to this max, lies in [lo, hi].
  s.reserve(n);
  const w = s.weights;
  const order = s.ids;
  for (let j = 0; j < n; j++) order[j] = j;
  exactWeights(values, max, invT, order, w, n);
  let t: number;
  if (o.topP <= 0) {
    t = 1; // only the most probable token(s)
  } else {
    const scale = Math.exp((r.bestValue - max) * invT); // device weights are relative to its max
    const S = r.total / FIX;
    const E = (r.error * 1.001 + 32) / FIX + S * 4 * V * Number.EPSILON;
    const lo = (S - E) * scale * (1 - 1e-12);
    const hi = (S + E) * scale * (1 + 1e-12);
    const copy = s.select;
    copy.set(w.subarray(0, n));
    const tLo = cutoffForMass(copy, n, o.topP * lo);
    copy.set(w.subarray(0, n));
    const tHi = cutoffForMass(copy, n, o.topP * hi);
    if (tLo !== tHi) return null;
    t = tLo;
  }
  if (!(t > unknownW)) return null;
  const kept = keepAtLeast(order, w, n, t, o.minP);
  return pick(
    { ids: order.subarray(0, kept.n), weights: w.subarray(0, kept.n), total: kept.total },
    ids,
    d.u,
  );
}

/** drawCandidate over candidates numbered by their index in `ids`; returns the token id. */
function pick(
  c: { ids: Int32Array; weights: Float64Array; total: number },
  ids: Int32Array,
  u: number,
): number {
  return ids[drawCandidate(c, u)];
}
