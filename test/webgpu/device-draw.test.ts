// The sampler's draw on the GPU (kernels/draw.wgsl + backends/device-draw.ts): every token it
// certifies is the token the CPU Sampler draws from the same row with the same uniform — with
// temperatures, bias, bans and repetition penalties — and rows it cannot prove (NaN, every
// token banned, u·S at a boundary) come back uncertified instead of wrong.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { DrawPlan } from '../../src/backends/device-draw.js';
import { DrawKernel } from '../../src/backends/webgpu/draw-kernel.js';
import { Pipelines } from '../../src/backends/webgpu/pipelines.js';
import type { SamplingOptions } from '../../src/runtime/sampling/options.js';
import { Sampler } from '../../src/runtime/sampling/sampler.js';
import { Xoshiro128StarStar } from '../../src/runtime/sampling/rng.js';
import { gpu } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

const V = 65536;

/** Deterministic rows: "lm" has a few strong tokens over a Gaussian-like tail (a trained
 *  model's shape), "flat" the near-uniform logits of an untrained one. */
function makeRow(kind: 'lm' | 'flat', seed: number): Float32Array {
  const rng = Xoshiro128StarStar.fromSeed(seed);
  const row = new Float32Array(V);
  const gauss = () => {
    let s = 0;
    for (let i = 0; i < 4; i++) s += rng.nextFloat();
    return (s - 2) * 1.7;
  };
  for (let i = 0; i < V; i++) row[i] = kind === 'lm' ? 2.5 * gauss() - 4 : 0.3 * gauss();
  if (kind === 'lm') {
    for (let j = 0; j < 12; j++) row[Math.floor(rng.nextFloat() * V)] = 6 + 5 * rng.nextFloat();
  }
  return row;
}

interface Case {
  row: Float32Array;
  sampler: Sampler;
  plan: DrawPlan;
}

/** A sampler whose uniform stream is `us`, with `history` already accepted (penalties). */
function samplerFor(opts: SamplingOptions, us: number[], history: number[] = []): Sampler {
  let i = 0;
  const s = new Sampler(opts, V, new Set(), { nextFloat: () => us[i++ % us.length] });
  for (const t of history) s.accept(t);
  return s;
}

/** Runs the GPU draw over the cases' rows and returns each certified token (or null). */
async function drawOnGpu(cases: Case[]): Promise<(number | null)[]> {
  const ctx = await gpu();
  const device = ctx.device;
  const logits = device.createBuffer({
    size: cases.length * V * 4,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  cases.forEach((c, r) =>
    device.queue.writeBuffer(logits, r * V * 4, c.row as Float32Array<ArrayBuffer>),
  );
  const kernel = new DrawKernel(ctx, V, new Pipelines(ctx, 'bf16'), logits);
  const enc = device.createCommandEncoder();
  const plans = cases.map((c) => c.plan);
  const layout = await kernel.encode(enc, plans);
  const read = device.createBuffer({
    size: layout.words * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  enc.copyBufferToBuffer(kernel.resultsBuffer, 0, read, 0, layout.words * 4);
  device.queue.submit([enc.finish()]);
  await ctx.wait(read.mapAsync(GPUMapMode.READ));
  const tokens = DrawKernel.tokens(read.getMappedRange().slice(0), layout, plans, V);
  read.destroy();
  logits.destroy();
  kernel.destroy();
  return tokens;
}

/** Asserts every certified token equals the CPU's draw; returns how many were certified. */
async function checkAgainstCpu(cases: Case[]): Promise<number> {
  const gpuTokens = await drawOnGpu(cases);
  let certified = 0;
  cases.forEach((c, r) => {
    const cpu = c.sampler.sample(c.row); // uses the uniform the plan took
    if (gpuTokens[r] === null) return;
    certified++;
    assert.equal(gpuTokens[r], cpu, `row ${r}: GPU drew ${gpuTokens[r]}, the CPU ${cpu}`);
  });
  return certified;
}

function casesFor(
  opts: SamplingOptions,
  rows: Float32Array[],
  perRow: number,
  seed: number,
  history: number[] = [],
): Case[] {
  const rng = Xoshiro128StarStar.fromSeed(seed);
  const out: Case[] = [];
  for (const row of rows) {
    for (let k = 0; k < perRow; k++) {
      const sampler = samplerFor(opts, [rng.nextFloat()], history);
      out.push({ row, sampler, plan: sampler.planDraw() });
    }
  }
  return out;
}

const lm = [1, 2, 3, 4].map((s) => makeRow('lm', s));
const flat = [5, 6].map((s) => makeRow('flat', s));

describe('GPU draw (kernels/draw.wgsl)', () => {
  it('greedy: the CPU argmax, with and without bias, bans and penalties', async () => {
    const tied = new Float32Array(V).fill(-2);
    tied[40000] = 3;
    tied[70] = 3; // equal maxima: the lower id
    const rows = [...lm, ...flat, tied];
    const plain = casesFor({ temperature: 0 }, rows, 1, 1);
    assert.equal(await checkAgainstCpu(plain), plain.length);
    // The top token penalised (it was just generated), another biased up, one banned.
    const best = rows.map((r) => r.indexOf(Math.max(...r)));
    const adjusted = rows.map((row, i) => {
      const sampler = samplerFor(
        {
          temperature: 0,
          presencePenalty: 0.5,
          frequencyPenalty: 0.25,
          logitBias: { 123: 9.5, 77: -Infinity },
          bannedTokens: [best[(i + 1) % rows.length]],
        },
        [0],
        [best[i], best[i], 5],
      );
      return { row, sampler, plan: sampler.planDraw() };
    });
    // Ties after the change are possible in principle; these rows have none, so all certify.
    assert.equal(await checkAgainstCpu(adjusted), adjusted.length);
  });

  it('temperature draws equal the CPU draw; nearly all are certified', async () => {
    // What is left to the CPU is the mass of tokens lighter than ~4 error bounds. With f32
    // weights (bound ~1e-6 of the total) that was 31, 32 and 17 of these 32 draws at T = 1,
    // 0.5, 2; with draw-weight.wgsl's (~1e-8 here: half a unit per token) all 32.
    for (const [opts, minShare] of [
      [{ temperature: 1 }, 0.95],
      [{ temperature: 0.5 }, 0.95],
      [{ temperature: 2 }, 0.95],
    ] as [SamplingOptions, number][]) {
      const cases = casesFor(opts, lm, 8, 11);
      const certified = await checkAgainstCpu(cases);
      assert.ok(
        certified >= minShare * cases.length,
        `T=${opts.temperature}: ${certified} of ${cases.length} certified`,
      );
    }
    // Near-uniform rows (an untrained model's): every token is ~1.5e-5 of the mass, and the
    // boundaries of 65536 such intervals lie everywhere. With f32 weights the target was within
    // the bound (~1e-6 of the total) of one for 2 of these 16 draws; now the bound is ~2e-12.
    const flatCases = casesFor({ temperature: 1 }, flat, 8, 12);
    const flatCertified = await checkAgainstCpu(flatCases);
    assert.ok(flatCertified >= 0.95 * flatCases.length, `flat rows: ${flatCertified} certified`);
  });

  it('with bias, bans and repetition penalties', async () => {
    const opts: SamplingOptions = {
      temperature: 0.8,
      presencePenalty: 0.4,
      frequencyPenalty: 0.6,
      logitBias: { 10: 4, 65535: 12, 300: -Infinity },
      bannedTokens: [0, 1, 2, 60000],
    };
    // The penalised tokens include each row's strong ones (what a model would have emitted).
    const history = lm.flatMap((r) => [...r.keys()].filter((i) => r[i] > 5)).slice(0, 30);
    const cases = casesFor(opts, lm, 6, 13, history);
    assert.ok(cases[0].plan.ids.length > 30, 'the plan lists the changed tokens');
    const certified = await checkAgainstCpu(cases);
    assert.ok(certified >= 0.9 * cases.length, `${certified} of ${cases.length} certified`);
    // A tiny temperature magnifies a changed token's f32 rounding (×1/T): still exact.
    await checkAgainstCpu(casesFor({ ...opts, temperature: 0.002 }, lm, 2, 14, history));
  });

  it('leaves what it cannot prove to the CPU: NaN, every token banned, a boundary', async () => {
    const nan = makeRow('lm', 9);
    nan[4242] = NaN;
    const allBanned = makeRow('flat', 10);
    const s1 = samplerFor({ temperature: 1 }, [0.3]);
    const s2 = samplerFor({ temperature: 0 }, [0]);
    const s3 = samplerFor({ temperature: 1, bannedTokens: [...Array(V).keys()] }, [0.3]);
    // u = 0: the target sits on the first boundary (running sum 0).
    const s4 = samplerFor({ temperature: 1 }, [0]);
    const cases: Case[] = [
      { row: nan, sampler: s1, plan: s1.planDraw() },
      { row: nan, sampler: s2, plan: s2.planDraw() },
      { row: allBanned, sampler: s3, plan: s3.planDraw() },
      { row: lm[0], sampler: s4, plan: s4.planDraw() },
    ];
    assert.deepEqual(await drawOnGpu(cases), [null, null, null, null]);
    assert.throws(() => s1.sample(nan), /NaN/);
    assert.throws(() => s3.sample(allBanned), /banned/);
  });

  it('top-k, top-p and min-p from the candidate list equal the CPU draw', async () => {
    const history = lm.flatMap((r) => [...r.keys()].filter((i) => r[i] > 5)).slice(0, 10);
    for (const [opts, minShare] of [
      [{ temperature: 1, topK: 40 }, 0.9],
      [{ temperature: 0.8, topK: 5, topP: 0.5, minP: 0.01, presencePenalty: 0.5 }, 0.9],
      [{ temperature: 1, topP: 0.5 }, 0.9],
      [{ temperature: 1, topP: 0.3, frequencyPenalty: 0.7, logitBias: { 99: 9 } }, 0.9],
      [{ temperature: 1, topP: 0 }, 0.9],
      [{ temperature: 1.2, minP: 0.05 }, 0.9],
      // A nucleus of thousands of tail tokens: more than the list holds, so the CPU decides.
      [{ temperature: 1, topP: 0.97 }, 0],
    ] as [SamplingOptions, number][]) {
      const cases = casesFor(opts, lm, 4, 21, history);
      assert.ok(cases[0].plan.fromCandidates, 'a truncating plan asks for candidates');
      const certified = await checkAgainstCpu(cases);
      assert.ok(
        certified >= minShare * cases.length,
        `${JSON.stringify(opts)}: ${certified} of ${cases.length} certified`,
      );
    }
    // Flat rows: whatever is certified must still be the CPU's token.
    await checkAgainstCpu(casesFor({ temperature: 1, topP: 0.2, minP: 0.5 }, flat, 4, 22));
  });

  it('plans carry the step uniform until the step is settled', () => {
    assert.equal(
      samplerFor({ temperature: 0, topP: 0.9 }, [0.5]).planDraw().fromCandidates,
      undefined,
    );
    // Planning twice before the step is settled takes one uniform, and sample() reuses it.
    const s = samplerFor({ temperature: 1 }, [0.25, 0.75]);
    assert.equal(s.planDraw().u, 0.25);
    assert.equal(s.planDraw().u, 0.25);
    s.drawn(7);
    assert.equal(s.planDraw().u, 0.75);
  });
});
