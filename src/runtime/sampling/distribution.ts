// From adjusted logits to the distribution that is actually sampled, in this order:
//
//   1. softmax with temperature T:  w[i] = exp((logit[i] − max) / T)   (unnormalised)
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
// (partial selection, top-indices.ts); otherwise one linear pass computes the weights, and
// top-p finds its cut-off by partitioning (nucleus.ts) — no step sorts the vocabulary.

import { nucleusCutoff } from './nucleus.js';
import { topIndices } from './top-indices.js';

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

function weightsOf(
  logits: ArrayLike<number>,
  ids: Int32Array,
  max: number,
  invT: number,
): Float64Array {
  const w = new Float64Array(ids.length);
  for (let j = 0; j < ids.length; j++) w[j] = Math.exp((logits[ids[j]] - max) * invT);
  return w;
}

/** The entries of (ids, w) whose weight is at least `threshold`, order kept. */
function keepAtLeast(ids: Int32Array, w: Float64Array, threshold: number) {
  let n = 0;
  for (let j = 0; j < ids.length; j++) {
    if (w[j] >= threshold) {
      ids[n] = ids[j];
      w[n] = w[j];
      n++;
    }
  }
  return { ids: ids.subarray(0, n), w: w.subarray(0, n) };
}

export function truncate(logits: ArrayLike<number>, o: TruncationOptions): Candidates {
  const V = logits.length;
  const max = maxLogit(logits);
  const invT = 1 / o.temperature;
  const useTopK = o.topK > 0 && o.topK < V;

  let ids: Int32Array;
  let w: Float64Array;
  if (useTopK) {
    ids = topIndices(logits, o.topK);
  } else {
    ids = new Int32Array(V);
    for (let i = 0; i < V; i++) ids[i] = i;
  }
  w = weightsOf(logits, ids, max, invT);

  if (o.topP < 1) ({ ids, w } = keepAtLeast(ids, w, nucleusCutoff(w, o.topP)));
  if (o.minP > 0) {
    let top = 0;
    for (const x of w) if (x > top) top = x;
    ({ ids, w } = keepAtLeast(ids, w, o.minP * top));
  }

  let total = 0;
  for (const x of w) total += x;
  return { ids, weights: w, total };
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
