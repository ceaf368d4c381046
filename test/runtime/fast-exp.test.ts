// approxExp carries the error bound that the sampler's certified shortcuts rely on: check it
// against Math.exp across its whole domain, densely, and at the table seams.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  APPROX_EXP_MIN_Z,
  APPROX_EXP_REL_ERROR,
  approxExp,
  negligibleZ,
} from '../../src/runtime/sampling/fast-exp.js';
import { Xoshiro128StarStar } from '../../src/runtime/sampling/rng.js';

function relError(z: number): number {
  const exact = Math.exp(z);
  return Math.abs(approxExp(z) - exact) / exact;
}

describe('approxExp', () => {
  it('stays within 6e-10 relative of Math.exp on [APPROX_EXP_MIN_Z, 0]', () => {
    const gen = Xoshiro128StarStar.fromSeed(8);
    let worst = 0;
    for (let i = 0; i < 200_000; i++)
      worst = Math.max(worst, relError(gen.nextFloat() * APPROX_EXP_MIN_Z));
    // Near 0 and around the seams of the 2^(−j/64) table (t = −64·z·log2 e an integer).
    for (let i = 0; i < 20_000; i++) {
      worst = Math.max(worst, relError(-i * 1e-5));
      const seam = -(i / 64) * Math.LN2;
      for (const d of [-1e-13, 0, 1e-13])
        if (seam + d <= 0) worst = Math.max(worst, relError(seam + d));
    }
    worst = Math.max(worst, relError(0), relError(APPROX_EXP_MIN_Z));
    assert.ok(worst < 6e-10, `worst relative error ${worst}`);
    assert.ok(worst * 3 < APPROX_EXP_REL_ERROR, 'the bound callers assume keeps a 3x margin');
  });

  it('negligibleZ: all tokens below it weigh less than 1e-10 together', () => {
    for (const V of [2, 1000, 65536, 1 << 20]) {
      const z = negligibleZ(V);
      assert.ok(z >= APPROX_EXP_MIN_Z);
      assert.ok(V * Math.exp(z) <= 1.0000001e-10, `V = ${V}`);
    }
  });
});
