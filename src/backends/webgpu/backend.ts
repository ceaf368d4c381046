// The WebGPU backend behind the common Backend interface. States passed in are CPU objects: each
// call uploads them into pool slots, runs, and writes the advanced state back into them, so
// callers see exactly the CPU backend's semantics. Sessions that stay on the GPU between calls
// (no state transfer per token) use the slot API of GpuSessions (sessions.ts) instead.
import type { Backend } from '../backend.js';
import type { RwkvConfig } from '../../model/config.js';
import { assertSameShape, RwkvState, type ModelIdentity } from '../../runtime/state.js';
import { createGpuContext, type GpuContext } from './device.js';
import { Readback } from './readback.js';
import { Runner, type StepSequence } from './runner.js';
import { uploadWeights, type UploadOptions, type WeightSource } from './weights.js';
import { actFloatsPerRow } from './act-layout.js';

export interface WebGpuOptions extends UploadOptions {
  /** Tokens per step: prefill chunk and largest batch (default: 256, less if memory is tight). */
  maxRows?: number;
  /** Sessions the state pool starts with. */
  initialSlots?: number;
  /** Use this context instead of creating one (tests share one device). */
  context?: GpuContext;
  /** Destroy `context` with the backend (default: only a context the backend created). */
  ownContext?: boolean;
}

export class WebGpuBackend implements Backend {
  readonly device = 'webgpu' as const;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly readback: Readback;

  private constructor(
    readonly model: ModelIdentity,
    readonly ctx: GpuContext,
    readonly runner: Runner,
    private readonly weightsBytes: number,
    private readonly ownsContext: boolean,
    private readonly release: () => void,
  ) {
    this.readback = new Readback(ctx);
  }

  static async load(
    source: WeightSource & { identity: ModelIdentity },
    opts: WebGpuOptions = {},
  ): Promise<WebGpuBackend> {
    const ctx = opts.context ?? (await createGpuContext());
    const c = source.config;
    try {
      const weights = await uploadWeights(ctx, source, opts);
      // Bound the activations to a quarter of one binding (the act buffer is bound whole).
      const perRow = actFloatsPerRow(c) * 4;
      const fit = Math.max(1, Math.floor(ctx.caps.maxBinding / perRow));
      const maxRows = Math.min(opts.maxRows ?? 256, fit);
      const logitRows = Math.max(
        1,
        Math.min(maxRows, Math.floor(ctx.caps.maxBinding / (c.vocabSize * 4))),
      );
      const runner = new Runner(ctx, c, weights, {
        maxRows,
        maxLogitRows: logitRows,
        initialSlots: opts.initialSlots ?? 4,
      });
      const owns = opts.ownContext ?? !opts.context;
      return new WebGpuBackend(source.identity, ctx, runner, weights.bytes, owns, () =>
        weights.destroy(),
      );
    } catch (err) {
      if (opts.ownContext ?? !opts.context) ctx.destroy();
      throw err;
    }
  }

  get config(): RwkvConfig {
    return this.model.config;
  }

  /** GPU memory: weights, scratch, and the state pool's fixed cost per session. */
  memory(): { weights: number; scratch: number; perSession: number; pooled: number } {
    const pool = this.runner.pool;
    return {
      weights: this.weightsBytes,
      scratch: this.runner.scratchBytes,
      perSession: pool.bytesPerSlot,
      pooled: pool.bytes,
    };
  }

  createState(): RwkvState {
    return new RwkvState(this.model);
  }

  /** Runs GPU work one call at a time: steps share the activation buffers. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  async forward(state: RwkvState, tokens: readonly number[]): Promise<Float32Array> {
    const rows = await this.run([state], [tokens], 'last');
    return rows[0];
  }

  async forwardAll(state: RwkvState, tokens: readonly number[]): Promise<Float32Array[]> {
    return this.run([state], [tokens], 'all');
  }

  async forwardBatch(
    states: readonly RwkvState[],
    tokens: readonly number[],
  ): Promise<Float32Array[]> {
    if (states.length !== tokens.length) {
      throw new Error(`forwardBatch: ${states.length} states but ${tokens.length} tokens`);
    }
    if (states.length === 0) return [];
    return this.run(
      states,
      tokens.map((t) => [t]),
      'last',
    );
  }

  /**
   * Feeds tokens[i] into states[i] (all sequences advance together, chunked to the step
   * capacity) and returns logits: the last row of each sequence, or every row of the single
   * sequence for 'all'.
   */
  private run(
    states: readonly RwkvState[],
    tokens: readonly (readonly number[])[],
    want: 'last' | 'all',
  ): Promise<Float32Array[]> {
    return this.serial(async () => {
      if (tokens.some((t) => t.length === 0)) throw new Error('forward needs at least one token');
      states.forEach((s) => assertSameShape(this.config, s.config));
      const pool = this.runner.pool;
      const slots = states.map(() => pool.alloc());
      try {
        states.forEach((s, i) => pool.write(slots[i], s.data));
        const out: Float32Array[] = [];
        const done = states.map(() => 0);
        const cap = this.runner.opts.maxRows;
        const logitCap = this.runner.opts.maxLogitRows;
        while (done.some((d, i) => d < tokens[i].length)) {
          // Fill the step: sequences in order, each with as many tokens as still fit.
          const seqs: StepSequence[] = [];
          const owner: number[] = [];
          let room = cap;
          let logitRoom = logitCap;
          for (let i = 0; i < states.length && room > 0; i++) {
            let take = Math.min(tokens[i].length - done[i], room);
            if (take === 0) continue;
            if (want === 'all') take = Math.min(take, logitRoom);
            const endsHere = done[i] + take === tokens[i].length;
            const logits = want === 'all' ? [...Array(take).keys()] : endsHere ? [take - 1] : [];
            if (logits.length > logitRoom) break;
            seqs.push({ slot: slots[i], tokens: tokens[i].slice(done[i], done[i] + take), logits });
            owner.push(i);
            done[i] += take;
            room -= take;
            logitRoom -= logits.length;
          }
          const rows = await this.step(seqs);
          out.push(...rows);
        }
        await this.readStates(slots, states);
        return out;
      } finally {
        slots.forEach((s) => pool.release(s));
      }
    });
  }

  /** One step; returns its logit rows. */
  private async step(seqs: StepSequence[]): Promise<Float32Array[]> {
    const enc = this.ctx.device.createCommandEncoder();
    const nOut = await this.runner.encodeStep(enc, seqs);
    const V = this.config.vocabSize;
    const bytes = nOut * V * 4;
    const data = await this.readback.submitAndRead(enc, bytes, (e, staging) => {
      e.copyBufferToBuffer(this.runner.logitsBuffer, 0, staging, 0, bytes);
    });
    const all = new Float32Array(data);
    return Array.from({ length: nOut }, (_, r) => all.slice(r * V, (r + 1) * V));
  }

  private async readStates(slots: number[], into: readonly RwkvState[]): Promise<void> {
    const pool = this.runner.pool;
    const per = pool.bytesPerSlot;
    const enc = this.ctx.device.createCommandEncoder();
    const data = await this.readback.submitAndRead(enc, per * slots.length, (e, staging) => {
      slots.forEach((s, i) => pool.encodeRead(e, s, staging, i * per));
    });
    into.forEach((st, i) => st.data.set(new Float32Array(data, i * per, per / 4)));
  }

  async dispose(): Promise<void> {
    await this.queue;
    this.readback.destroy();
    this.runner.destroy();
    this.release();
    if (this.ownsContext) this.ctx.destroy();
  }
}
