// From adjusted logits to the distribution that is actually sampled, in this order:
//
//   1. softmax with temperature T:  w[i] = exp((logit[i] − max) · (1/T))   (unnormalised)
//   2. top-k:  keep the k tokens with the largest logits (ties: lower id first)
//   3. top-p:  among what is left, sorted by probability, keep the shortest prefix whose mass
//              reaches p of the remaining mass, plus any token tied with the last one kept
//              (the cut-off rule of ChatRWKV's sample_logits: keep every p ≥ cut-off); p = 0
//              keeps only the most probable token(s)
//   4. min-p:  drop tokens whose probability is below minP × the most probable token's
//   5. renormalise over the survivors and draw
//
// This is the order of most inference servers (temperature before the truncations), not
// ChatRWKV's, which applies top-p to the T = 1 probabilities and the temperature afterwards.
//
// Cost for a vocabulary of V = 65536: with top-k only the k survivors are exponentiated
// (partial selection, top-indices.ts); with top-p / min-p only the tokens that can survive are
// (threshold-truncation.ts); the cut-off is found by partitioning (nucleus.ts). No step sorts
// the vocabulary and, given a SamplingScratch, none allocates a vocabulary-sized array. (With
// no truncation at all the Sampler does not come here: full-draw.ts draws without listing.)

import { cutoffForMass } from './nucleus.js';
import { SamplingScratch } from './scratch.js';
import { truncateAllExact, truncateByThreshold } from './threshold-truncation.js';
import { topIndices } from './top-indices.js';
import { exactWeights, keepAtLeast, maxOf, sumOf } from './weight-loops.js';

export interface TruncationOptions {
  /** > 0 here; temperature 0 is greedy and never reaches this module. */
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
}

/** The tokens that may be drawn and their unnormalised weights (aligned arrays). */
export interface Candidates {
  ids: Int32Array;
  weights: Float64Array;
  total: number;
}

/** Largest logit; throws on NaN and when every token is banned (−∞). */
export function maxLogit(logits: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const x = logits[i];
    if (x > max) max = x;
    else if (Number.isNaN(x)) throw new Error(`the model produced NaN logits (token ${i})`);
  }
  if (max === -Infinity) throw new Error('every token is banned: nothing can be sampled');
  if (max === Infinity) throw new Error('the logits contain +Infinity: cannot form a distribution');
  return max;
}

/**
 * The survivors of the truncations and their weights. Order: token id, or rank (best first)
 * when top-k is on; the draw walks them in this order. With a `scratch`, the arrays returned
 * are views of its buffers (valid until its next use). `max` may be passed when the caller
 * already knows maxLogit(logits).
 */
export function truncate(
  logits: ArrayLike<number>,
  o: TruncationOptions,
  scratch: SamplingScratch = new SamplingScratch(),
  max: number = maxLogit(logits),
): Candidates {
  const values = logits instanceof Float64Array ? logits : Float64Array.from(logits);
  const V = values.length;
  const invT = 1 / o.temperature;
  let kept;
  if (o.topK > 0 && o.topK < V) kept = truncateTopK(values, max, invT, o, scratch);
  else if (o.topP < 1 || o.minP > 0) {
    kept = truncateByThreshold(values, max, invT, o.topP, o.minP, scratch);
  } else kept = truncateAllExact(values, max, invT, 1, 0, scratch);
  return {
    ids: scratch.ids.subarray(0, kept.n),
    weights: scratch.weights.subarray(0, kept.n),
    total: kept.total,
  };
}

/** Top-k first (rank order), then top-p and min-p among the k. */
function truncateTopK(
  logits: Float64Array,
  max: number,
  invT: number,
  o: TruncationOptions,
  s: SamplingScratch,
) {
  const top = topIndices(logits, o.topK);
  const k = top.length;
  s.reserve(k);
  const { ids, weights: w, select } = s;
  ids.set(top);
  exactWeights(logits, max, invT, ids, w, k);
  let t = -Infinity;
  if (o.topP <= 0) t = maxOf(w, k, -Infinity);
  else if (o.topP < 1) {
    select.set(w.subarray(0, k));
    t = cutoffForMass(select, k, o.topP * sumOf(w, k));
  }
  return keepAtLeast(ids, w, k, t, o.minP);
}

/** The candidate picked by a uniform number u in [0, 1): walks the cumulative weights. */
export function drawCandidate(c: Candidates, u: number): number {
  const target = u * c.total;
  let cum = 0;
  let last = -1;
  for (let j = 0; j < c.ids.length; j++) {
    const w = c.weights[j];
    if (w <= 0) continue;
    cum += w;
    last = c.ids[j];
    if (target < cum) return last;
  }
  // Only reachable through rounding when u is within 1e-16 of 1: take the last live token.
  if (last < 0) throw new Error('no token has a positive probability');
  return last;
}
