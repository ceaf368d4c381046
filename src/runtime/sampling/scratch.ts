// Reusable buffers for one sampler, so that a sample allocates no vocabulary-sized array (at
// V = 65536 a Float64Array is 512 KiB, and the previous code allocated and zeroed three of
// them per sampled step). Also counts how often the exact (slow) paths were needed,
// which tests read to make sure those paths are exercised.

import { APPROX_EXP_REL_ERROR } from './fast-exp.js';

export class SamplingScratch {
  /** Candidate token ids (a prefix is in use). */
  ids = new Int32Array(0);
  /** Weights aligned with `ids`. */
  weights = new Float64Array(0);
  /** Working copy that the cut-off selection permutes (block sums in the untruncated draw). */
  select = new Float64Array(0);

  /**
   * Relative error assumed for approxExp when bounding sums. The true bound is below 6e-10;
   * tests raise it to force the exact fallbacks (a larger bound is always safe, only slower).
   */
  approxRelError = APPROX_EXP_REL_ERROR;

  /** Times top-p needed the exact total mass because the bounded one was inconclusive. */
  exactMassFallbacks = 0;
  /** Times the untruncated draw needed exact weights because the bounded walk was inconclusive. */
  exactDrawFallbacks = 0;

  /** Makes every buffer hold at least `n` entries (grows only; contents are not kept). */
  reserve(n: number): this {
    if (this.ids.length < n) {
      this.ids = new Int32Array(n);
      this.weights = new Float64Array(n);
      this.select = new Float64Array(n);
    }
    return this;
  }
}
