// The optimised Sampler against the definition written out plainly (full sorts, every weight
// by Math.exp, id-order sums, the same one uniform draw per sampled step): the same seed must
// give the same token, step after step, for every combination of options.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Xoshiro128StarStar } from '../../src/runtime/sampling/rng.js';
import type { SamplingOptions } from '../../src/runtime/sampling/options.js';
import { Sampler } from '../../src/runtime/sampling/sampler.js';

interface RefOptions {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  presencePenalty: number;
  frequencyPenalty: number;
  penaltyDecay: number;
  logitBias: Map<number, number>;
  bannedTokens: number[];
  seed: number;
}

/** The sampler's documented semantics, with no attempt at speed. */
class ReferenceSampler {
  private readonly counts = new Map<number, number>();
  private readonly rng: Xoshiro128StarStar;

  constructor(private readonly o: RefOptions) {
    this.rng = Xoshiro128StarStar.fromSeed(o.seed);
  }

  sample(row: Float32Array): number {
    const o = this.o;
    const x = Array.from(row);
    for (const [t, b] of o.logitBias) x[t] += b;
    for (const t of o.bannedTokens) x[t] = -Infinity;
    for (const [t, c] of this.counts) {
      if (c > 0 && (o.presencePenalty !== 0 || o.frequencyPenalty !== 0)) {
        x[t] -= o.presencePenalty + c * o.frequencyPenalty;
      }
    }
    if (x.some((v) => Number.isNaN(v))) throw new Error('NaN logits');
    const max = x.reduce((a, b) => (b > a ? b : a), -Infinity);
    if (max === -Infinity) throw new Error('every token is banned');
    if (o.temperature === 0) return x.indexOf(max);

    const invT = 1 / o.temperature;
    const w = x.map((v) => Math.exp((v - max) * invT));
    const V = x.length;
    // Candidates in the order the draw walks them: by rank under top-k, else by id.
    let cand = [...x.keys()];
    if (o.topK > 0 && o.topK < V) cand = cand.sort((a, b) => x[b] - x[a] || a - b).slice(0, o.topK);
    if (o.topP < 1) {
      let t = -Infinity;
      if (o.topP <= 0) t = Math.max(...cand.map((i) => w[i]));
      else {
        let mass = 0;
        for (const i of cand) mass += w[i];
        let cum = 0;
        for (const i of [...cand].sort((a, b) => w[b] - w[a] || a - b)) {
          cum += w[i];
          if (cum >= o.topP * mass) {
            t = w[i]; // the prefix reaching p, and every token tied with its last one
            break;
          }
        }
      }
      cand = cand.filter((i) => w[i] >= t);
    }
    if (o.minP > 0) {
      const top = cand.reduce((a, i) => (w[i] > a ? w[i] : a), 0);
      cand = cand.filter((i) => w[i] >= o.minP * top);
    }
    let total = 0;
    for (const i of cand) total += w[i];
    const target = this.rng.nextFloat() * total;
    let cum = 0;
    let last = -1;
    for (const i of cand) {
      if (w[i] <= 0) continue;
      cum += w[i];
      last = i;
      if (target < cum) return i;
    }
    return last;
  }

  accept(token: number): void {
    for (const [t, c] of this.counts) this.counts.set(t, c * this.o.penaltyDecay);
    this.counts.set(token, (this.counts.get(token) ?? 0) + 1);
  }
}

const gen = Xoshiro128StarStar.fromSeed(4242);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(gen.nextFloat() * xs.length)];
const normal = () =>
  Math.sqrt(-2 * Math.log(1 - gen.nextFloat())) * Math.cos(2 * Math.PI * gen.nextFloat());

/** Logit rows of several shapes: language-model-like, flat, heavily tied, Gumbel. */
function randomRow(V: number, shape: number): Float32Array {
  const row = new Float32Array(V);
  for (let i = 0; i < V; i++) {
    if (shape === 0) row[i] = 2 * normal();
    else if (shape === 1) row[i] = gen.nextFloat() * 0.05;
    else if (shape === 2) row[i] = Math.round(gen.nextFloat() * 6) / 2;
    else row[i] = -3 * Math.log(-Math.log(1 - gen.nextFloat() * (1 - 1e-12)));
  }
  if (shape === 0) {
    for (let j = 0; j < 1 + V / 500; j++)
      row[Math.floor(gen.nextFloat() * V)] = 9 + 9 * gen.nextFloat() ** 3;
  }
  if (gen.nextFloat() < 0.2) row[Math.floor(gen.nextFloat() * V)] = -Infinity;
  return row;
}

function randomOptions(V: number, seed: number): RefOptions {
  const o: RefOptions = {
    temperature: pick([0, 0.05, 0.4, 1, 1, 1.6, 30]),
    topK: pick([0, 0, 0, 1, 3, 40, V - 1, V + 3]),
    topP: pick([1, 1, 0.99, 0.95, 0.6, 0.2, 0]),
    minP: pick([0, 0, 0, 0.02, 0.3, 1]),
    presencePenalty: 0,
    frequencyPenalty: 0,
    penaltyDecay: 0.996,
    logitBias: new Map(),
    bannedTokens: [],
    seed,
  };
  if (gen.nextFloat() < 0.35) {
    o.presencePenalty = gen.nextFloat();
    o.frequencyPenalty = gen.nextFloat();
    o.penaltyDecay = pick([0.5, 0.996, 1]);
  }
  if (gen.nextFloat() < 0.25) {
    o.logitBias.set(Math.floor(gen.nextFloat() * V), pick([-Infinity, -4, 2.5, 30]));
  }
  if (gen.nextFloat() < 0.25) o.bannedTokens.push(Math.floor(gen.nextFloat() * V));
  return o;
}

function samplerOptions(o: RefOptions): SamplingOptions {
  return { ...o, penaltyExclusions: [] };
}

/** Runs both samplers over `steps` rows (cycling), accepting each token; returns the sampler. */
function compare(V: number, steps: number, seed: number, relError?: number): Sampler {
  const o = randomOptions(V, seed);
  const shape = Math.floor(gen.nextFloat() * 4);
  const rows = [randomRow(V, shape), randomRow(V, shape), randomRow(V, shape)];
  const fast = new Sampler(samplerOptions(o), V);
  if (relError !== undefined) fast.scratch.approxRelError = relError;
  const ref = new ReferenceSampler(o);
  for (let step = 0; step < steps; step++) {
    const row = rows[step % rows.length];
    const want = outcome(() => ref.sample(row));
    const got = outcome(() => fast.sample(row));
    assert.equal(got, want, `step ${step}, V ${V}, shape ${shape}, options ${optionsText(o)}`);
    if (typeof want === 'string') return fast; // both refused (every token banned)
    ref.accept(want);
    fast.accept(want);
  }
  return fast;
}

/** The token, or 'error' when sampling throws (e.g. every token banned). */
function outcome(sample: () => number): number | string {
  try {
    return sample();
  } catch {
    return 'error';
  }
}

function optionsText(o: RefOptions): string {
  return JSON.stringify({ ...o, logitBias: [...o.logitBias], bannedTokens: o.bannedTokens });
}

describe('optimised sampler = reference definition, token for token', () => {
  it('small and medium vocabularies, 400 random option sets', () => {
    for (let c = 0; c < 400; c++) compare(pick([2, 3, 17, 200, 3000]), 8, c);
  });

  it('65536-token vocabulary', () => {
    for (let c = 0; c < 8; c++) compare(65536, 3, 1000 + c);
  });

  it('also when the exact fallbacks run (error bound inflated so that they must)', () => {
    let massFallbacks = 0;
    let drawFallbacks = 0;
    for (let c = 0; c < 150; c++) {
      const s = compare(pick([17, 200, 3000]), 6, 5000 + c, 0.05);
      massFallbacks += s.scratch.exactMassFallbacks;
      drawFallbacks += s.scratch.exactDrawFallbacks;
    }
    assert.ok(massFallbacks > 0, 'the exact-mass fallback of top-p never ran');
    assert.ok(drawFallbacks > 0, 'the exact-draw fallback never ran');
  });

  it('greedy follows bias, bans and penalties to the lowest-id maximum', () => {
    const V = 6;
    const row = Float32Array.from([1, 4, 2, 4, 0, 3]);
    const cases: [SamplingOptions, number][] = [
      [{}, 1],
      [{ bannedTokens: [1] }, 3],
      [{ bannedTokens: [1, 3] }, 5],
      [{ logitBias: { 0: 3 } }, 0], // ties token 1 at 4: the lower id wins
      [{ logitBias: { 4: 5 } }, 4],
      [{ logitBias: { 1: -0.5 } }, 3],
    ];
    for (const [options, want] of cases) {
      assert.equal(new Sampler({ ...options, temperature: 0 }, V).sample(row), want);
    }
    const penalised = new Sampler({ temperature: 0, presencePenalty: 1, penaltyExclusions: [] }, V);
    penalised.accept(1);
    assert.equal(penalised.sample(row), 3);
    penalised.accept(3);
    assert.equal(penalised.sample(row), 1); // 1, 3 and 5 now tie at 3
  });

  it('a NaN logit is an error unless the token is banned', () => {
    const row = Float32Array.from([0, NaN, 1]);
    assert.throws(() => new Sampler({ seed: 1 }, 3).sample(row), /NaN logits \(token 1\)/);
    assert.throws(() => new Sampler({ temperature: 0 }, 3).sample(row), /NaN/);
    assert.equal(new Sampler({ bannedTokens: [1], temperature: 0 }, 3).sample(row), 2);
  });
});
