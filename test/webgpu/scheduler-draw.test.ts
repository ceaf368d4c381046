// Continuous batching with the sampler's draw on the GPU: jobs that offer draw plans get the
// same tokens, seed for seed, as when every row is read back and sampled on the CPU — greedy,
// temperature with penalties and bias, top-k / top-p from the device's candidate list.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Backend } from '../../src/backends/backend.js';
import type { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { BatchScheduler, type JobOutcome, type ScheduledJob } from '../../src/runtime/scheduler.js';
import type { SamplingOptions } from '../../src/runtime/sampling/options.js';
import { Sampler } from '../../src/runtime/sampling/sampler.js';
import { backendsFor, gpu } from './gpu-test-helpers.js';
import { withoutDeviceDraw } from '../../src/backends/device-draw.js';

const shared = fileURLToPath(new URL('../../../shared/', import.meta.url));
const MODEL = join(shared, 'fixtures/rwkv7/tiny-world/model.pth');
const TOKENS = 16;

let g: WebGpuBackend;
before(async () => {
  g = (await backendsFor(await openCheckpoint(MODEL))).gpu;
});
after(async () => {
  await g?.dispose();
  (await gpu()).destroy();
});

/** A job as the server's engine builds it: its own Sampler, TOKENS tokens, then done. */
function job(backend: Backend, prompt: number[], opts: SamplingOptions) {
  const sampler = new Sampler(opts, backend.config.vocabSize);
  const out: number[] = [];
  let resolveEnd!: (o: JobOutcome) => void;
  const ended = new Promise<JobOutcome>((r) => (resolveEnd = r));
  const advance = (t: number) => {
    sampler.accept(t);
    out.push(t);
    return out.length >= TOKENS ? null : t;
  };
  const j: ScheduledJob = {
    state: backend.createState(),
    prompt,
    next: (logits) => advance(sampler.sample(logits)),
    nextDrawn: (t) => advance(sampler.drawn(t)),
    drawPlan: () => sampler.planDraw(),
    onEnd: resolveEnd,
  };
  return { j, out, ended };
}

const SETTINGS: [number[], SamplingOptions][] = [
  [[510, 33, 4000], { temperature: 0 }],
  [[12, 13, 14, 15, 16], { temperature: 1, seed: 5 }],
  [
    [300, 301],
    {
      temperature: 0.7,
      presencePenalty: 0.3,
      frequencyPenalty: 0.5,
      logitBias: { 11: 2, 40000: -Infinity },
      bannedTokens: [0],
      seed: 9,
    },
  ],
  [[7, 8, 9], { temperature: 1, topP: 0.9, seed: 3 }],
  [[21, 22], { temperature: 0.9, topK: 8, topP: 0.8, frequencyPenalty: 0.3, seed: 4 }],
  [[100], { temperature: 0, presencePenalty: 1 }],
];

async function generate(
  backend: Backend,
  settings = SETTINGS,
  prefill = { prefillChunk: 64, prefillTokensPerStep: 256 },
): Promise<number[][]> {
  const scheduler = new BatchScheduler(backend, { maxBatch: 8, maxQueue: 8, ...prefill });
  const jobs = settings.map(([prompt, opts]) => job(backend, prompt, opts));
  jobs.forEach((x) => scheduler.submit(x.j));
  for (const x of jobs) assert.deepEqual(await x.ended, { kind: 'finished' });
  return jobs.map((x) => x.out);
}

describe('scheduler with the GPU draw', () => {
  it('gives the same tokens as reading every row back', async () => {
    const before = { ...g.drawStats };
    const drawn = await generate(g);
    const used = g.drawStats.drawn - before.drawn;
    const fellBack = g.drawStats.fallbacks - before.fallbacks;
    const plain = withoutDeviceDraw(g);
    assert.deepEqual(await generate(plain), drawn);
    // Every job plans all its tokens: the first from the prompt's last row, then its 15 decode
    // steps. The untrained fixture's flat logits leave the top-p 0.9 job's draws to the CPU (its
    // nucleus holds thousands of tokens, more than the device lists); the others are drawn on
    // the GPU (80 of 96 when written; 75 with f32 weights, before draw-weight.wgsl).
    assert.equal(used + fellBack, SETTINGS.length * TOKENS);
    assert.ok(
      used >= (SETTINGS.length - 1) * TOKENS - 4,
      `${used} drawn on the GPU, ${fellBack} read back`,
    );
  });

  it('reads prompt chunks in the decode steps (forwardMany) with the same tokens', async () => {
    // Long prompts in chunks of 32, 48 prompt tokens per step: while the short-prompt jobs
    // decode, the long ones' chunks ride in the same steps.
    const long = (seed: number, n: number) =>
      Array.from({ length: n }, (_, i) => (seed * 7919 + i * 131) % 65000);
    const settings: [number[], SamplingOptions][] = [
      [[510, 33, 4000], { temperature: 0 }],
      [long(1, 150), { temperature: 0 }],
      [[12, 13], { temperature: 1, seed: 5 }],
      [long(2, 70), { temperature: 0.8, presencePenalty: 0.4, seed: 6 }],
      [long(3, 33), { temperature: 1, topK: 8, seed: 7 }],
    ];
    const prefill = { prefillChunk: 32, prefillTokensPerStep: 48 };
    const calls: number[] = [];
    // The GPU draw, but one call per prompt chunk and one per decode batch (no forwardMany).
    const perCall: Backend = {
      ...withoutDeviceDraw(g),
      forwardMany: undefined,
      forwardBatchDraw: (s, t, p) => g.forwardBatchDraw(s, t, p),
      forwardDraw: (s, t, p) => g.forwardDraw(s, t, p),
    };
    const spied: Backend = {
      ...perCall,
      forwardMany: (states, tokens, want, plans) => {
        calls.push(tokens.filter((t) => t.length > 1).length);
        return g.forwardMany(states, tokens, want, plans);
      },
    };
    const together = await generate(spied, settings, prefill);
    assert.deepEqual(await generate(perCall, settings, prefill), together);
    assert.ok(
      calls.length > 0 && calls.some((n) => n > 0),
      'prompt chunks went through forwardMany',
    );
  });
});
