// Text generation on a Session: feed the prompt, then sample, feed and stream one token at a
// time until a stop token, a stop string, maxTokens or an abort.
//
// What ends up in the state (session.tokenCount counts it):
//   - the prompt tokens;
//   - every sampled token that is kept, fed right after it is sampled and before the next one
//     is drawn (as ChatRWKV does), including the last one when maxTokens is reached, so the
//     session can continue without re-feeding anything;
//   - a stop token id (default: end of text, id 0) is neither emitted nor fed;
//   - a stop string is not emitted but IS fed, and the state ends exactly at its last byte: if
//     the token that completed it carried more text after it, that token is replaced by the
//     encoding of its bytes up to the stop string's end. A chat that stops on "\n\n" therefore
//     always has "…reply\n\n" in its state, which is what the next turn assumes.
// Abort (AbortSignal) is checked between tokens; everything emitted before it has been fed.
// On a backend that draws on the device (WebGPU), every token after the first is drawn there
// with the sampler's plan (Session.step: the same token, no logits row read back); the last
// token is fed plainly, and a drawn token left unused (stop token, abort) has its logits read
// back, so the session ends with the same logits either way.
import type { DrawOutcome } from '../backends/device-draw.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { whitespaceAndDigitTokens } from './sampling/exclusions.js';
import type { SamplingOptions } from './sampling/options.js';
import { Sampler } from './sampling/sampler.js';
import { nextMacrotask } from './next-macrotask.js';
import { OutputText } from './output-text.js';
import type { Session } from './session.js';

export interface GenerateOptions extends SamplingOptions {
  /** Text fed before generating; with neither prompt nor promptTokens the session's last
   *  logits are continued. */
  prompt?: string;
  promptTokens?: readonly number[];
  /** Most tokens to generate (default 256). */
  maxTokens?: number;
  /** Stop strings: generation ends when the text contains one; it is never emitted. */
  stop?: string | readonly string[];
  /** Token ids that end generation when sampled (default: [tokenizer.endOfText]). */
  stopTokens?: readonly number[];
  signal?: AbortSignal;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface GenerationPiece {
  /** The sampled token; null only for a last piece that releases held-back text. */
  token: number | null;
  /** Text that became safe to show with this token (often '' mid-character or mid-stop). */
  text: string;
}

export interface GenerationResult {
  text: string;
  /** Sampled tokens that were kept (a stop token is not included). */
  tokens: number[];
  finishReason: FinishReason;
  /** What stopped generation when finishReason is 'stop'. */
  stoppedBy: { string: string } | { token: number } | null;
  usage: Usage;
  /** The seed used (the given one, or the random one drawn): reproduces this sample. */
  seed: number | bigint;
}

export const DEFAULT_MAX_TOKENS = 256;

/** A running generation: iterate it for pieces; `result` is set once it has finished. */
export class Generation implements AsyncIterable<GenerationPiece> {
  result: GenerationResult | undefined;
  private readonly pieces: AsyncGenerator<GenerationPiece, void>;
  private started = false;

  constructor(session: Session, tokenizer: Tokenizer, opts: GenerateOptions) {
    this.pieces = run(session, tokenizer, opts, (r) => (this.result = r));
  }

  [Symbol.asyncIterator](): AsyncIterator<GenerationPiece> {
    if (this.started) throw new Error('a Generation can be iterated only once');
    this.started = true;
    return this.pieces;
  }

  /** Runs to the end (or consumes the rest) and returns the result. */
  async complete(): Promise<GenerationResult> {
    if (!this.started) {
      for await (const _piece of this);
    }
    if (!this.result) throw new Error('generation was abandoned before it finished');
    return this.result;
  }
}

/** Start generating on `session`; nothing runs until the result is iterated or completed. */
export function generate(
  session: Session,
  tokenizer: Tokenizer,
  opts: GenerateOptions = {},
): Generation {
  return new Generation(session, tokenizer, opts);
}

async function* run(
  session: Session,
  tokenizer: Tokenizer,
  opts: GenerateOptions,
  done: (r: GenerationResult) => void,
): AsyncGenerator<GenerationPiece, void> {
  const V = session.vocabSize;
  if (tokenizer.vocabSize > V) {
    throw new Error(`the tokenizer has ${tokenizer.vocabSize} ids but the model only ${V} logits`);
  }
  const maxTokens = opts.maxTokens ?? DEFAULT_MAX_TOKENS;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) {
    throw new RangeError(`maxTokens must be a non-negative integer, got ${String(maxTokens)}`);
  }
  const stops = typeof opts.stop === 'string' ? [opts.stop] : (opts.stop ?? []);
  const stopTokens = new Set(opts.stopTokens ?? [tokenizer.endOfText]);

  // Model rows beyond the tokenizer's ids stand for no text: never sample them.
  const banned = [...(opts.bannedTokens ?? [])];
  for (let id = tokenizer.vocabSize; id < V; id++) banned.push(id);
  const penalised = (opts.presencePenalty ?? 0) !== 0 || (opts.frequencyPenalty ?? 0) !== 0;
  const exclusions =
    penalised && !opts.penaltyExclusions ? whitespaceAndDigitTokens(tokenizer) : undefined;
  const sampler = new Sampler({ ...opts, bannedTokens: banned }, V, exclusions);

  const promptTokens = opts.promptTokens ?? (opts.prompt ? tokenizer.encode(opts.prompt) : []);
  const signal = opts.signal;
  const tokens: number[] = [];
  let text = '';
  let finishReason: FinishReason = 'length';
  let stoppedBy: GenerationResult['stoppedBy'] = null;

  let logits: Float32Array | null = session.logits;
  if (promptTokens.length > 0) {
    try {
      logits = await session.feed(promptTokens, { signal });
    } catch (err) {
      if (!signal?.aborted) throw err;
      logits = null;
      finishReason = 'abort';
    }
  } else if (!logits) {
    throw new Error('nothing to continue from: give a prompt (this session has no logits yet)');
  }

  const out = new OutputText(tokenizer, stops);
  let fedBytes = 0; // output bytes already in the state
  // What the next token is chosen from: logits, or a token the backend already drew with the
  // sampler's plan (Session.step: no logits row read back).
  let next: DrawOutcome | null = logits ? { logits } : null;
  while (next && finishReason !== 'abort') {
    if (tokens.length >= maxTokens) break;
    await nextMacrotask(); // lets an abort arrive between tokens (see next-macrotask.ts)
    if (signal?.aborted) {
      finishReason = 'abort';
      break;
    }
    const token: number = 'token' in next ? sampler.drawn(next.token) : sampler.sample(next.logits);
    if (stopTokens.has(token)) {
      finishReason = 'stop';
      stoppedBy = { token };
      break;
    }
    sampler.accept(token);
    tokens.push(token);
    const scan = out.push(token);
    if (scan.stop !== null) {
      const through = out.bytesThroughStop(fedBytes, scan.overflow);
      const exact = through.length === out.totalBytes - fedBytes;
      await session.feed(exact ? [token] : tokenizer.encodeBytes(through));
      finishReason = 'stop';
      stoppedBy = { string: scan.stop };
      text += scan.emit;
      yield { token, text: scan.emit };
      break;
    }
    // The last token is fed plainly: the session keeps the logits after it to continue from.
    next =
      tokens.length < maxTokens
        ? await session.step(token, sampler.planDraw())
        : { logits: await session.feed([token]) };
    fedBytes = out.totalBytes;
    text += scan.emit;
    yield { token, text: scan.emit };
  }
  // A drawn token that was not used (a stop token, an abort) left the logits on the device.
  if (next && 'token' in next) await session.recoverLogits();

  if (stoppedBy === null || 'token' in stoppedBy) {
    const rest = out.finish();
    if (rest) {
      text += rest;
      yield { token: null, text: rest };
    }
  }
  const usage = {
    promptTokens: promptTokens.length,
    completionTokens: tokens.length,
    totalTokens: promptTokens.length + tokens.length,
  };
  done({ text, tokens, finishReason, stoppedBy, usage, seed: sampler.seed });
}
