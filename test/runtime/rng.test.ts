import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitMix64, Xoshiro128StarStar } from '../../src/runtime/sampling/rng.js';

describe('xoshiro128** / SplitMix64', () => {
  it('matches the reference algorithm', () => {
    // Outputs of the reference C code (prng.di.unimi.it/xoshiro128starstar.c, and SplitMix64
    // from prng.di.unimi.it/splitmix64.c) compiled with gcc: state {1,2,3,4}, and the state
    // filled by SplitMix64 from x = 42 (low word of the first output first).
    const raw = new Xoshiro128StarStar([1, 2, 3, 4]);
    assert.deepEqual(
      Array.from({ length: 6 }, () => raw.nextU32()),
      [11520, 0, 5927040, 70819200, 2031721883, 1637235492],
    );
    const seeded = Xoshiro128StarStar.fromSeed(42);
    assert.deepEqual(
      Array.from({ length: 6 }, () => seeded.nextU32()),
      [1776835114, 4165204688, 17111135, 2317295270, 2792088233, 2554630222],
    );
  });

  it('SplitMix64 advances its counter by the golden-ratio increment', () => {
    const s = { value: 0n };
    splitMix64(s);
    assert.equal(s.value, 0x9e3779b97f4a7c15n);
  });

  it('the same seed reproduces the stream; another seed does not', () => {
    const a = Xoshiro128StarStar.fromSeed(123456789);
    const b = Xoshiro128StarStar.fromSeed(123456789n);
    const c = Xoshiro128StarStar.fromSeed(123456790);
    const sa = Array.from({ length: 100 }, () => a.nextFloat());
    const sb = Array.from({ length: 100 }, () => b.nextFloat());
    const sc = Array.from({ length: 100 }, () => c.nextFloat());
    assert.deepEqual(sa, sb);
    assert.notDeepEqual(sa, sc);
  });

  it('nextFloat is uniform on [0, 1): every decile holds about a tenth of 50k draws', () => {
    const r = Xoshiro128StarStar.fromSeed(2024);
    const n = 50_000;
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const u = r.nextFloat();
      assert.ok(u >= 0 && u < 1);
      bins[Math.floor(u * 10)]++;
    }
    // Binomial(n, 0.1): sd = sqrt(n·0.1·0.9) ≈ 67; a 6-sd band cannot be missed by a uniform source.
    const sd = Math.sqrt(n * 0.1 * 0.9);
    for (const b of bins) assert.ok(Math.abs(b - n / 10) < 6 * sd, `bins ${bins}`);
  });

  it('rejects an all-zero state and non-integer seeds', () => {
    assert.throws(() => new Xoshiro128StarStar([0, 0, 0, 0]), /all zero/);
    assert.throws(() => Xoshiro128StarStar.fromSeed(1.5), /integer/);
  });
});
