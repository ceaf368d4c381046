// Empirical frequencies of the sampler against probabilities computed here, independently,
// straight from the definitions of temperature, top-k, top-p and min-p.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { truncate } from '../../src/runtime/sampling/distribution.js';
import { nucleusCutoff } from '../../src/runtime/sampling/nucleus.js';
import { Xoshiro128StarStar } from '../../src/runtime/sampling/rng.js';
import { Sampler } from '../../src/runtime/sampling/sampler.js';
import { topIndices } from '../../src/runtime/sampling/top-indices.js';

interface Cfg {
  temperature: number;
  topK?: number;
  topP?: number;
  minP?: number;
}

/** The definition, written as plainly as possible: full sort, cumulative sums. */
function expectedProbs(logits: number[], c: Cfg): number[] {
  const n = logits.length;
  const w = logits.map((l) => Math.exp(l / c.temperature));
  const z = w.reduce((a, b) => a + b, 0);
  const p = w.map((x) => x / z);
  const order = [...p.keys()].sort((a, b) => p[b] - p[a] || a - b);
  let keep = new Set(order);
  if (c.topK && c.topK < n) keep = new Set(order.slice(0, c.topK));
  if (c.topP !== undefined && c.topP < 1) {
    const kept = order.filter((i) => keep.has(i));
    const mass = kept.reduce((a, i) => a + p[i], 0);
    // The shortest prefix reaching topP of the mass, plus tokens tied with its last one.
    const next = new Set<number>();
    let cum = 0;
    let cutoff = Infinity;
    for (const i of kept) {
      if (next.size > 0 && cum >= c.topP && p[i] < cutoff) break;
      next.add(i);
      cum += p[i] / mass;
      cutoff = p[i];
    }
    keep = next;
  }
  if (c.minP) {
    const top = Math.max(...[...keep].map((i) => p[i]));
    keep = new Set([...keep].filter((i) => p[i] >= c.minP! * top));
  }
  const mass = [...keep].reduce((a, i) => a + p[i], 0);
  return p.map((x, i) => (keep.has(i) ? x / mass : 0));
}

/** Chi-square upper quantile by the Wilson–Hilferty approximation; z = 4.265 ⇔ p ≈ 1e-5. */
function chiSquareCritical(df: number, z = 4.265): number {
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

const LOGITS = [1.2, 0.3, 2.0, -0.5, 0.9, -2.0, 0.0, 1.6];
const DRAWS = 20_000;

function checkFrequencies(cfg: Cfg, seed: number): void {
  const expected = expectedProbs(LOGITS, cfg);
  const sampler = new Sampler({ ...cfg, seed }, LOGITS.length);
  const logits = Float32Array.from(LOGITS);
  const counts = new Array<number>(LOGITS.length).fill(0);
  for (let i = 0; i < DRAWS; i++) counts[sampler.sample(logits)]++;
  let chi2 = 0;
  let bins = 0;
  expected.forEach((q, i) => {
    if (q === 0) {
      assert.equal(counts[i], 0, `token ${i} is outside the ${JSON.stringify(cfg)} support`);
      return;
    }
    bins++;
    chi2 += (counts[i] - DRAWS * q) ** 2 / (DRAWS * q);
  });
  if (bins > 1) {
    const crit = chiSquareCritical(bins - 1);
    assert.ok(chi2 < crit, `${JSON.stringify(cfg)}: chi² ${chi2.toFixed(2)} ≥ ${crit.toFixed(2)}`);
  } else {
    assert.equal(counts[expected.indexOf(1)], DRAWS);
  }
}

describe('sampling distribution', () => {
  const configs: Cfg[] = [
    { temperature: 1 },
    { temperature: 0.6 },
    { temperature: 1.7 },
    { temperature: 1, topK: 3 },
    { temperature: 0.8, topP: 0.7 },
    { temperature: 1, topP: 0 },
    { temperature: 1.3, minP: 0.25 },
    { temperature: 1.5, topK: 5, topP: 0.9, minP: 0.1 },
  ];
  configs.forEach((cfg, n) => {
    it(`frequencies over ${DRAWS} draws match ${JSON.stringify(cfg)}`, () => {
      checkFrequencies(cfg, 1000 + n);
    });
  });

  it('the test definition itself removes tokens (so the support checks are not vacuous)', () => {
    assert.equal(expectedProbs(LOGITS, { temperature: 1, topK: 3 }).filter((q) => q > 0).length, 3);
    assert.ok(
      expectedProbs(LOGITS, { temperature: 0.8, topP: 0.7 }).filter((q) => q > 0).length < 8,
    );
    assert.ok(
      expectedProbs(LOGITS, { temperature: 1.3, minP: 0.25 }).filter((q) => q > 0).length < 8,
    );
  });

  it('temperature 0 is argmax with the lowest id on ties, and consumes no randomness', () => {
    const s = new Sampler({ temperature: 0, seed: 1 }, 6);
    assert.equal(s.sample(Float32Array.from([0, 3, 1, 3, -1, 2])), 1);
    assert.equal(s.sample(Float32Array.from([5, 3, 1, 3, -1, 5])), 0);
  });

  it('the same seed reproduces a long sample exactly; another seed gives another', () => {
    const V = 65536;
    const gen = Xoshiro128StarStar.fromSeed(5);
    const rows = Array.from({ length: 50 }, () =>
      Float32Array.from({ length: V }, () => (gen.nextFloat() - 0.5) * 12),
    );
    const run = (seed: number) => {
      const s = new Sampler({ temperature: 0.9, topP: 0.95, topK: 500, seed }, V);
      return rows.map((r) => s.sample(r));
    };
    assert.deepEqual(run(77), run(77));
    assert.notDeepEqual(run(77), run(78));
  });
});

describe('truncation on a 65536-token vocabulary equals the full-sort definition', () => {
  const V = 65536;
  const gen = Xoshiro128StarStar.fromSeed(99);
  // Peaked (a few large logits) and flat (all small) rows, with ties, exercise the growing
  // partial selection of top-p as well as its widest case.
  const peaked = Float64Array.from({ length: V }, (_, i) =>
    i % 997 === 0 ? 8 + (i % 5) : Math.round(gen.nextFloat() * 40) / 10,
  );
  const flat = Float64Array.from({ length: V }, () => Math.round(gen.nextFloat() * 10) / 100);
  const cases: [string, Float64Array, Cfg][] = [
    ['peaked top-p', peaked, { temperature: 1, topP: 0.9 }],
    ['flat top-p', flat, { temperature: 1, topP: 0.5 }],
    ['top-k with ties', peaked, { temperature: 0.7, topK: 40 }],
    ['min-p', peaked, { temperature: 1.1, minP: 0.05 }],
    ['all', flat, { temperature: 2, topK: 3000, topP: 0.8, minP: 0.9 }],
  ];
  for (const [name, row, cfg] of cases) {
    it(name, () => {
      const want = expectedProbs(Array.from(row), cfg);
      const c = truncate(row, { topK: 0, topP: 1, minP: 0, ...cfg });
      const got = new Array<number>(V).fill(0);
      c.ids.forEach((id, j) => (got[id] = c.weights[j] / c.total));
      const wantIds = want.flatMap((q, i) => (q > 0 ? [i] : []));
      const gotIds = got.flatMap((q, i) => (q > 0 ? [i] : []));
      assert.deepEqual(gotIds, wantIds);
      for (const i of wantIds) assert.ok(Math.abs(got[i] - want[i]) < 1e-12 * Math.max(1, want[i]));
    });
  }
});

describe('topIndices (partial selection)', () => {
  it('equals a full sort, ties to the lower index, for small and large k', () => {
    const gen = Xoshiro128StarStar.fromSeed(3);
    const values = Float64Array.from({ length: 20000 }, () => Math.floor(gen.nextFloat() * 50));
    const full = [...values.keys()].sort((a, b) => values[b] - values[a] || a - b);
    for (const k of [1, 7, 64, 1000, 5000, 20000]) {
      assert.deepEqual(Array.from(topIndices(values, k)), full.slice(0, k), `k = ${k}`);
    }
  });
});

describe('nucleusCutoff', () => {
  it('keeps the top token(s) at p = 0, ties at the cut-off, and everything at p = 1', () => {
    const w = [0.1, 0.4, 0.2, 0.4, 0.05];
    assert.equal(nucleusCutoff(w, 0), 0.4);
    // 0.4 alone is 0.35 of the mass 1.15; p = 0.3 is reached by one 0.4, and its tie stays.
    assert.equal(nucleusCutoff(w, 0.3), 0.4);
    assert.equal(nucleusCutoff(w, 0.75), 0.2); // 0.8 / 1.15 ≈ 0.696 < 0.75 ≤ 1.0 / 1.15
    assert.ok(nucleusCutoff(w, 1) <= 0.05);
  });
});
