// A cheap e^z for z ≤ 0 with a proven relative-error bound. The sampler uses it only where
// that bound is carried along and checked (sums over the whole vocabulary, and the certified
// walk of full-draw.ts): whenever the bound cannot settle a decision, Math.exp decides.
//
// Why: on a 65536-token vocabulary one Math.exp per token costs ~1 ms in V8 (an out-of-line
// call per element, measured ~15 ns each on the project's 2-core machine), which was most of a
// sample. This table version costs ~3–4 ns there.
//
// Method: e^z = 2^(−t/64) with t = −64·z·log2(e) ≥ 0. Split t = k + f (k integer, f ∈ [0, 1)):
//   2^(−t/64) = 2^(−(k mod 64)/64) · 2^(−⌊k/64⌋) · e^r,   r = −f·ln2/64 ∈ (−0.01084, 0].
// The first two factors come from exact tables; e^r is its Taylor polynomial of degree 3, whose
// error for |r| ≤ 0.01084 is at most r⁴/24 ≤ 5.8e-10 (alternating series). With the rounding of
// the table product and of t, the total relative error is below 6e-10; callers assume
// APPROX_EXP_REL_ERROR = 2e-9, a 3× margin (a larger bound is always safe, but widens the
// intervals and so makes the exact fallbacks more frequent).
//
// Domain: normal results only, z ∈ [APPROX_EXP_MIN_Z, 0] (z > 0 would give garbage: callers
// pass z = (logit − max)/T with the true maximum). Below that the result would be subnormal,
// with no relative-error bound; callers never go there (negligibleZ below is never lower).

export const APPROX_EXP_REL_ERROR = 2e-9;

/** e^z is a normal double (≥ 2.2e-308) for z above this; approxExp is only used there. */
export const APPROX_EXP_MIN_Z = -708;

const FRACTION = new Float64Array(64); // 2^(−j/64)
for (let j = 0; j < 64; j++) FRACTION[j] = Math.pow(2, -j / 64);
const WHOLE = new Float64Array(1024); // 2^(−m), exact powers of two
for (let m = 0; m < WHOLE.length; m++) WHOLE[m] = Math.pow(2, -m);

const T_PER_Z = -64 * Math.LOG2E;
const R_PER_F = -Math.LN2 / 64;

/** e^z for APPROX_EXP_MIN_Z ≤ z ≤ 0, relative error < APPROX_EXP_REL_ERROR. */
export function approxExp(z: number): number {
  const t = z * T_PER_Z; // in [0, 65371]
  const k = t | 0; // = ⌊t⌋ for t ≥ 0; Math.floor took 1.7× as long in this loop
  const r = (t - k) * R_PER_F;
  return FRACTION[k & 63] * WHOLE[k >> 6] * (1 + r * (1 + r * (0.5 + r * (1 / 6))));
}

/**
 * Approximate sums leave out the tokens with z below this: each weighs < 1e-10/V of the top
 * token (whose weight is 1), so all of them together < 1e-10 — inside the 2e-9 relative
 * error the sums carry anyway — and a peaked distribution skips most of the vocabulary.
 * Callers add `vocabSize · e^z` for the left-out tokens to their error bound.
 */
export function negligibleZ(vocabSize: number): number {
  return Math.max(APPROX_EXP_MIN_Z, Math.log(1e-10 / vocabSize));
}
