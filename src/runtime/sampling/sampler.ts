// Picks the next token from a row of logits. Full order of operations:
//
//   raw logits (float32, never modified: the backend may reuse the buffer)
//   → copy to float64
//   → logit bias (logit[t] += bias[t])
//   → banned tokens (logit[t] = −∞)
//   → presence/frequency penalties with decay (penalties.ts)
//   → temperature 0 ? argmax (lowest id on ties)
//   → softmax with temperature → top-k → top-p → min-p → renormalise → draw (distribution.ts)
//
// After a token is chosen and kept, `accept(token)` updates the penalty counts. The random
// stream is xoshiro128** (rng.ts), one uniform double per draw; greedy steps draw nothing, so
// mixing greedy and sampled steps keeps the stream aligned with the sampled steps only.

import { drawCandidate, maxLogit, truncate } from './distribution.js';
import { resolveSampling, type ResolvedSampling, type SamplingOptions } from './options.js';
import { RepetitionPenalty } from './penalties.js';
import { randomSeed, Xoshiro128StarStar, type RandomSource } from './rng.js';
import { argmax } from './top-indices.js';

export class Sampler {
  readonly options: ResolvedSampling;
  readonly penalty: RepetitionPenalty;
  readonly seed: number | bigint;
  private readonly rng: RandomSource;
  private readonly work: Float64Array;

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
    this.work = new Float64Array(vocabSize);
  }

  /** The logits after bias, bans and penalties (a view of an internal buffer). */
  adjust(logits: ArrayLike<number>): Float64Array {
    if (logits.length !== this.vocabSize) {
      throw new Error(`logits have ${logits.length} entries, the vocabulary has ${this.vocabSize}`);
    }
    const work = this.work;
    for (let i = 0; i < work.length; i++) work[i] = logits[i];
    for (const [t, b] of this.options.logitBias) work[t] += b;
    for (const t of this.options.bannedTokens) work[t] = -Infinity;
    this.penalty.apply(work);
    return work;
  }

  /** Choose the next token (does not record it; call `accept` for the token you keep). */
  sample(logits: ArrayLike<number>): number {
    const work = this.adjust(logits);
    const o = this.options;
    if (o.temperature === 0) {
      maxLogit(work); // same NaN / all-banned errors as the sampled path
      return argmax(work);
    }
    const candidates = truncate(work, o);
    return drawCandidate(candidates, this.rng.nextFloat());
  }

  /** Record an emitted token for the repetition penalties. */
  accept(token: number): void {
    this.penalty.record(token);
  }
}
