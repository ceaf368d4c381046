// Top-p and min-p over the whole vocabulary (top-k off), computing Math.exp only for the tokens
// that can survive. Same result as the definition in distribution.ts; only the work differs.
//
// Survivors are bounded below before any weight is known (weights are w = e^z, z = (logit −
// max)/T ≤ 0, and the top token has w = e^0 = 1, so the total mass M ≥ 1):
//   min-p keeps w ≥ minP · 1;
//   top-p keeps w ≥ t where S(t) = Σ_{w ≥ t} w ≥ p·M. The tokens below b = (1 − p)/(2V) weigh
//     less than V·b = (1 − p)/2 ≤ (1 − p)·M/2 together, so S(b) > p·M and t ≥ b.
// A single pass therefore lists the tokens with z ≥ ln(bound) (the "head", a few hundred to a
// few thousand tokens for a language model's logits; only they get Math.exp) and adds up the
// weights with approxExp (fast-exp.ts; negligible ones skipped), whose error bound turns the
// total mass into an interval.
// The cut-off is then found among the head alone (nucleus.ts) at both ends of the interval; if
// they agree — nearly always — that is the cut-off the exact mass would give. If they do not,
// the exact mass is computed (one Math.exp per token, the old cost) and used instead.

import { approxExp, negligibleZ } from './fast-exp.js';
import { cutoffForMass } from './nucleus.js';
import type { SamplingScratch } from './scratch.js';
import {
  allExactWeights,
  exactMass,
  exactWeights,
  keepAtLeast,
  maxOf,
  type Kept,
} from './weight-loops.js';

/** Margin in z so that rounding in Math.log / Math.exp never moves a token across the bound. */
const Z_MARGIN = 1e-6;

/** The top-p cut-off of w[0, n) for a target mass, using `select` as the permuted copy. */
function cutoffOf(w: Float64Array, n: number, target: number, select: Float64Array): number {
  select.set(w.subarray(0, n));
  return cutoffForMass(select, n, target);
}

/**
 * The definition applied to every token: all weights exact, cut-off over all of them. Used when
 * nothing is truncated and as the last resort of the bounded path.
 */
export function truncateAllExact(
  logits: Float64Array,
  max: number,
  invT: number,
  topP: number,
  minP: number,
  s: SamplingScratch,
): Kept {
  const V = logits.length;
  s.reserve(V);
  const { ids, weights: w } = s;
  const mass = allExactWeights(logits, max, invT, ids, w);
  let t = -Infinity;
  if (topP <= 0) t = maxOf(w, V, -Infinity);
  else if (topP < 1) {
    t = cutoffOf(w, V, topP * mass, s.select);
  }
  return keepAtLeast(ids, w, V, t, minP);
}

/** Top-p and/or min-p (at least one active) on the whole vocabulary; see the file header. */
export function truncateByThreshold(
  logits: Float64Array,
  max: number,
  invT: number,
  topP: number,
  minP: number,
  s: SamplingScratch,
): Kept {
  const V = logits.length;
  s.reserve(V);
  const { ids, weights: w } = s;
  const useTopP = topP < 1;
  let bound = 0;
  if (useTopP) bound = topP <= 0 ? 1 : (1 - topP) / (2 * V);
  if (minP > 0) bound = Math.max(bound, minP);
  if (!(bound > 0)) return truncateAllExact(logits, max, invT, topP, minP, s);
  const zHead = Math.log(bound) - Z_MARGIN;
  const needMass = useTopP && topP > 0;

  const { n, approxMass } = needMass
    ? scanWithMass(logits, max, invT, zHead, negligibleZ(V), ids)
    : { n: scanHead(logits, max, invT, zHead, ids), approxMass: 0 };
  exactWeights(logits, max, invT, ids, w, n);

  let t = -Infinity; // no top-p cut-off
  if (needMass) {
    t = cutoffFromBoundedMass(logits, max, invT, topP, n, approxMass, s);
    if (t === -Infinity) return truncateAllExact(logits, max, invT, topP, minP, s);
  } else if (useTopP) {
    t = maxOf(w, n, -Infinity); // top-p = 0: only the most probable token(s)
  }
  return keepAtLeast(ids, w, n, t, minP);
}

// The two scans are leaf functions (see weight-loops.ts for why) and make no calls: a Math.exp
// call site in the loop, even one never taken, doubled its cost.

/** Lists in ids the tokens with z ≥ zHead (in id order); returns how many. */
function scanHead(
  logits: Float64Array,
  max: number,
  invT: number,
  zHead: number,
  ids: Int32Array,
): number {
  let n = 0;
  for (let i = 0; i < logits.length; i++) {
    ids[n] = i;
    n += (logits[i] - max) * invT >= zHead ? 1 : 0;
  }
  return n;
}

/** scanHead, plus the sum of approxExp(z) over the tokens with z ≥ zSkip. */
function scanWithMass(
  logits: Float64Array,
  max: number,
  invT: number,
  zHead: number,
  zSkip: number,
  ids: Int32Array,
): { n: number; approxMass: number } {
  let n = 0;
  let approxMass = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = (logits[i] - max) * invT;
    // Banned tokens (z = −∞) and negligible ones are left out; the slack accounts for them.
    if (z >= zSkip) approxMass += approxExp(z);
    ids[n] = i;
    n += z >= zHead ? 1 : 0;
  }
  return { n, approxMass };
}

/**
 * The top-p cut-off among the head w[0, n), when the mass M is known only as the sum of
 * approxExp over all tokens, within a slack. −∞ when the head cannot reach the target (then the
 * caller falls back to the all-exact definition; never seen with the bound above).
 */
function cutoffFromBoundedMass(
  logits: Float64Array,
  max: number,
  invT: number,
  topP: number,
  n: number,
  approxMass: number,
  s: SamplingScratch,
): number {
  const V = logits.length;
  const rho = s.approxRelError / (1 - s.approxRelError); // error relative to the approximation
  // The definition sums the V exact weights in index order. Against that: ρ' per approximated
  // weight, < V·e^negligibleZ for the weights left out, and V·2⁻⁵³ relative for each of the
  // two float sums of V terms (4·V·ε covers both with room to spare).
  const left = V * Math.exp(negligibleZ(V)) * 1.001;
  const slack = (rho * 1.001 + 4 * V * Number.EPSILON) * approxMass + left;
  const low = cutoffOf(s.weights, n, topP * (approxMass - slack), s.select);
  const high = cutoffOf(s.weights, n, topP * (approxMass + slack), s.select);
  if (low === high) return low;

  s.exactMassFallbacks++;
  return cutoffOf(s.weights, n, topP * exactMass(logits, max, invT), s.select);
}
