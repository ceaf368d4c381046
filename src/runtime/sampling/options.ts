// The knobs of token sampling, their defaults and their validation. See sampler.ts for the
// order in which they are applied.

export interface SamplingOptions {
  /** Softmax temperature; 0 means greedy (argmax, lowest id on ties). Default 1. */
  temperature?: number;
  /** Nucleus: keep the most probable tokens until their mass reaches topP. 1 = off (default). */
  topP?: number;
  /** Keep only the topK most probable tokens. 0 = off (default). */
  topK?: number;
  /** Drop tokens whose probability is below minP × the top token's. 0 = off (default). */
  minP?: number;
  /** Subtracted once from the logit of every token seen so far (ChatRWKV alpha_presence). */
  presencePenalty?: number;
  /** Subtracted per (decayed) occurrence (ChatRWKV alpha_frequency). */
  frequencyPenalty?: number;
  /** Every step all occurrence counts are multiplied by this (ChatRWKV default 0.996). */
  penaltyDecay?: number;
  /**
   * Tokens that are never counted for the penalties. Default: every token that decodes to only
   * whitespace or only digits (computed from the tokenizer, see exclusions.ts), as ChatRWKV
   * does for ' ', '\t' and digits.
   */
  penaltyExclusions?: Iterable<number>;
  /** Added to the logits of these token ids before anything else. */
  logitBias?: ReadonlyMap<number, number> | Readonly<Record<number, number>>;
  /** Token ids that can never be sampled. */
  bannedTokens?: Iterable<number>;
  /** Seed of the random stream; the same seed reproduces a sample exactly. Default: random. */
  seed?: number | bigint;
}

/** Options after defaults and validation; what the sampler works with. */
export interface ResolvedSampling {
  temperature: number;
  topP: number;
  topK: number;
  minP: number;
  presencePenalty: number;
  frequencyPenalty: number;
  penaltyDecay: number;
  logitBias: Map<number, number>;
  bannedTokens: Set<number>;
}

/** ChatRWKV's decay of the occurrence counts (API_DEMO_CHAT.py, GEN_penalty_decay). */
export const DEFAULT_PENALTY_DECAY = 0.996;

function checkNumber(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a number in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

function checkTokenId(what: string, id: number, vocabSize: number): number {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new RangeError(
      `${what}: token id ${String(id)} is outside the vocabulary [0, ${vocabSize})`,
    );
  }
  return id;
}

export function resolveSampling(o: SamplingOptions, vocabSize: number): ResolvedSampling {
  const topK = o.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) {
    throw new RangeError(`topK must be a non-negative integer (0 = off), got ${String(topK)}`);
  }
  const logitBias = new Map<number, number>();
  const biasEntries =
    o.logitBias instanceof Map
      ? [...o.logitBias.entries()]
      : Object.entries(o.logitBias ?? {}).map(([k, v]) => [Number(k), v] as [number, number]);
  for (const [id, value] of biasEntries) {
    checkTokenId('logitBias', id, vocabSize);
    if (!Number.isFinite(value) && value !== -Infinity) {
      throw new RangeError(`logitBias for token ${id} must be a number, got ${String(value)}`);
    }
    logitBias.set(id, value);
  }
  const bannedTokens = new Set<number>();
  for (const id of o.bannedTokens ?? [])
    bannedTokens.add(checkTokenId('bannedTokens', id, vocabSize));
  return {
    temperature: checkNumber('temperature', o.temperature ?? 1, 0, 100),
    topP: checkNumber('topP', o.topP ?? 1, 0, 1),
    topK,
    minP: checkNumber('minP', o.minP ?? 0, 0, 1),
    presencePenalty: checkNumber('presencePenalty', o.presencePenalty ?? 0, -100, 100),
    frequencyPenalty: checkNumber('frequencyPenalty', o.frequencyPenalty ?? 0, -100, 100),
    penaltyDecay: checkNumber('penaltyDecay', o.penaltyDecay ?? DEFAULT_PENALTY_DECAY, 0, 1),
    logitBias,
    bannedTokens,
  };
}
