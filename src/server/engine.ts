// The server's generation engine: turns a prompt text into a scheduled job (prefix-cache lookup,
// tokenization, limits), samples and stop-checks each token as the scheduler hands out logits,
// streams the text, and stores the finished states in the prefix cache.
import type { Backend } from '../backends/backend.js';
import { OutputText } from '../runtime/output-text.js';
import { whitespaceAndDigitTokens } from '../runtime/sampling/exclusions.js';
import type { SamplingOptions } from '../runtime/sampling/options.js';
import { Sampler } from '../runtime/sampling/sampler.js';
import { BatchScheduler, QueueFullError, type ScheduledJob } from '../runtime/scheduler.js';
import type { RwkvState } from '../runtime/state.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { invalidRequest, queueFull } from './errors.js';
import type { PrefixStateCache } from './state-cache.js';

export interface GenerateRequest {
  /** The whole prompt text, read from `origin` on. */
  text: string;
  /** Start from this saved state instead of the zero state. */
  origin?: { id: string; state: RwkvState } | null;
  sampling: SamplingOptions;
  maxTokens: number;
  stop: readonly string[];
  /** The request field that holds the prompt, named in errors ('messages' or 'prompt'). */
  promptParam?: string;
}

export type FinishReason = 'stop' | 'length';

export interface GenerateResult {
  text: string;
  finishReason: FinishReason;
  promptTokens: number;
  /** Prompt tokens that were not read again thanks to the prefix cache. */
  cachedTokens: number;
  completionTokens: number;
  /** Seconds from submission to the first sampled token. */
  timeToFirstToken: number;
}

export interface RunningGeneration {
  /** Resolves when generation ends; rejects when it was cancelled or failed. */
  readonly done: Promise<GenerateResult>;
  /** Stop now; the batch slot is freed at the next step. */
  cancel(): void;
}

export interface EngineLimits {
  /** Longest prompt (tokens, cached history included). */
  maxPromptTokens: number;
}

/** Events the engine reports for metrics and logs. */
export interface EngineEvents {
  onFirstToken?(seconds: number, promptTokens: number, cachedTokens: number): void;
  onFinished?(result: GenerateResult): void;
}

export class CancelledError extends Error {
  constructor() {
    super('generation cancelled');
    this.name = 'CancelledError';
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class GenerationEngine {
  /** Model rows that stand for no text (beyond the tokenizer's ids) are never sampled. */
  private readonly banned: number[] = [];
  events: EngineEvents = {};

  constructor(
    readonly backend: Backend,
    readonly tokenizer: Tokenizer,
    readonly scheduler: BatchScheduler,
    readonly cache: PrefixStateCache,
    readonly limits: EngineLimits,
  ) {
    for (let id = tokenizer.vocabSize; id < backend.config.vocabSize; id++) this.banned.push(id);
  }

  /**
   * Validates and queues a generation. Throws an ApiError (400 prompt too long / empty, 429
   * queue full) before anything is queued.
   */
  start(req: GenerateRequest, onText: (text: string) => void): RunningGeneration {
    const started = performance.now();
    const originId = req.origin?.id ?? '';
    const param = req.promptParam ?? 'prompt';
    const { state, prompt, promptTokens, cachedTokens } = this.prepare(req.origin, req.text, param);
    if (prompt.length === 0) {
      throw invalidRequest('The prompt is empty: give at least one character of text.', param);
    }
    const sampler = this.createSampler(req.sampling);
    const output = new OutputText(this.tokenizer, req.stop);
    const generated: number[] = [];
    /** Generated tokens handed back to the scheduler to be read into the state. */
    let fedCount = 0;
    let text = '';
    let firstTokenAt = 0;
    let finishReason: FinishReason = 'length';
    let stoppedByString = false;

    let resolve!: (r: GenerateResult) => void;
    let reject!: (e: Error) => void;
    const done = new Promise<GenerateResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const emit = (piece: string) => {
      if (piece.length === 0) return;
      text += piece;
      onText(piece);
    };

    /** The sampled token's effect on the output; the token to read next, or null at the end. */
    const advance = (token: number): number | null => {
      if (firstTokenAt === 0) {
        firstTokenAt = performance.now();
        this.events.onFirstToken?.((firstTokenAt - started) / 1000, promptTokens, cachedTokens);
      }
      if (token === this.tokenizer.endOfText) {
        finishReason = 'stop';
        return null;
      }
      sampler.accept(token);
      generated.push(token);
      const scan = output.push(token);
      emit(scan.emit);
      if (scan.stop !== null) {
        finishReason = 'stop';
        stoppedByString = true;
        return null;
      }
      if (generated.length >= req.maxTokens) {
        finishReason = 'length';
        return null;
      }
      fedCount = generated.length;
      return token;
    };

    const job: ScheduledJob = {
      state,
      prompt,
      onPrefilled: (s) => this.cache.store(originId, req.text, promptTokens, s),
      next: (logits) => advance(sampler.sample(logits)),
      nextDrawn: (token) => advance(sampler.drawn(token)),
      drawPlan: () => sampler.planDraw(),
      onEnd: (outcome) => {
        if (outcome.kind === 'cancelled') return reject(new CancelledError());
        if (outcome.kind === 'failed') return reject(outcome.error);
        // Held-back text is released unless a stop string ended the output.
        if (!stoppedByString) emit(output.finish());
        this.remember(originId, req.text, promptTokens, generated.slice(0, fedCount), state);
        const result: GenerateResult = {
          text,
          finishReason,
          promptTokens,
          cachedTokens,
          completionTokens: generated.length,
          timeToFirstToken: firstTokenAt ? (firstTokenAt - started) / 1000 : 0,
        };
        this.events.onFinished?.(result);
        resolve(result);
      },
    };
    this.submit(job);
    return { done, cancel: () => this.scheduler.cancel(job) };
  }

  /**
   * Reads `text` into a copy of the origin state (or the zero state), through the scheduler so
   * it shares the backend with running generations; for saving states.
   */
  async readText(
    origin: GenerateRequest['origin'],
    text: string,
  ): Promise<{ state: RwkvState; tokens: number }> {
    const originId = origin?.id ?? '';
    const { state, prompt, promptTokens } = this.prepare(origin, text, 'prompt');
    if (prompt.length === 0) return { state, tokens: promptTokens };
    return new Promise((resolve, reject) => {
      this.submit({
        state,
        prompt,
        onPrefilled: (s) => this.cache.store(originId, text, promptTokens, s),
        next: () => null,
        onEnd: (outcome) => {
          if (outcome.kind === 'finished') resolve({ state, tokens: promptTokens });
          else reject(outcome.kind === 'failed' ? outcome.error : new CancelledError());
        },
      });
    });
  }

  /** The state to start from and the tokens still to read, using the prefix cache. */
  private prepare(origin: GenerateRequest['origin'], text: string, param: string) {
    const hit = this.cache.lookup(origin?.id ?? '', text);
    const prompt = this.tokenizer.encode(hit ? text.slice(hit.textLength) : text);
    const cachedTokens = hit?.tokens ?? 0;
    const promptTokens = cachedTokens + prompt.length;
    if (promptTokens > this.limits.maxPromptTokens) {
      throw invalidRequest(
        `The prompt is ${promptTokens} tokens long; this server accepts at most ${this.limits.maxPromptTokens}.`,
        param,
        'context_length_exceeded',
      );
    }
    const state = hit?.state ?? origin?.state.clone() ?? this.backend.createState();
    return { state, prompt, promptTokens, cachedTokens };
  }

  private submit(job: ScheduledJob): void {
    try {
      this.scheduler.submit(job);
    } catch (err) {
      if (err instanceof QueueFullError) throw queueFull(1);
      throw err;
    }
  }

  private createSampler(o: SamplingOptions): Sampler {
    const penalised = (o.presencePenalty ?? 0) !== 0 || (o.frequencyPenalty ?? 0) !== 0;
    const exclusions = penalised ? whitespaceAndDigitTokens(this.tokenizer) : undefined;
    const bannedTokens = [...(o.bannedTokens ?? []), ...this.banned];
    return new Sampler({ ...o, bannedTokens }, this.backend.config.vocabSize, exclusions);
  }

  /**
   * Caches the finished state. It has read the prompt and the generated tokens `fed` (all but
   * a last one that ended the generation: sampled, never read), so its text is the prompt plus
   * their text — when that text is exact (no character cut in half), a next chat turn whose
   * history repeats the reply can resume from it.
   */
  private remember(
    origin: string,
    prompt: string,
    promptTokens: number,
    fed: number[],
    state: RwkvState,
  ): void {
    if (fed.length === 0) return;
    let tail: string;
    try {
      tail = strictUtf8.decode(this.tokenizer.decodeBytes(fed));
    } catch {
      return;
    }
    const store = () => this.cache.store(origin, prompt + tail, promptTokens + fed.length, state);
    // A state left on the GPU is copied back first; the request is finished with it.
    if (state.onDevice) void state.sync().then(store, () => {});
    else store();
  }
}
