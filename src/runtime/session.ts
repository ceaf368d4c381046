// A Session is one running text: a backend, the recurrent state after everything fed so far,
// how many tokens that was, and the logits those tokens produced (what the next token is
// sampled from). RWKV carries all history in the state, so continuing a text never re-reads
// it: feed only the new tokens.
import type { Backend } from '../backends/backend.js';
import type { DrawOutcome, DrawPlan } from '../backends/device-draw.js';
import { nextMacrotask } from './next-macrotask.js';
import { decodeState, encodeState, type DecodeOptions } from './state-codec.js';
import { loadStateFile, saveStateFile } from './state-file.js';
import type { RwkvState } from './state.js';

export interface FeedOptions {
  /** Checked between chunks: a long prompt can be cancelled part-way. */
  signal?: AbortSignal;
  /** Tokens per backend call (default 512): bounds the work between abort checks. */
  chunkSize?: number;
}

/** Metadata a saved session keeps with its state (see state-file.ts `meta`). */
export interface SessionMeta {
  tokenCount: number;
  [key: string]: unknown;
}

export class Session {
  /**
   * Logits after the last fed token; null before anything was fed (or after reset/load), and
   * after a `step` whose next token was drawn on the device (see recoverLogits).
   */
  logits: Float32Array | null = null;
  /** The last `step` drew its token on the device: its logits stayed there. */
  private logitsOnDevice = false;

  constructor(
    readonly backend: Backend,
    public state: RwkvState = backend.createState(),
    /** Tokens fed into `state` since it was zero. */
    public tokenCount = 0,
  ) {}

  get vocabSize(): number {
    return this.backend.config.vocabSize;
  }

  /** Feed tokens into the state; returns (and keeps) the logits after the last one. */
  async feed(tokens: readonly number[], opts: FeedOptions = {}): Promise<Float32Array> {
    if (tokens.length === 0) throw new Error('feed needs at least one token');
    for (const t of tokens) this.checkToken(t);
    const chunk = opts.chunkSize ?? 512;
    this.logitsOnDevice = false;
    let logits: Float32Array | null = null;
    for (let i = 0; i < tokens.length; i += chunk) {
      if (i > 0) await nextMacrotask(); // lets an abort arrive between chunks
      opts.signal?.throwIfAborted();
      logits = await this.backend.forward(this.state, tokens.slice(i, i + chunk));
      this.tokenCount += Math.min(chunk, tokens.length - i);
      this.logits = logits;
    }
    return logits!;
  }

  /**
   * Feeds one token and draws the next one as `plan`'s sampler would (backends/device-draw.ts):
   * { token } when the backend drew it on the device (then `logits` is null until
   * `recoverLogits`), else { logits } as `feed` gives them.
   */
  async step(token: number, plan: DrawPlan): Promise<DrawOutcome> {
    const draw = this.backend.forwardDraw?.bind(this.backend);
    if (!draw) return { logits: await this.feed([token]) };
    this.checkToken(token);
    const out = await draw(this.state, [token], plan);
    this.tokenCount += 1;
    this.logits = 'logits' in out ? out.logits : null;
    this.logitsOnDevice = !('logits' in out);
    return out;
  }

  /**
   * After a `step` whose drawn token was not used (a stop token, an abort): reads the logits
   * back from the device, which holds them until its next step; null if they are gone.
   */
  async recoverLogits(): Promise<Float32Array | null> {
    if (this.logitsOnDevice) {
      this.logitsOnDevice = false;
      this.logits = (await this.backend.lastLogits?.(this.state)) ?? null;
    }
    return this.logits;
  }

  private checkToken(t: number): void {
    const V = this.vocabSize;
    if (!Number.isInteger(t) || t < 0 || t >= V) {
      throw new RangeError(`token id ${String(t)} is outside the model's vocabulary [0, ${V})`);
    }
  }

  /** An independent copy: same state and logits, separate future. */
  async fork(): Promise<Session> {
    const copy = new Session(this.backend, await this.state.snapshot(), this.tokenCount);
    copy.logits = this.logits;
    return copy;
  }

  /** Back to the zero state (an empty text). */
  reset(): void {
    this.logitsOnDevice = false;
    this.state.reset();
    this.tokenCount = 0;
    this.logits = null;
  }

  /** Make this session continue from another one's state (same model). */
  copyFrom(other: Session): void {
    this.logitsOnDevice = false;
    this.state.copyFrom(other.state);
    this.tokenCount = other.tokenCount;
    this.logits = other.logits;
  }

  /** Write the state (with the model identity and token count) to a file. */
  async save(path: string, extra: Record<string, unknown> = {}): Promise<void> {
    const meta: SessionMeta = { ...extra, tokenCount: this.tokenCount };
    await saveStateFile(path, this.state, meta);
  }

  /** The state in the saved-state format, as bytes (for browsers, IndexedDB, the network). */
  async toBytes(extra: Record<string, unknown> = {}): Promise<Uint8Array> {
    await this.state.sync();
    const meta: SessionMeta = { ...extra, tokenCount: this.tokenCount };
    return encodeState(this.state, meta);
  }

  /** `load` from bytes made by `toBytes` or read from a saved file; `source` names them in errors. */
  static fromBytes(
    backend: Backend,
    bytes: Uint8Array,
    source = 'saved state',
    opts: DecodeOptions = {},
  ): { session: Session; meta: Record<string, unknown> } {
    const { state, meta = {} } = decodeState(bytes, backend.model, source, opts);
    return Session.restored(backend, state, meta);
  }

  /**
   * A session continuing from a saved state. The logits are not stored in the file, so the
   * loaded session must be fed before it can generate (a chat's next turn always is).
   */
  static async load(
    backend: Backend,
    path: string,
    opts: DecodeOptions = {},
  ): Promise<{ session: Session; meta: Record<string, unknown> }> {
    const { state, meta = {} } = await loadStateFile(path, backend.model, opts);
    return Session.restored(backend, state, meta);
  }

  private static restored(
    backend: Backend,
    state: RwkvState,
    meta: Record<string, unknown>,
  ): { session: Session; meta: Record<string, unknown> } {
    const count = typeof meta.tokenCount === 'number' ? meta.tokenCount : 0;
    return { session: new Session(backend, state, count), meta };
  }
}
