// The draw when nothing is truncated (no top-k, top-p = 1, min-p = 0): every token keeps its
// weight w_i = e^{z_i}, and the definition picks the first token whose running sum of weights
// (in token-id order) exceeds u · Σ w. That needs all V weights, and Math.exp on each of them
// cost ~1 ms at V = 65536, so the walk is done on approxExp weights (fast-exp.ts) instead —
// first over sums of blocks of 256 tokens, then inside the one block that holds the target —
// and *certified*: with a proven bound E on how far any running sum, and the total, can be from
// the exact ones, a token whose interval [running sum before, running sum after) holds the
// target with a margin of more than 2E on both sides is the exact answer too. Only when the
// target falls within that margin of a boundary (none in 3000 draws on bench/sampler.ts's
// language-model-like rows) are the exact weights computed and the definition walked as is.

import { drawCandidate } from './distribution.js';
import { approxExp, negligibleZ } from './fast-exp.js';
import { allExactWeights } from './weight-loops.js';
import type { SamplingScratch } from './scratch.js';

/** Tokens per block: the first pass keeps only block sums; the walk revisits one block. */
const BLOCK = 256;

/** The token drawn by uniform `u` ∈ [0, 1) from all of softmax((logits − max) / T). */
export function drawUntruncated(
  logits: Float64Array,
  max: number,
  invT: number,
  u: number,
  s: SamplingScratch,
): number {
  const V = logits.length;
  s.reserve(Math.ceil(V / BLOCK));
  const blockSums = s.select;
  const zSkip = negligibleZ(V);
  const total = sumBlocks(logits, max, invT, zSkip, blockSums);

  // |approx − exact| ≤ ρ·exact per weight ⇒ ≤ ρ/(1 − ρ)·approx, plus < e^zSkip for each
  // weight taken as 0. Any float sum of V non-negative terms, in any grouping, is within
  // V·2⁻⁵³ of its real value; the definition's running sums and these differ by at most two
  // such errors, which 4·V·ε covers.
  const rho = s.approxRelError / (1 - s.approxRelError);
  const bound = total * (rho * 1.001 + 4 * V * Number.EPSILON) + V * Math.exp(zSkip) * 1.001;
  // The two targets u·total differ by at most u·bound plus two roundings.
  const margin = 2 * bound + 2 * Number.EPSILON * total;
  const target = u * total;
  const picked = certifiedPick(logits, max, invT, zSkip, blockSums, target, margin);
  if (picked >= 0) return picked;

  s.exactDrawFallbacks++;
  s.reserve(V);
  const { ids, weights: w } = s;
  const exactTotal = allExactWeights(logits, max, invT, ids, w);
  return drawCandidate(
    { ids: ids.subarray(0, V), weights: w.subarray(0, V), total: exactTotal },
    u,
  );
}

/**
 * The token whose approximate interval holds `target` with more than `margin` to spare on both
 * sides, or −1 (near a boundary; or rounding put the target past the last block).
 */
function certifiedPick(
  logits: Float64Array,
  max: number,
  invT: number,
  zSkip: number,
  blockSums: Float64Array,
  target: number,
  margin: number,
): number {
  const V = logits.length;
  let cum = 0;
  let start = 0;
  let b = 0;
  // Skip whole blocks, then walk the tokens of the block that holds the target.
  while (start < V && !(target < cum + blockSums[b])) {
    cum += blockSums[b++];
    start += BLOCK;
  }
  const end = Math.min(V, start + BLOCK);
  for (let i = start; i < end; i++) {
    const z = (logits[i] - max) * invT;
    if (!(z >= zSkip)) continue; // weight taken as 0, as in sumBlocks
    const before = cum;
    cum += approxExp(z);
    if (target < cum) {
      // Room on both sides is required even when `before` is 0: a tiny weight taken as 0 may
      // precede, and u may be 0.
      return cum - target > margin && target - before >= margin ? i : -1;
    }
  }
  return -1;
}

/**
 * approxExp(z) summed per block of BLOCK tokens into blockSums; returns the total. A function
 * of its own: V8 optimises a loop better when nothing but `return` follows it (measured).
 */
function sumBlocks(
  logits: Float64Array,
  max: number,
  invT: number,
  zSkip: number,
  blockSums: Float64Array,
): number {
  const V = logits.length;
  let total = 0;
  for (let start = 0, b = 0; start < V; start += BLOCK, b++) {
    const end = Math.min(V, start + BLOCK);
    let sum = 0;
    for (let i = start; i < end; i++) {
      const z = (logits[i] - max) * invT;
      // Below zSkip the weight is negligible (or 0): taken as 0 here, inside the error bound.
      // No Math.exp call in this loop: even one never taken doubled its cost.
      if (z >= zSkip) sum += approxExp(z);
    }
    blockSums[b] = sum;
    total += sum;
  }
  return total;
}
