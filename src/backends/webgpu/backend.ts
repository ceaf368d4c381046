// The WebGPU backend behind the common Backend interface. A state passed in gets a pool slot
// that it keeps between calls (resident-states.ts): it is uploaded only when the CPU changed it,
// and copied back only when the CPU reads it (state.sync()), so callers see the CPU backend's
// semantics without moving the state over the bus every token. GpuSessions (sessions.ts) is the
// lower-level slot API (greedy loops on the GPU, explicit slots).
import type { Backend, BackendUnusableError } from '../backend.js';
import type { DrawOutcome, DrawPlan } from '../device-draw.js';
import { DrawKernel } from './draw-kernel.js';
import type { RwkvConfig } from '../../model/config.js';
import { assertSameShape, RwkvState, type ModelIdentity } from '../../runtime/state.js';
import { createGpuContext, type GemmChoice, type GpuCaps, type GpuContext } from './device.js';
import { copyRows, Readback } from './readback.js';
import { ResidentStates } from './resident-states.js';
import { chooseWkvScan, type WkvScan } from './wkv-scan-form.js';
import { Runner, type StepSequence } from './runner.js';
import { uploadWeights, type UploadOptions, type WeightSource } from './weights.js';
import { checkMaxRows, defaultMaxRows, rowsWithin } from './act-layout.js';

/** Logit rows of the default step capacity (WebGpuOptions.maxRows left out). */
const DEFAULT_LOGIT_ROWS = 256;

export interface WebGpuOptions extends UploadOptions {
  /**
   * Tokens per step: prefill chunk and largest batch, and as many logit rows. Default: 256 to
   * 4096 tokens by the model's size (act-layout.ts defaultMaxRows: activations within an eighth
   * of the weights or 256 MiB) with 256 logit rows, less where a binding cannot hold them.
   */
  maxRows?: number;
  /** Sessions the state pool starts with. */
  initialSlots?: number;
  /**
   * States kept on the GPU between calls (default 32); past that the least recently used is
   * copied back to the CPU and its slot reused. One call's own states always stay.
   */
  maxResidentStates?: number;
  /** Use this context instead of creating one (tests share one device). */
  context?: GpuContext;
  /**
   * The GEMM kernel of the context the backend creates (DeviceOptions.gemm: 'auto', 'f32' or
   * 'f16'); with `context`, that context's own choice holds and this must be left out.
   */
  gemm?: GemmChoice;
  /** Destroy `context` with the backend (default: only a context the backend created). */
  ownContext?: boolean;
  /**
   * The prefill wkv's recurrence (wkv-scan-form.ts): 'auto' (default) is 'chunked' where the
   * device has the workgroup memory. In Node, RWKV_WEBGPU_WKV_SCAN sets the default.
   */
  wkvScan?: WkvScan | 'auto';
}

export class WebGpuBackend implements Backend {
  readonly device = 'webgpu' as const;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly readback: Readback;
  private readonly residents: ResidentStates;
  /** Rows whose token the GPU drew, and planned rows read back because it could not prove it. */
  readonly drawStats = { drawn: 0, fallbacks: 0 };
  /** The logits row of each state of the last step that drew tokens, and that step's number
   *  (runner.stepsWritten): the rows stay in the logits buffer until another step is written. */
  private drawn: { step: number; rows: Map<RwkvState, number> } | null = null;

  private constructor(
    readonly model: ModelIdentity,
    readonly ctx: GpuContext,
    readonly runner: Runner,
    private readonly weightsBytes: number,
    private readonly ownsContext: boolean,
    private readonly release: () => void,
    maxResident: number,
  ) {
    this.readback = new Readback(ctx);
    this.residents = new ResidentStates({
      pool: runner.pool,
      download: (slot, into) => this.readStates([slot], [into]),
      serial: (fn) => this.serial(fn),
      limit: maxResident,
    });
  }

  static async load(
    source: WeightSource & { identity: ModelIdentity },
    opts: WebGpuOptions = {},
  ): Promise<WebGpuBackend> {
    checkMaxRows(opts.maxRows);
    if (opts.context && opts.gemm !== undefined) {
      throw new Error('WebGpuBackend.load: give gemm to createGpuContext when passing a context');
    }
    const ctx = opts.context ?? (await createGpuContext({ gemm: opts.gemm }));
    const c = source.config;
    try {
      const weights = await uploadWeights(ctx, source, opts);
      // Bound the activations to one binding (the act buffer is bound whole).
      const fit = rowsWithin(c, ctx.caps.maxBinding);
      const maxRows = Math.min(opts.maxRows ?? defaultMaxRows(c, weights.bytes), fit);
      // Logit rows (V floats each: 256 KB at V = 65 536) only where a step reads them out: the
      // last token of a prompt, or every token with forwardAll. The size-based default grows the
      // prefill chunk, not these: past 256 rows a step's logits come out 256 at a time.
      const logitRows = Math.max(
        1,
        Math.min(
          maxRows,
          opts.maxRows === undefined ? DEFAULT_LOGIT_ROWS : maxRows,
          Math.floor(ctx.caps.maxBinding / (c.vocabSize * 4)),
        ),
      );
      const runner = new Runner(ctx, c, weights, {
        maxRows,
        maxLogitRows: logitRows,
        initialSlots: opts.initialSlots ?? 4,
        wkvScan: chooseWkvScan(opts.wkvScan, ctx.caps.maxWorkgroupStorage),
      });
      const owns = opts.ownContext ?? !opts.context;
      return new WebGpuBackend(
        source.identity,
        ctx,
        runner,
        weights.bytes,
        owns,
        () => weights.destroy(),
        Math.max(1, opts.maxResidentStates ?? 32),
      );
    } catch (err) {
      if (opts.ownContext ?? !opts.context) ctx.destroy();
      throw err;
    }
  }

  get config(): RwkvConfig {
    return this.model.config;
  }

  /** What the device offers and which kernels run (GEMM kernel and input, subgroups, …). */
  get caps(): GpuCaps {
    return this.ctx.caps;
  }

  /**
   * Where this model's GEMMs run: the device's choice (caps.gemm), except that f32 weights, and
   * bf16 weights beyond f16's range (f16-range.ts), keep the f32 kernel.
   */
  get gemmKernel(): 'tensor-core' | 'f32' {
    return this.runner.tensorCores ? 'tensor-core' : 'f32';
  }

  /** Tokens one step holds: prefill chunk and largest decode batch (WebGpuOptions.maxRows). */
  get stepRows(): number {
    return this.runner.opts.maxRows;
  }

  /** GPU memory: weights, scratch, and the state pool's fixed cost per session. */
  memory(): {
    weights: number;
    scratch: number;
    perSession: number;
    pooled: number;
    residentStates: number;
    stateUploads: number;
  } {
    const pool = this.runner.pool;
    return {
      weights: this.weightsBytes,
      scratch: this.runner.scratchBytes,
      perSession: pool.bytesPerSlot,
      pooled: pool.bytes,
      residentStates: this.residents.count,
      stateUploads: this.residents.uploads,
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
    return logitsOf(rows)[0];
  }

  async forwardAll(state: RwkvState, tokens: readonly number[]): Promise<Float32Array[]> {
    return logitsOf(await this.run([state], [tokens], 'all'));
  }

  async forwardBatch(
    states: readonly RwkvState[],
    tokens: readonly number[],
  ): Promise<Float32Array[]> {
    return logitsOf(
      await this.forwardBatchDraw(
        states,
        tokens,
        states.map(() => null),
      ),
    );
  }

  /**
   * forwardBatch whose rows with a plan come back as the token the sampler would draw from
   * them, drawn on the GPU (kernels/draw.wgsl) — 64 bytes read back instead of the row — or as
   * the row itself when the GPU's numbers cannot prove that token (backends/device-draw.ts).
   */
  async forwardBatchDraw(
    states: readonly RwkvState[],
    tokens: readonly number[],
    plans: readonly (DrawPlan | null)[],
  ): Promise<DrawOutcome[]> {
    if (states.length !== tokens.length || plans.length !== tokens.length) {
      throw new Error(
        `forwardBatchDraw: ${states.length} states, ${tokens.length} tokens, ${plans.length} plans`,
      );
    }
    if (states.length === 0) return [];
    return this.run(
      states,
      tokens.map((t) => [t]),
      'last',
      plans,
    );
  }

  /**
   * Backend.forwardMany: the sequences share steps (run() fills each step with as many of
   * their tokens as fit), so a step of 128 decode tokens and a 64-token prompt chunk reads the
   * weights once instead of twice.
   */
  async forwardMany(
    states: readonly RwkvState[],
    tokens: readonly (readonly number[])[],
    want: readonly boolean[],
    plans: readonly (DrawPlan | null)[],
  ): Promise<(DrawOutcome | null)[]> {
    if (tokens.length !== states.length || want.length !== states.length) {
      throw new Error(
        `forwardMany: ${states.length} states, ${tokens.length} token lists, ${want.length} wants`,
      );
    }
    if (plans.length !== states.length) {
      throw new Error(`forwardMany: ${states.length} states, ${plans.length} plans`);
    }
    if (states.length === 0) return [];
    const wanted = await this.run(
      states,
      tokens,
      'last',
      plans.map((p, i) => (want[i] ? p : null)),
      want,
    );
    let k = 0;
    return want.map((w) => (w ? wanted[k++] : null));
  }

  /** forward whose last row's token is drawn on the GPU where it can prove it (forwardDraw). */
  async forwardDraw(
    state: RwkvState,
    tokens: readonly number[],
    plan: DrawPlan,
  ): Promise<DrawOutcome> {
    return (await this.run([state], [tokens], 'last', [plan]))[0];
  }

  /**
   * Feeds tokens[i] into states[i] (all sequences advance together, chunked to the step
   * capacity) and returns logits: the last row of each sequence, or every row of the single
   * sequence for 'all'. With `plans` (one per sequence, 'last' only), a sequence with a plan
   * gets the token drawn from its last row where the GPU can prove it. With `wants` ('last'
   * only), a sequence whose entry is false gets no row (and nothing in the result).
   */
  private run(
    states: readonly RwkvState[],
    tokens: readonly (readonly number[])[],
    want: 'last' | 'all',
    plans?: readonly (DrawPlan | null)[],
    wants?: readonly boolean[],
  ): Promise<DrawOutcome[]> {
    return this.serial(async () => {
      if (tokens.some((t) => t.length === 0)) throw new Error('forward needs at least one token');
      states.forEach((s) => assertSameShape(this.config, s.config));
      const batch = new Set(states);
      if (batch.size !== states.length)
        throw new Error('the same state appears twice in one batch');
      const slots: number[] = [];
      for (const s of states) slots.push(await this.residents.acquire(s, batch));
      try {
        const out: DrawOutcome[] = [];
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
            const logits =
              want === 'all'
                ? [...Array(take).keys()]
                : endsHere && (wants?.[i] ?? true)
                  ? [take - 1]
                  : [];
            if (logits.length > logitRoom) break;
            seqs.push({ slot: slots[i], tokens: tokens[i].slice(done[i], done[i] + take), logits });
            owner.push(i);
            done[i] += take;
            room -= take;
            logitRoom -= logits.length;
          }
          // With plans ('last'), each sequence has at most one logits row: its plan goes with it.
          const seqPlans = plans
            ? seqs.flatMap((s, j) => (s.logits.length ? [plans[owner[j]]] : []))
            : [];
          out.push(...(await this.step(seqs, seqPlans)));
          if (plans) {
            const rows = new Map<RwkvState, number>();
            seqs.forEach((s, j) => s.logits.length && rows.set(states[owner[j]], rows.size));
            this.drawn = { step: this.runner.stepsWritten, rows };
          }
        }
        states.forEach((s) => this.residents.advanced(s));
        return out;
      } catch (err) {
        await this.residents.abandon(states);
        throw err;
      }
    });
  }

  /**
   * One step; returns its logit rows, or for a row with a plan the token drawn from it where
   * the GPU could prove it. A decoding step (one token per sequence) records its successor's
   * commands while the GPU runs (step-ahead.ts): the caller's sampling and the next call then
   * find them ready.
   */
  private async step(
    seqs: StepSequence[],
    plans: readonly (DrawPlan | null)[],
  ): Promise<DrawOutcome[]> {
    const ahead = this.runner.ahead;
    const { commands, shape } = await ahead.commands(seqs);
    const V = this.config.vocabSize;
    const rowBytes = V * 4;
    const drawing = plans.some((p) => p !== null);
    const enc = this.ctx.device.createCommandEncoder();
    const layout = drawing ? await this.runner.draw.encode(enc, plans) : null;
    // Read back: the draw results (if any), then the rows that have no plan.
    const resultBytes = layout ? layout.words * 4 : 0;
    const plain = [...Array(shape.nOut).keys()].filter((r) => !plans[r]);
    const data = await this.readback.submitAndRead(
      enc,
      resultBytes + plain.length * rowBytes,
      (e, staging) => {
        if (layout) {
          e.copyBufferToBuffer(this.runner.draw.resultsBuffer, 0, staging, 0, resultBytes);
        }
        copyRows(e, this.runner.logitsBuffer, plain, rowBytes, staging, resultBytes);
      },
      {
        before: [commands],
        whileWaiting: shape.M === shape.nSeq ? () => ahead.prepare(shape) : undefined,
      },
    );
    const out: (DrawOutcome | null)[] = Array.from({ length: shape.nOut }, () => null);
    plain.forEach((r, i) => {
      const at = resultBytes + i * rowBytes;
      out[r] = { logits: new Float32Array(data.slice(at, at + rowBytes)) };
    });
    if (layout) {
      DrawKernel.tokens(data, layout, plans, V).forEach((token, r) => {
        if (token !== null) out[r] = { token };
      });
      this.drawStats.drawn += out.filter((o) => o && 'token' in o).length;
    }
    // Rows the GPU could not prove: read them (the logits buffer is unchanged until the next
    // step is submitted, which waits for this call).
    const unsure = [...Array(shape.nOut).keys()].filter((r) => out[r] === null);
    if (unsure.length > 0) {
      this.drawStats.fallbacks += unsure.length;
      const rows = await this.readLogitRows(unsure);
      unsure.forEach((r, i) => (out[r] = { logits: rows[i] }));
    }
    return out as DrawOutcome[];
  }

  async lastLogits(state: RwkvState): Promise<Float32Array | null> {
    return this.serial(async () => {
      const row =
        this.drawn?.step === this.runner.stepsWritten ? this.drawn.rows.get(state) : undefined;
      return row === undefined ? null : (await this.readLogitRows([row]))[0];
    });
  }

  /** Rows of the logits buffer as the last submitted step left them (one readback). */
  private async readLogitRows(rows: readonly number[]): Promise<Float32Array[]> {
    const rowBytes = this.config.vocabSize * 4;
    const data = await this.readback.submitAndRead(
      this.ctx.device.createCommandEncoder(),
      rows.length * rowBytes,
      (e, staging) => copyRows(e, this.runner.logitsBuffer, rows, rowBytes, staging, 0),
    );
    if (rows.length === 1) return [new Float32Array(data)]; // a fresh copy already
    return rows.map((_, i) => new Float32Array(data.slice(i * rowBytes, (i + 1) * rowBytes)));
  }

  private async readStates(slots: number[], into: readonly Float32Array[]): Promise<void> {
    const pool = this.runner.pool;
    const per = pool.bytesPerSlot;
    const enc = this.ctx.device.createCommandEncoder();
    const data = await this.readback.submitAndRead(enc, per * slots.length, (e, staging) => {
      slots.forEach((s, i) => pool.encodeRead(e, s, staging, i * per));
    });
    into.forEach((buf, i) => buf.set(new Float32Array(data, i * per, per / 4)));
  }

  /** The device's loss (or destruction), once it happened: nothing can run after it. */
  unusable(): BackendUnusableError | null {
    return this.ctx.lostError();
  }

  /**
   * Copies states still on the GPU back to the CPU first: nothing a caller holds is lost —
   * unless the device is gone, and those states with it.
   */
  async dispose(): Promise<void> {
    if (!this.ctx.lostError()) await this.serial(() => this.residents.flushAll());
    this.readback.destroy();
    this.runner.destroy();
    this.release();
    if (this.ownsContext) this.ctx.destroy();
  }
}

function logitsOf(outcomes: readonly DrawOutcome[]): Float32Array[] {
  return outcomes.map((o) => ('logits' in o ? o.logits : unreachable()));
}

function unreachable(): never {
  throw new Error('internal: a step without plans returned a drawn token');
}
