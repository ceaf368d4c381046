// The loops over candidate arrays, one small function each with nothing after its loop but
// `return`. Why: V8 (Node 20) compiles a long-running loop on the stack (OSR) and caches that
// code; when the same function also held the code *after* the loop, that cached code was
// deoptimised on every later call (seen with --trace-deopt: hundreds of "not a Smi" bailouts
// in one benchmark run, each call paying for it). Leaf loops avoid it.

/** Kept count and total weight of the survivors in (ids, w)[0, n). */
export interface Kept {
  n: number;
  total: number;
}

/** w[j] = exp((logits[ids[j]] − max) · invT) for j < n — the definition's weight, exactly. */
export function exactWeights(
  logits: Float64Array,
  max: number,
  invT: number,
  ids: Int32Array,
  w: Float64Array,
  n: number,
): void {
  for (let j = 0; j < n; j++) w[j] = Math.exp((logits[ids[j]] - max) * invT);
}

/** ids[i] = i and the exact weight for every token; returns their sum in id order. */
export function allExactWeights(
  logits: Float64Array,
  max: number,
  invT: number,
  ids: Int32Array,
  w: Float64Array,
): number {
  let mass = 0;
  for (let i = 0; i < logits.length; i++) {
    ids[i] = i;
    w[i] = Math.exp((logits[i] - max) * invT);
    mass += w[i];
  }
  return mass;
}

/** Σ exp((logit − max) · invT) over all tokens, in id order (the definition's total). */
export function exactMass(logits: Float64Array, max: number, invT: number): number {
  let mass = 0;
  for (let i = 0; i < logits.length; i++) mass += Math.exp((logits[i] - max) * invT);
  return mass;
}

/** Moves the entries of (ids, w)[0, n) with w ≥ floor to the front, order kept; the count. */
export function filterAtLeast(ids: Int32Array, w: Float64Array, n: number, floor: number): number {
  let m = 0;
  for (let j = 0; j < n; j++) {
    if (w[j] >= floor) {
      ids[m] = ids[j];
      w[m] = w[j];
      m++;
    }
  }
  return m;
}

/** Largest of w[0, n), or `start` if none is larger. */
export function maxOf(w: Float64Array, n: number, start: number): number {
  let top = start;
  for (let j = 0; j < n; j++) if (w[j] > top) top = w[j];
  return top;
}

/** w[0] + w[1] + … + w[n − 1], in that order. */
export function sumOf(w: Float64Array, n: number): number {
  let total = 0;
  for (let j = 0; j < n; j++) total += w[j];
  return total;
}

/**
 * The survivors of a top-p cut-off t (keep w ≥ t) and then of min-p (keep w ≥ minP × the most
 * probable survivor), order kept, with their total in that order.
 */
export function keepAtLeast(
  ids: Int32Array,
  w: Float64Array,
  n: number,
  t: number,
  minP: number,
): Kept {
  let m = filterAtLeast(ids, w, n, t);
  if (minP > 0) m = filterAtLeast(ids, w, m, minP * maxOf(w, m, 0));
  return { n: m, total: sumOf(w, m) };
}
