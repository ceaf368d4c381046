// Token-sampling speed on a 65536-entry vocabulary: µs per `Sampler.sample()` for the usual
// settings, on logits shaped like a language model's (a normal bulk plus a few dozen tokens far
// above it, so that the top token has 20–90 % of the mass). Prints JSON.
// Usage: node --import tsx bench/sampler.ts [--samples N] [--vocab V]

import { parseArgs } from 'node:util';
import { Xoshiro128StarStar } from '../src/runtime/sampling/rng.js';
import type { SamplingOptions } from '../src/runtime/sampling/options.js';
import { Sampler } from '../src/runtime/sampling/sampler.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '300' },
    vocab: { type: 'string', default: '65536' },
  },
});
const samples = Math.max(1, Number(values.samples));
const V = Number(values.vocab);

const gen = Xoshiro128StarStar.fromSeed(2024);
function normal(): number {
  // Box–Muller; 1 − u keeps the logarithm finite.
  const u = 1 - gen.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * gen.nextFloat());
}

/**
 * One row: every token N(0, 2²) (bulk mass ≈ V·e² ≈ e^13), then 48 random tokens lifted to
 * 12 + 8·u³, a plausible handful of continuations with a long tail among them.
 */
function lmLikeRow(): Float32Array {
  const row = new Float32Array(V);
  for (let i = 0; i < V; i++) row[i] = 2 * normal();
  for (let j = 0; j < 48; j++) {
    row[Math.floor(gen.nextFloat() * V)] = 12 + 8 * gen.nextFloat() ** 3;
  }
  return row;
}

const rows = Array.from({ length: 16 }, lmLikeRow);

/** The mass of the most probable token at T = 1, to show what the rows look like. */
function topProbability(row: Float32Array): number {
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  let z = 0;
  for (const x of row) z += Math.exp(x - max);
  return 1 / z;
}

interface Case {
  name: string;
  options: SamplingOptions;
  /** Tokens accepted before timing starts (fills the penalty counts). */
  history?: number;
}

const cases: Case[] = [
  { name: 'greedy', options: { temperature: 0 } },
  { name: 'temperature 0.8', options: { temperature: 0.8 } },
  { name: 'top-k 40', options: { temperature: 0.8, topK: 40 } },
  { name: 'top-p 0.95', options: { temperature: 1, topP: 0.95 } },
  { name: 'top-p 0.5', options: { temperature: 1, topP: 0.5 } },
  { name: 'min-p 0.05', options: { temperature: 1, minP: 0.05 } },
  {
    name: 'top-p 0.95 + penalties (500 tokens seen)',
    options: { temperature: 1, topP: 0.95, presencePenalty: 0.4, frequencyPenalty: 0.4 },
    history: 500,
  },
];

function run(c: Case) {
  const sampler = new Sampler({ ...c.options, seed: 7 }, V);
  const hist = Xoshiro128StarStar.fromSeed(11);
  for (let i = 0; i < (c.history ?? 0); i++) sampler.accept(Math.floor(hist.nextFloat() * V));
  const penalised = c.history !== undefined;
  // Untimed warm-up so the JIT has optimised the code, then timed batches of 10 samples.
  for (let i = 0; i < 30; i++) sampler.sample(rows[i % rows.length]);
  const batch = 10;
  const perSample: number[] = [];
  let checksum = 0;
  // CPU time as well as wall time: on a shared machine the wall clock includes waiting.
  const cpu0 = process.cpuUsage();
  for (let b = 0; b < Math.ceil(samples / batch); b++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) {
      const token = sampler.sample(rows[(b * batch + i) % rows.length]);
      if (penalised) sampler.accept(token); // the server's step: sample, then record it
      checksum += token;
    }
    perSample.push(((performance.now() - t0) * 1000) / batch);
  }
  const cpu = process.cpuUsage(cpu0);
  const batches = perSample.length;
  perSample.sort((a, b) => a - b);
  const mean = perSample.reduce((a, b) => a + b, 0) / perSample.length;
  return {
    case: c.name,
    options: c.options,
    us_per_sample_median: Number(perSample[perSample.length >> 1].toFixed(1)),
    us_per_sample_mean: Number(mean.toFixed(1)),
    us_per_sample_min: Number(perSample[0].toFixed(1)),
    cpu_us_per_sample: Number(((cpu.user + cpu.system) / (batches * batch)).toFixed(1)),
    token_checksum: checksum,
    // How often the certified shortcuts were inconclusive and the exact path ran (new code).
    exact_fallbacks: sampler.scratch.exactMassFallbacks + sampler.scratch.exactDrawFallbacks,
  };
}

const topProbs = rows.map(topProbability).sort((a, b) => a - b);
const results = cases.map(run);
console.log(
  JSON.stringify(
    {
      bench: 'sampler',
      vocab: V,
      samples_per_case: samples,
      rows: rows.length,
      top_token_probability: {
        min: Number(topProbs[0].toFixed(3)),
        median: Number(topProbs[topProbs.length >> 1].toFixed(3)),
        max: Number(topProbs[topProbs.length - 1].toFixed(3)),
      },
      node: process.version,
      results,
    },
    null,
    2,
  ),
);
