// Picks the next token from a row of logits. Full order of operations (the definition; the
// test suite's reference sampler is this list written out with full sorts):
//
//   raw logits (float32, never modified: the backend may reuse the buffer)
//   → copy to float64
//   → logit bias (logit[t] += bias[t])
//   → banned tokens (logit[t] = −∞)
//   → presence/frequency penalties with decay (penalties.ts)
//   → temperature 0 ? argmax (lowest id on ties)
//   → weights w[t] = Math.exp((logit[t] − max) · (1/T))   (times 1/T: not divided by T)
//   → top-k → top-p → min-p → renormalise → draw (distribution.ts)
//
// The draw: candidates are walked in token-id order (in rank order, best first, when top-k is
// on), summing weights in float64 in that order; the first token whose running sum exceeds
// u · (their total) is chosen, u being one nextFloat() of the stream.
//
// After a token is chosen and kept, `accept(token)` updates the penalty counts. The random
// stream is xoshiro128** (rng.ts), one uniform double per draw; greedy steps draw nothing, so
// mixing greedy and sampled steps keeps the stream aligned with the sampled steps only.
//
// Speed (V = 65536): no step sorts the vocabulary or allocates a vocabulary-sized array, and
// Math.exp (~15 ns a call in V8, ~1 ms for a whole row) runs only on the tokens that can be
// drawn. What cannot be skipped — the total mass for top-p, the walk when nothing is
// truncated — uses a cheap exp with a proven error bound (fast-exp.ts) and is certified: the
// result is used only when the bound shows that the exact computation gives the same answer,
// else the exact computation runs (threshold-truncation.ts, full-draw.ts). The max and the
// greedy choice come out of the copy itself (adjusted-logits.ts).
//
// The one corner where "the same token as the definition" rests on rounding: top-p's
// cut-off compares a float sum of the kept weights against p · (float total). The definition
// does not fix the order of that sum, so when the two sides are within a few ulps (~1e-16
// relative: a mass landing exactly on p, in practice only with hand-made ties), another
// summation order may move the last tied group in or out. The reference in the tests sums in
// sorted order, this code in partition order; on random logits they never differ.

import type { DrawPlan } from '../../backends/device-draw.js';
import { AdjustedLogits, adjustedLogit } from './adjusted-logits.js';
import { drawFromCandidates } from './candidate-draw.js';
import { drawCandidate, truncate } from './distribution.js';
import { drawUntruncated } from './full-draw.js';
import { resolveSampling, type ResolvedSampling, type SamplingOptions } from './options.js';
import { RepetitionPenalty } from './penalties.js';
import { randomSeed, Xoshiro128StarStar, type RandomSource } from './rng.js';
import { SamplingScratch } from './scratch.js';

export class Sampler {
  readonly options: ResolvedSampling;
  readonly penalty: RepetitionPenalty;
  readonly seed: number | bigint;
  /** Reused buffers (and counters of the exact fallbacks, for tests). */
  readonly scratch = new SamplingScratch();
  private readonly rng: RandomSource;
  private readonly work: AdjustedLogits;
  /** The uniform a planned draw took from the stream, until that step's token is settled. */
  private pendingU: number | null = null;

  /**
   * @param defaultExclusions used when `options.penaltyExclusions` is not given (generate.ts
   *   passes the whitespace/digit tokens of the tokenizer).
   */
  constructor(
    options: SamplingOptions,
    readonly vocabSize: number,
    defaultExclusions: ReadonlySet<number> = new Set(),
    rng?: RandomSource,
  ) {
    this.options = resolveSampling(options, vocabSize);
    this.seed = options.seed ?? randomSeed();
    this.rng = rng ?? Xoshiro128StarStar.fromSeed(this.seed);
    const excluded = options.penaltyExclusions
      ? new Set(options.penaltyExclusions)
      : defaultExclusions;
    const o = this.options;
    this.penalty = new RepetitionPenalty(
      o.presencePenalty,
      o.frequencyPenalty,
      o.penaltyDecay,
      excluded,
    );
    this.work = new AdjustedLogits(vocabSize);
    this.scratch.reserve(vocabSize);
  }

  /** The logits after bias, bans and penalties (a view of an internal buffer). */
  adjust(logits: ArrayLike<number>): Float64Array {
    const o = this.options;
    this.work.load(logits, o.logitBias, o.bannedTokens, this.penalty);
    return this.work.values;
  }

  /** Choose the next token (does not record it; call `accept` for the token you keep). */
  sample(logits: ArrayLike<number>): number {
    const work = this.work;
    const o = this.options;
    work.load(logits, o.logitBias, o.bannedTokens, this.penalty);
    work.settle(); // NaN / all-banned / +∞ errors, before any randomness is used
    if (o.temperature === 0) return work.best;
    const invT = 1 / o.temperature;
    const u = this.takeUniform();
    if (!this.truncates) return drawUntruncated(work.values, work.max, invT, u, this.scratch);
    const candidates = truncate(work.values, o, this.scratch, work.max);
    return drawCandidate(candidates, u);
  }

  /**
   * What a device needs to draw the next token exactly as `sample` would (backends/
   * device-draw.ts). Takes this step's uniform from the stream now: settle the step with
   * `drawn(token)` when the device's token is used, or with `sample(logits)`, which then uses
   * the same uniform. With top-k, top-p or min-p the plan asks for a candidate list and decides
   * from it (candidate-draw.ts).
   */
  planDraw(): DrawPlan {
    const o = this.options;
    const change = new Map<number, number>();
    for (const [t, b] of o.logitBias) change.set(t, b);
    for (const t of o.bannedTokens) change.set(t, -Infinity);
    this.penalty.forEachPenalty((t, amount) => change.set(t, (change.get(t) ?? 0) - amount));
    const ids = Int32Array.from(change.keys()).sort();
    const deltas = Float64Array.from(ids, (t) => change.get(t)!);
    if (o.temperature === 0) return { invT: 0, u: 0, ids, deltas };
    this.pendingU ??= this.rng.nextFloat();
    const u = this.pendingU;
    const plan: DrawPlan = { invT: 1 / o.temperature, u, ids, deltas };
    if (this.truncates) {
      plan.fromCandidates = (row) =>
        drawFromCandidates(
          {
            options: o,
            vocabSize: this.vocabSize,
            u,
            changedIds: ids,
            adjusted: (t, raw) => adjustedLogit(t, raw, o.logitBias, o.bannedTokens, this.penalty),
            scratch: this.scratch,
          },
          row,
        );
    }
    return plan;
  }

  /** Settles a planned step whose token the device drew (see planDraw). */
  drawn(token: number): number {
    this.pendingU = null;
    return token;
  }

  /** Top-k, top-p or min-p in effect (temperature > 0). */
  private get truncates(): boolean {
    const o = this.options;
    return (o.topK > 0 && o.topK < this.vocabSize) || o.topP < 1 || o.minP > 0;
  }

  private takeUniform(): number {
    const u = this.pendingU ?? this.rng.nextFloat();
    this.pendingU = null;
    return u;
  }

  /** Record an emitted token for the repetition penalties. */
  accept(token: number): void {
    this.penalty.record(token);
  }
}
