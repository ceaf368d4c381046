// The continuous-batching scheduler on a small random RWKV-7 model (real CPU math): batched
// generation equals one-at-a-time generation, long prompts are read in chunks between decode
// steps, cancelled jobs free their slot, and the queue is bounded.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Backend } from '../../src/backends/backend.js';
import type { RwkvConfig } from '../../src/model/config.js';
import { describeModel } from '../../src/model/model-file.js';
import { syntheticCheckpoint } from '../../src/model/synthetic.js';
import { createBackend } from '../../src/runtime/load.js';
import {
  BatchScheduler,
  QueueFullError,
  type JobOutcome,
  type ScheduledJob,
  type StepInfo,
} from '../../src/runtime/scheduler.js';

const config: RwkvConfig = {
  version: 'x070',
  nLayer: 2,
  nEmbd: 64,
  headSize: 32,
  nHead: 2,
  vocabSize: 512,
  ffnDim: 256,
  lora: { decay: 16, iclr: 16, valueResidual: 16, gate: 16 },
};

let backend: Backend;
before(async () => {
  backend = await createBackend(await describeModel(syntheticCheckpoint(config, { seed: 3 })), {
    device: 'cpu',
  });
});

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

/** A greedy job that generates `count` tokens (or forever when count is Infinity). */
function greedyJob(prompt: number[], count: number) {
  const out: number[] = [];
  let resolveEnd!: (o: JobOutcome) => void;
  const ended = new Promise<JobOutcome>((r) => (resolveEnd = r));
  const job: ScheduledJob & { out: number[]; ended: Promise<JobOutcome>; prefilledAt: number } = {
    state: backend.createState(),
    prompt,
    out,
    ended,
    prefilledAt: -1,
    onPrefilled() {
      job.prefilledAt = out.length;
    },
    next(logits) {
      if (out.length >= count) return null;
      const t = argmax(logits);
      out.push(t);
      return t;
    },
    onEnd: resolveEnd,
  };
  return job;
}

/** The same greedy generation, one token at a time with plain forward calls. */
async function alone(prompt: number[], count: number): Promise<number[]> {
  const state = backend.createState();
  let logits = await backend.forward(state, prompt);
  const out: number[] = [];
  while (out.length < count) {
    out.push(argmax(logits));
    logits = await backend.forward(state, [out[out.length - 1]]);
  }
  return out;
}

const prompt = (seed: number, length: number) =>
  Array.from({ length }, (_, i) => (seed * 131 + i * 17) % config.vocabSize);

/**
 * The CPU backend with a forwardMany that runs forward per state, recording each call: what is
 * tested is the scheduler's side (the WebGPU test compares the real forwardMany).
 */
function withForwardMany() {
  const calls: { states: unknown[]; tokens: number[][]; want: boolean[] }[] = [];
  let others = 0;
  const many: Backend = {
    ...backend,
    createState: () => backend.createState(),
    forward: async (s, t) => (others++, backend.forward(s, t)),
    forwardBatch: async (s, t) => (others++, backend.forwardBatch(s, t)),
    forwardMany: async (states, tokens, want) => {
      calls.push({ states: [...states], tokens: tokens.map((t) => [...t]), want: [...want] });
      const out = [];
      for (const [i, s] of states.entries()) {
        const logits = await backend.forward(s, tokens[i]);
        out.push(want[i] ? { logits } : null);
      }
      return out;
    },
  };
  return { many, calls, otherCalls: () => others };
}

/**
 * Four greedy jobs of 12 tokens (prompts of 5, 40, 1 and 17 tokens) through one scheduler on
 * `b`, prefill chunks of 16 and 32 prompt tokens per step: each must finish with what it
 * generates alone on the CPU backend.
 */
async function fourJobsMatchAlone(b: Backend, onStep: (s: StepInfo) => void) {
  const scheduler = new BatchScheduler(b, {
    maxBatch: 8,
    maxQueue: 8,
    prefillChunk: 16,
    prefillTokensPerStep: 32,
  });
  scheduler.onStep = onStep;
  const prompts = [prompt(1, 5), prompt(2, 40), prompt(3, 1), prompt(4, 17)];
  const jobs = prompts.map((p) => greedyJob(p, 12));
  jobs.forEach((j) => scheduler.submit(j));
  const outcomes = await Promise.all(jobs.map((j) => j.ended));
  assert.deepEqual(
    outcomes,
    prompts.map(() => ({ kind: 'finished' })),
  );
  for (let i = 0; i < prompts.length; i++) {
    assert.deepEqual(jobs[i].out, await alone(prompts[i], 12), `job ${i}`);
  }
  return { scheduler, prompts, jobs };
}

describe('BatchScheduler', () => {
  test('batched jobs generate exactly what each generates alone', async () => {
    const steps: StepInfo[] = [];
    const { scheduler } = await fourJobsMatchAlone(backend, (s) => steps.push(s));
    assert.equal(Math.max(...steps.map((s) => s.batchSize)), 4);
    assert.equal(scheduler.activeCount, 0);
  });

  test('a long prompt is read in chunks while other jobs keep decoding', async () => {
    const scheduler = new BatchScheduler(backend, {
      maxBatch: 4,
      maxQueue: 4,
      prefillChunk: 16,
      prefillTokensPerStep: 16,
    });
    const running = greedyJob(prompt(5, 3), Infinity);
    scheduler.submit(running);
    while (running.out.length < 2) await new Promise((r) => setImmediate(r));
    const long = greedyJob(prompt(6, 160), 1);
    const before = running.out.length;
    scheduler.submit(long);
    await long.ended;
    // 160 tokens in chunks of 16 took 10 steps, and each of them also advanced the other job.
    assert.ok(running.out.length - before >= 9, `${running.out.length - before} tokens meanwhile`);
    scheduler.cancel(running);
    assert.deepEqual(await running.ended, { kind: 'cancelled' });
    assert.deepEqual(long.out, await alone(prompt(6, 160), 1));
  });

  test('cancelling frees the slot for a queued job; the queue is bounded', async () => {
    const scheduler = new BatchScheduler(backend, {
      maxBatch: 1,
      maxQueue: 1,
      prefillChunk: 16,
      prefillTokensPerStep: 16,
    });
    const first = greedyJob(prompt(7, 4), Infinity);
    const second = greedyJob(prompt(8, 4), 3);
    scheduler.submit(first);
    scheduler.submit(second);
    assert.throws(() => scheduler.submit(greedyJob(prompt(9, 4), 1)), QueueFullError);
    while (first.out.length < 3) await new Promise((r) => setImmediate(r));
    assert.equal(second.out.length, 0);
    assert.equal(scheduler.queuedCount, 1);
    scheduler.cancel(first);
    assert.deepEqual(await first.ended, { kind: 'cancelled' });
    assert.deepEqual(await second.ended, { kind: 'finished' });
    assert.deepEqual(second.out, await alone(prompt(8, 4), 3));
  });

  test('a backend with forwardMany gets each step in one call, decode and prompts together', async () => {
    // forwardMany here runs CPU forward per state: what is tested is the scheduler's side (one
    // call per step, each job's chunks in order, a row only where wanted). The WebGPU test
    // compares the real forwardMany with the per-call path.
    const { many, calls, otherCalls } = withForwardMany();
    const callsPerStep: number[] = [];
    let seen = 0;
    const { prompts, jobs } = await fourJobsMatchAlone(many, () => {
      callsPerStep.push(calls.length - seen);
      seen = calls.length;
    });
    assert.equal(otherCalls(), 0, 'nothing but forwardMany');
    assert.ok(Math.max(...callsPerStep) === 1, `calls per step: ${callsPerStep.join(',')}`);
    const mixed = calls.filter(
      (c) => c.tokens.some((t) => t.length === 1) && c.tokens.some((t) => t.length > 1),
    );
    assert.ok(mixed.length > 0, 'a step carried decode tokens and a prompt chunk together');
    // Each job's prompt arrives whole and in order, a row wanted only after its last token.
    for (const [j, job] of jobs.entries()) {
      const seqs = calls.flatMap((c) =>
        c.states.flatMap((s, i) => (s === job.state ? [{ t: c.tokens[i], want: c.want[i] }] : [])),
      );
      const reading = seqs.slice(0, seqs.findIndex((x) => x.want) + 1);
      assert.deepEqual(
        reading.flatMap((x) => x.t),
        prompts[j],
        `job ${j}'s prompt`,
      );
      assert.ok(reading.slice(0, -1).every((x) => !x.want));
    }
  });

  test('a job that throws fails alone; the others finish', async () => {
    const scheduler = new BatchScheduler(backend, {
      maxBatch: 4,
      maxQueue: 4,
      prefillChunk: 16,
      prefillTokensPerStep: 64,
    });
    const good = greedyJob(prompt(10, 4), 5);
    const bad = greedyJob(prompt(11, 4), 5);
    bad.next = () => {
      throw new Error('sampler broke');
    };
    scheduler.submit(good);
    scheduler.submit(bad);
    const failed = await bad.ended;
    assert.equal(failed.kind, 'failed');
    assert.equal(failed.kind === 'failed' && failed.error.message, 'sampler broke');
    assert.deepEqual(await good.ended, { kind: 'finished' });
    assert.deepEqual(good.out, await alone(prompt(10, 4), 5));
  });

  test('with forwardMany, a job whose callback throws fails alone', async () => {
    const { many } = withForwardMany();
    const scheduler = new BatchScheduler(many, {
      maxBatch: 4,
      maxQueue: 4,
      prefillChunk: 16,
      prefillTokensPerStep: 64,
    });
    const good = greedyJob(prompt(12, 4), 6);
    scheduler.submit(good);
    while (good.out.length < 2) await new Promise((r) => setImmediate(r));
    // Its prompt is read in the same call as good's decode token.
    const bad = greedyJob(prompt(13, 20), 3);
    bad.onPrefilled = () => {
      throw new Error('cache broke');
    };
    scheduler.submit(bad);
    const failed = await bad.ended;
    assert.equal(failed.kind === 'failed' && failed.error.message, 'cache broke');
    assert.deepEqual(await good.ended, { kind: 'finished' });
    assert.deepEqual(good.out, await alone(prompt(12, 4), 6));
  });
});
