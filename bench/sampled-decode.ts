// Decode as the server runs it: B jobs through the BatchScheduler, each with its own Sampler
// (temperature 1, no truncation: the OpenAI default), timed twice — with the sampler's draw on
// the GPU (forwardBatchDraw: 64 bytes per row read back) and with every row read back and
// sampled on the CPU. Used by bench/gpu.ts (--sampled).
//
// A synthetic model's logits are flat (random weights); `peaked` gives each job a logit bias of
// +12 on 16 tokens (on a flat row they then hold ~97 % of the mass, ~6 % each: roughly a trained
// model's next-token distribution), so both ends are reported. With f32 weights in the draw the
// GPU proved a third fewer draws on flat rows; since kernels/draw-weight.wgsl both are ~99.9 %.
import type { Backend } from '../src/backends/backend.js';
import { withoutDeviceDraw } from '../src/backends/device-draw.js';
import type { WebGpuBackend } from '../src/backends/webgpu/backend.js';
import { BatchScheduler, type JobOutcome, type ScheduledJob } from '../src/runtime/scheduler.js';
import { Sampler } from '../src/runtime/sampling/sampler.js';

export interface SampledDecode {
  /** Tokens per second summed over the batch, GPU draw. */
  gpuDraw: number;
  /** The same with every logits row read back and sampled on the CPU. */
  readBack: number;
  /** Share of the GPU-draw run's planned rows whose token the GPU could prove. */
  drawnShare: number;
}

/** A bias of +12 on 16 tokens spread over the vocabulary: a peaked distribution. */
function peakBias(V: number): Map<number, number> {
  return new Map(Array.from({ length: 16 }, (_, i) => [(i * 4099 + 17) % V, 12]));
}

/** Wall-clock seconds for B jobs of `tokens` sampled tokens each (one prompt token). */
async function run(backend: Backend, B: number, tokens: number, peaked: boolean): Promise<number> {
  const scheduler = new BatchScheduler(backend, {
    maxBatch: B,
    maxQueue: B,
    prefillChunk: 16,
    prefillTokensPerStep: 16 * B,
  });
  const V = backend.config.vocabSize;
  const ends: Promise<JobOutcome>[] = [];
  const t = performance.now();
  const states = Array.from({ length: B }, () => backend.createState());
  for (let i = 0; i < B; i++) {
    const logitBias = peaked ? peakBias(V) : undefined;
    const sampler = new Sampler({ temperature: 1, seed: i + 1, logitBias }, V);
    let n = 0;
    const advance = (tok: number) => {
      sampler.accept(tok);
      return ++n >= tokens ? null : tok;
    };
    ends.push(
      new Promise((resolve) => {
        const job: ScheduledJob = {
          state: states[i],
          prompt: [(i * 7919) % V],
          next: (logits) => advance(sampler.sample(logits)),
          nextDrawn: (tok) => advance(sampler.drawn(tok)),
          drawPlan: () => sampler.planDraw(),
          onEnd: resolve,
        };
        scheduler.submit(job);
      }),
    );
  }
  const outcomes = await Promise.all(ends);
  const seconds = (performance.now() - t) / 1000;
  // A job that failed ends early and would count its tokens as if generated: refuse to report.
  // (H100, once: a run read 14 425 tok/s with no draw at all, its jobs' outcomes unchecked.)
  const bad = outcomes.find((o) => o.kind !== 'finished');
  if (bad) {
    const why = bad.kind === 'failed' ? `: ${bad.error.message}` : '';
    throw new Error(`sampled decode at batch ${B}: a job ended ${bad.kind}${why}`);
  }
  // As the server does with a finished request's state (engine.ts): copied back, so that the
  // next run's new states take the slots without first copying these out (untimed here).
  for (const s of states) await s.sync();
  return seconds;
}

export async function sampledDecode(
  be: WebGpuBackend,
  B: number,
  tokens: number,
  peaked: boolean,
): Promise<SampledDecode> {
  const plain = withoutDeviceDraw(be);
  await run(be, B, 8, peaked); // warm-up: pipelines, clocks
  await run(plain, B, 8, peaked);
  const before = { ...be.drawStats };
  const gpuDraw = (B * tokens) / (await run(be, B, tokens, peaked));
  const drawn = be.drawStats.drawn - before.drawn;
  const planned = drawn + be.drawStats.fallbacks - before.fallbacks;
  const readBack = (B * tokens) / (await run(plain, B, tokens, peaked));
  return { gpuDraw, readBack, drawnShare: planned ? drawn / planned : 0 };
}
