// What every compute backend (cpu, webgpu) offers the runtime. Sessions, sampling, the CLI and
// the server are written against this interface only.
import type { RwkvConfig } from '../model/config.js';
import type { DrawOutcome, DrawPlan } from './device-draw.js';
import type { ModelIdentity, RwkvState } from '../runtime/state.js';

export type DeviceName = 'cpu' | 'webgpu';

export interface Backend {
  readonly device: DeviceName;
  readonly model: ModelIdentity;
  readonly config: RwkvConfig;

  /** A zero state for this model. */
  createState(): RwkvState;

  /**
   * Feed `tokens` (at least one) into `state`, advancing it in place; returns the logits after
   * the last token. Backends may process the tokens as a parallel sequence (prefill); the result
   * must equal feeding them one at a time.
   */
  forward(state: RwkvState, tokens: readonly number[]): Promise<Float32Array>;

  /** Like forward, but returns the logits after every token: tokens.length rows of vocabSize. */
  forwardAll(state: RwkvState, tokens: readonly number[]): Promise<Float32Array[]>;

  /**
   * Advance several independent states by one token each, in one step (weights read once).
   * Returns one logits row per state, in order.
   */
  forwardBatch(states: readonly RwkvState[], tokens: readonly number[]): Promise<Float32Array[]>;

  /**
   * Optional: forwardBatch that draws the next token of each row that has a plan on the device
   * (device-draw.ts), returning { token } — exactly the token the plan's Sampler would draw
   * from that row — or { logits } where the device cannot prove it or there is no plan.
   */
  forwardBatchDraw?(
    states: readonly RwkvState[],
    tokens: readonly number[],
    plans: readonly (DrawPlan | null)[],
  ): Promise<DrawOutcome[]>;

  /**
   * Optional, with forwardBatchDraw: forward (a prompt's last chunk, a session's next token)
   * whose last row's token is drawn on the device under `plan`, with the same outcomes as
   * forwardBatchDraw's rows.
   */
  forwardDraw?(state: RwkvState, tokens: readonly number[], plan: DrawPlan): Promise<DrawOutcome>;

  /**
   * Optional: several states advanced by their own tokens (one or more each) in one pass, the
   * weights read once for all of them — continuous batching's decode tokens and prompt chunks
   * together. Per state: null where `want[i]` is false (a prompt chunk that is not the last),
   * else the outcome of its last row as forwardBatchDraw gives it ({ token } drawn under
   * plans[i] where the device can prove it, else { logits }). Each state ends as if forward
   * had been called on it alone.
   */
  forwardMany?(
    states: readonly RwkvState[],
    tokens: readonly (readonly number[])[],
    want: readonly boolean[],
    plans: readonly (DrawPlan | null)[],
  ): Promise<(DrawOutcome | null)[]>;

  /**
   * Optional, with forwardBatchDraw: the logits row of `state`'s last step if that step drew its
   * token on the device and no step has run since (the device still holds the row); else null.
   */
  lastLogits?(state: RwkvState): Promise<Float32Array | null>;

  /**
   * Optional: why this backend can no longer run anything (its GPU device was lost), or null
   * while it can. A server reports it on /health so that the process gets restarted.
   */
  unusable?(): BackendUnusableError | null;

  /** Release what the backend holds (GPU buffers, workers). */
  dispose(): Promise<void>;
}

/** A backend failed for good (e.g. its GPU device is gone): the model must be loaded again. */
export class BackendUnusableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BackendUnusableError';
  }
}
