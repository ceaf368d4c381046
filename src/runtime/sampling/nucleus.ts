// The top-p cut-off without sorting. Top-p keeps the most probable tokens until their mass
// reaches p, plus every token tied with the last one kept — equivalently, every token whose
// weight is at least the cut-off t, where t is the largest weight value with
//   S(t) = Σ_{w ≥ t} w  ≥  p · Σ w.
// S falls as t rises, so t can be found like a quickselect: partition the weights around a
// pivot v into (> v | = v | < v) with their sums; the answer lies above v, is v, or lies below
// v (then everything ≥ v is in and the target shrinks by its mass). Expected linear time, so a
// flat distribution over 65536 tokens (where p = 0.9 keeps tens of thousands of them) costs a
// few passes instead of a sort. The result is unique, so the pivot choice affects only speed
// (up to the rounding of the partial sums; see the note at the end of sampler.ts's header).

/** The cut-off weight t: keep exactly the tokens with w ≥ t. −∞ keeps everything. */
export function nucleusCutoff(weights: ArrayLike<number>, topP: number): number {
  const n = weights.length;
  const v = new Float64Array(n);
  let mass = 0;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    v[i] = weights[i];
    mass += v[i];
    if (v[i] > max) max = v[i];
  }
  if (topP <= 0) return max; // only the most probable token(s)
  return cutoffForMass(v, n, topP * mass);
}

/**
 * The largest value t among v[0, n) with Σ_{v ≥ t} v ≥ target, or −∞ when even the whole
 * prefix falls short (rounding, target ≈ total). Permutes v[0, n) (callers pass a copy).
 */
export function cutoffForMass(v: Float64Array, n: number, target: number): number {
  let lo = 0;
  let hi = n;
  while (hi > lo) {
    const pivot = medianOfThree(v[lo], v[lo + ((hi - lo) >> 1)], v[hi - 1]);
    // Three-way partition of v[lo, hi): [lo, gt) > pivot, [gt, eq) = pivot, [eq, hi) < pivot.
    let gt = lo;
    let i = lo;
    let lt = hi;
    let sumGreater = 0;
    let sumEqual = 0;
    while (i < lt) {
      const x = v[i];
      if (x > pivot) {
        sumGreater += x;
        v[i] = v[gt];
        v[gt++] = x;
        i++;
      } else if (x < pivot) {
        v[i] = v[--lt];
        v[lt] = x;
      } else {
        sumEqual += x;
        i++;
      }
    }
    if (sumGreater >= target) {
      hi = gt; // the cut-off is above the pivot
    } else if (sumGreater + sumEqual >= target) {
      return pivot;
    } else {
      target -= sumGreater + sumEqual; // everything ≥ pivot is kept
      lo = lt;
    }
  }
  // Only reached when rounding leaves the target just above the total mass: keep everything.
  return -Infinity;
}

function medianOfThree(a: number, b: number, c: number): number {
  if (a > b) [a, b] = [b, a];
  if (b > c) b = c;
  return a > b ? a : b;
}
