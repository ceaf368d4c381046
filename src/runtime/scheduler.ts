// Continuous batching: every active generation advances together, one token per step, through a
// single backend.forwardBatch call (the weights are read once per step instead of once per
// request). New requests join between steps; their prompts are read in fixed-size chunks
// interleaved with the decode steps, so a long prompt delays other streams by at most a chunk.
// A backend with forwardMany (WebGPU) takes a step's decode tokens and prompt chunks in one call,
// one pass over the weights; others get one forwardBatch and a forward per chunk.
// A request that is cancelled (client gone) leaves at the next step boundary and its slot is
// given to the next queued request.
import type { Backend } from '../backends/backend.js';
import type { DrawOutcome, DrawPlan } from '../backends/device-draw.js';
import type { RwkvState } from './state.js';

/** One generation as the scheduler sees it; the caller owns sampling and output. */
export interface ScheduledJob {
  /** Advanced in place; owned by the job for its whole life. */
  readonly state: RwkvState;
  /** Tokens to read before the first sample; at least one. */
  readonly prompt: readonly number[];
  /** Called once the prompt has been read (e.g. to cache the state), before the first `next`. */
  onPrefilled?(state: RwkvState): void;
  /**
   * Given the logits after the last token read, returns the token to read next, or null when
   * the generation is over. Runs synchronously inside the step.
   */
  next(logits: Float32Array): number | null;
  /**
   * Optional, with drawPlan: as `next`, for a step whose token the backend drew with the plan
   * (backends/device-draw.ts: the token the job's sampler would draw from the logits).
   */
  nextDrawn?(token: number): number | null;
  /**
   * Optional: how to draw the next token on the device (Sampler.planDraw) — after `next`
   * returned a token, or before the prompt's last chunk is read (the first token) — or null
   * to get the logits. Used when the backend offers forwardBatchDraw (forwardDraw for the
   * prompt); the job then gets `nextDrawn` or, where the device could not prove the token,
   * `next` with the logits.
   */
  drawPlan?(): DrawPlan | null;
  /** Called exactly once when the job leaves the scheduler. */
  onEnd(outcome: JobOutcome): void;
}

export type JobOutcome =
  { kind: 'finished' } | { kind: 'cancelled' } | { kind: 'failed'; error: Error };

export interface SchedulerOptions {
  /** Most jobs in flight at once (the batch size ceiling). */
  maxBatch: number;
  /** Most jobs waiting for a slot; submit throws QueueFullError when maxBatch + maxQueue jobs
   *  are in flight. */
  maxQueue: number;
  /**
   * Prompt tokens read per chunk. Chunk boundaries depend only on the job's own prompt, so a
   * job's numbers do not depend on what else is running.
   */
  prefillChunk: number;
  /**
   * Prompt tokens read per step across all jobs: chunks are taken (round-robin over the jobs
   * still reading their prompts) until this many tokens were read; at least one chunk.
   */
  prefillTokensPerStep: number;
}

export interface StepInfo {
  /** Jobs advanced by the decode batch this step. */
  batchSize: number;
  /** Prompt tokens read this step. */
  prefillTokens: number;
  seconds: number;
}

export class QueueFullError extends Error {
  constructor(readonly queued: number) {
    super(`scheduler queue is full (${queued} waiting)`);
    this.name = 'QueueFullError';
  }
}

interface Slot {
  job: ScheduledJob;
  /** Position in job.prompt of the next token to read. */
  read: number;
  /** What the last step left for the job: logits, or the token drawn on the device. */
  logits: DrawOutcome | null;
  cancelled: boolean;
}

export class BatchScheduler {
  private readonly queue: Slot[] = [];
  private readonly active: Slot[] = [];
  private readonly slots = new Map<ScheduledJob, Slot>();
  private running = false;
  private prefillCursor = 0;
  private closed = false;
  /** Observers of every step (metrics, logs). */
  onStep: ((info: StepInfo) => void) | null = null;

  constructor(
    private readonly backend: Backend,
    readonly options: SchedulerOptions,
  ) {
    if (options.maxBatch < 1 || options.prefillChunk < 1 || options.prefillTokensPerStep < 1) {
      throw new RangeError('maxBatch, prefillChunk and prefillTokensPerStep must be at least 1');
    }
  }

  get activeCount(): number {
    return this.active.length;
  }

  get queuedCount(): number {
    return this.queue.length;
  }

  /** Adds a job; it starts at the next step with a free slot. */
  submit(job: ScheduledJob): void {
    if (this.closed) throw new Error('scheduler is closed');
    if (job.prompt.length === 0) throw new Error('a job needs at least one prompt token');
    // Jobs not yet admitted wait in the queue even while slots are free (admission happens at
    // the next step), so the bound is on everything in flight.
    const { maxBatch, maxQueue } = this.options;
    if (this.active.length + this.queue.length >= maxBatch + maxQueue) {
      throw new QueueFullError(this.queue.length);
    }
    const slot: Slot = { job, read: 0, logits: null, cancelled: false };
    this.slots.set(job, slot);
    this.queue.push(slot);
    this.wake();
  }

  /** Stops a job; its slot is freed at the next step boundary (immediately if it is queued). */
  cancel(job: ScheduledJob): void {
    const slot = this.slots.get(job);
    if (!slot || slot.cancelled) return;
    slot.cancelled = true;
    const q = this.queue.indexOf(slot);
    if (q >= 0) {
      this.queue.splice(q, 1);
      this.end(slot, { kind: 'cancelled' });
    }
  }

  /** Cancels everything and refuses new work. */
  close(): void {
    this.closed = true;
    for (const slot of [...this.queue, ...this.active]) this.cancel(slot.job);
  }

  private wake(): void {
    if (this.running) return;
    this.running = true;
    // Start on a later tick so that several submits from one event-loop turn share a step.
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    try {
      while (this.active.length > 0 || this.queue.length > 0) {
        await this.step();
        // Let sockets flush, disconnects surface and new requests arrive between steps.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.running = false;
    }
  }

  private end(slot: Slot, outcome: JobOutcome): void {
    this.slots.delete(slot.job);
    const i = this.active.indexOf(slot);
    if (i >= 0) this.active.splice(i, 1);
    try {
      slot.job.onEnd(outcome);
    } catch {
      // A failing observer must not stop the other jobs.
    }
  }

  private async step(): Promise<void> {
    const started = performance.now();
    for (const slot of [...this.active]) if (slot.cancelled) this.end(slot, { kind: 'cancelled' });
    while (this.active.length < this.options.maxBatch && this.queue.length > 0) {
      this.active.push(this.queue.shift()!);
    }
    const batch = this.decodeTokens();
    const chunks = this.prefillChunks();
    if (this.backend.forwardMany) await this.advanceTogether(batch, chunks);
    else {
      await this.advanceDecode(batch);
      for (const c of chunks) await this.advancePrefill(c);
    }
    try {
      this.onStep?.({
        batchSize: batch.length,
        prefillTokens: chunks.reduce((n, c) => n + c.tokens.length, 0),
        seconds: (performance.now() - started) / 1000,
      });
    } catch {
      // Observers (metrics) must not stop the scheduler.
    }
  }

  /** Decode: every job whose logits are ready picks its next token (or ends). */
  private decodeTokens(): DecodeRow[] {
    const batch: DecodeRow[] = [];
    for (const slot of [...this.active]) {
      if (!slot.logits || slot.cancelled) continue;
      const logits = slot.logits;
      slot.logits = null;
      let token: number | null;
      try {
        token =
          'token' in logits ? slot.job.nextDrawn!(logits.token) : slot.job.next(logits.logits);
      } catch (err) {
        this.end(slot, { kind: 'failed', error: asError(err) });
        continue;
      }
      if (token === null) this.end(slot, { kind: 'finished' });
      else if (!slot.cancelled) batch.push({ slot, token });
    }
    return batch;
  }

  /**
   * Prefill: prompt chunks up to the per-step token budget, taken round-robin so that every
   * new job makes progress and none holds up the decode steps for long. A job picked twice in
   * one step keeps both chunks, in order.
   */
  private prefillChunks(): PrefillChunk[] {
    const picked = new Map<Slot, PrefillChunk>();
    const readTo = (s: Slot) => s.read + (picked.get(s)?.tokens.length ?? 0);
    const slices: PrefillChunk[] = [];
    let tokens = 0;
    while (tokens < this.options.prefillTokensPerStep) {
      const pending = this.active.filter((s) => readTo(s) < s.job.prompt.length && !s.cancelled);
      if (pending.length === 0) break;
      const slot = pending[this.prefillCursor++ % pending.length];
      const from = readTo(slot);
      const chunk = slot.job.prompt.slice(from, from + this.options.prefillChunk);
      const c = picked.get(slot) ?? { slot, parts: [], tokens: [], last: false };
      c.parts.push(chunk);
      c.tokens.push(...chunk);
      c.last = from + chunk.length === slot.job.prompt.length;
      if (!picked.has(slot)) slices.push(c);
      picked.set(slot, c);
      tokens += chunk.length;
    }
    return slices;
  }

  /**
   * The prompt's last row gives the job's first token: drawn on the device too where the job
   * and the backend can (at batch 128 its CPU sampling was ~150 ms per 128 joins).
   */
  private firstTokenPlan(c: PrefillChunk): DrawPlan | null {
    return c.last ? this.drawPlanOf(c.slot) : null;
  }

  /** The plan the job's next token is drawn under on the device, if it has one. */
  private drawPlanOf(slot: Slot): DrawPlan | null {
    return (slot.job.nextDrawn && slot.job.drawPlan?.()) || null;
  }

  /** After a job's chunk was read: its position, and at the prompt's end its first outcome. */
  private async prefilled(c: PrefillChunk, outcome: DrawOutcome | null): Promise<void> {
    c.slot.read += c.tokens.length;
    if (!c.last || !outcome) return;
    c.slot.logits = outcome;
    // The callback may copy the state on the CPU (the server's prefix cache).
    if (c.slot.job.onPrefilled) await c.slot.job.state.sync();
    c.slot.job.onPrefilled?.(c.slot.job.state);
  }

  /**
   * Decode tokens and prompt chunks in one backend call (forwardMany): the weights are read
   * once per step however many jobs are reading their prompts. 2.9B on the H100, 128 jobs of a
   * one-token prompt each: the 128 prompts took 128 calls of ~4.3 ms each before.
   */
  private async advanceTogether(batch: DecodeRow[], chunks: PrefillChunk[]): Promise<void> {
    if (batch.length + chunks.length === 0) return;
    const draws = !!this.backend.forwardBatchDraw;
    const slots = [...batch.map((r) => r.slot), ...chunks.map((c) => c.slot)];
    try {
      const outcomes = await this.backend.forwardMany!(
        slots.map((s) => s.job.state),
        [...batch.map((r) => [r.token]), ...chunks.map((c) => c.tokens)],
        [...batch.map(() => true), ...chunks.map((c) => c.last)],
        [
          ...batch.map((r) => (draws ? this.drawPlanOf(r.slot) : null)),
          ...chunks.map((c) => (draws ? this.firstTokenPlan(c) : null)),
        ],
      );
      batch.forEach((r, i) => (r.slot.logits = outcomes[i]));
      for (const [i, c] of chunks.entries()) {
        try {
          await this.prefilled(c, outcomes[batch.length + i]);
        } catch (err) {
          this.end(c.slot, { kind: 'failed', error: asError(err) }); // this job's callback
        }
      }
    } catch (err) {
      for (const slot of slots) this.end(slot, { kind: 'failed', error: asError(err) });
    }
  }

  /** Without forwardMany: the decode tokens in one batch. */
  private async advanceDecode(batch: DecodeRow[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      const states = batch.map((r) => r.slot.job.state);
      const tokens = batch.map((r) => r.token);
      const draw = this.backend.forwardBatchDraw?.bind(this.backend);
      const plans = draw ? batch.map((r) => this.drawPlanOf(r.slot)) : [];
      if (draw && plans.some((p) => p !== null)) {
        const outcomes = await draw(states, tokens, plans);
        batch.forEach((r, i) => (r.slot.logits = outcomes[i]));
      } else {
        const rows = await this.backend.forwardBatch(states, tokens);
        batch.forEach((r, i) => (r.slot.logits = { logits: rows[i] }));
      }
    } catch (err) {
      for (const r of batch) this.end(r.slot, { kind: 'failed', error: asError(err) });
    }
  }

  /**
   * Without forwardMany: one call per prompt chunk, so that a job's chunk boundaries (and on
   * the CPU its numbers) do not depend on what else is running.
   */
  private async advancePrefill(c: PrefillChunk): Promise<void> {
    for (const [i, part] of c.parts.entries()) {
      if (c.slot.cancelled || !this.slots.has(c.slot.job)) return;
      const piece: PrefillChunk = {
        slot: c.slot,
        parts: [part],
        tokens: part,
        last: c.last && i === c.parts.length - 1,
      };
      try {
        const plan = this.backend.forwardDraw ? this.firstTokenPlan(piece) : null;
        const outcome = plan
          ? await this.backend.forwardDraw!(c.slot.job.state, part, plan)
          : { logits: await this.backend.forward(c.slot.job.state, part) };
        await this.prefilled(piece, outcome);
      } catch (err) {
        this.end(c.slot, { kind: 'failed', error: asError(err) });
        return;
      }
    }
  }
}

/** A decoding job and the token it reads next. */
interface DecodeRow {
  slot: Slot;
  token: number;
}

/** The prompt chunks of one job picked for this step. */
interface PrefillChunk {
  slot: Slot;
  /** The chunks in prompt order, and their tokens joined. */
  parts: number[][];
  tokens: number[];
  /** The chunk ends the prompt: its last row gives the first token. */
  last: boolean;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
