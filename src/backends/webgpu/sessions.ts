// Sessions whose state stays on the GPU between calls: the fast path for serving (no state
// transfer per token). Each session is a slot of the backend's state pool; any set of sessions
// can advance together in one step (they join and leave freely between steps), and one
// session's state can be read, written or forked without disturbing the others.
import { RwkvState } from '../../runtime/state.js';
import type { WebGpuBackend } from './backend.js';
import { Readback } from './readback.js';
import type { StepSequence } from './runner.js';

export interface StepInput {
  slot: number;
  tokens: readonly number[];
}

/** Per input: full logits of its last token, or its top-k tokens with their logits. */
export type StepOutput = { logits: Float32Array } | { top: { token: number; logit: number }[] };

export class GpuSessions {
  private readonly readback: Readback;

  constructor(private readonly backend: WebGpuBackend) {
    this.readback = new Readback(backend.ctx);
  }

  private get pool() {
    return this.backend.runner.pool;
  }

  /** A new session (zero state, or a copy of `state`). */
  open(state?: RwkvState): number {
    const slot = this.pool.alloc();
    if (state) this.pool.write(slot, state.data);
    return slot;
  }

  close(slot: number): void {
    this.pool.release(slot);
  }

  write(slot: number, state: RwkvState): Promise<void> {
    return this.backend.serial(async () => this.pool.write(slot, state.data));
  }

  read(slot: number): Promise<RwkvState> {
    return this.backend.serial(async () => {
      const enc = this.backend.ctx.device.createCommandEncoder();
      const per = this.pool.bytesPerSlot;
      const data = await this.readback.submitAndRead(enc, per, (e, staging) =>
        this.pool.encodeRead(e, slot, staging, 0),
      );
      return new RwkvState(this.backend.model, new Float32Array(data));
    });
  }

  /** A new session continuing from `slot`'s state. */
  fork(slot: number): Promise<number> {
    return this.backend.serial(async () => {
      const copy = this.pool.alloc();
      const device = this.backend.ctx.device;
      const via = device.createBuffer({
        size: this.pool.perLayer * 4,
        usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      const enc = device.createCommandEncoder();
      this.pool.encodeCopy(enc, slot, copy, via);
      device.queue.submit([enc.finish()]);
      via.destroy(); // freed once the submitted copies are done
      return copy;
    });
  }

  /**
   * Advance every input by its tokens (prompts are chunked to the step capacity). Returns, per
   * input, the logits after its last token, or its `topK` best tokens (selected on the GPU).
   */
  step(inputs: readonly StepInput[], opts: { topK?: number } = {}): Promise<StepOutput[]> {
    return this.backend.serial(async () => {
      const runner = this.backend.runner;
      const V = this.backend.config.vocabSize;
      const results: StepOutput[] = new Array(inputs.length);
      const done = inputs.map(() => 0);
      while (done.some((d, i) => d < inputs[i].tokens.length)) {
        const seqs: StepSequence[] = [];
        const owners: number[] = [];
        let room = runner.opts.maxRows;
        let logitRoom = runner.opts.maxLogitRows;
        for (let i = 0; i < inputs.length && room > 0; i++) {
          const take = Math.min(inputs[i].tokens.length - done[i], room);
          if (take === 0) continue;
          const ends = done[i] + take === inputs[i].tokens.length;
          if (ends && logitRoom === 0) break;
          seqs.push({
            slot: inputs[i].slot,
            tokens: inputs[i].tokens.slice(done[i], done[i] + take),
            logits: ends ? [take - 1] : [],
          });
          if (ends) owners.push(i);
          done[i] += take;
          room -= take;
          if (ends) logitRoom--;
        }
        // Decoding steps record the next step's commands while the GPU works (step-ahead.ts).
        const { commands, shape } = await runner.ahead.commands(seqs);
        const nOut = shape.nOut;
        const read = {
          before: [commands],
          whileWaiting: shape.M === shape.nSeq ? () => runner.ahead.prepare(shape) : undefined,
        };
        const enc = this.backend.ctx.device.createCommandEncoder();
        if (opts.topK !== undefined && nOut > 0) {
          const k = opts.topK;
          await runner.topk.encode(enc, nOut, k, false);
          const data = await this.readback.submitAndRead(
            enc,
            nOut * k * 8,
            (e, staging) =>
              e.copyBufferToBuffer(runner.topk.picksBuffer!, 0, staging, 0, nOut * k * 8),
            read,
          );
          const u = new Uint32Array(data);
          const f = new Float32Array(data);
          owners.forEach((owner, r) => {
            const top = [];
            for (let n = 0; n < k; n++)
              top.push({ token: u[(r * k + n) * 2], logit: f[(r * k + n) * 2 + 1] });
            results[owner] = { top };
          });
        } else {
          const data = await this.readback.submitAndRead(
            enc,
            nOut * V * 4,
            (e, staging) => e.copyBufferToBuffer(runner.logitsBuffer, 0, staging, 0, nOut * V * 4),
            read,
          );
          owners.forEach((owner, r) => {
            results[owner] = { logits: new Float32Array(data, r * V * 4, V).slice() };
          });
        }
      }
      return results;
    });
  }

  /**
   * Greedy decoding of `steps` tokens for each session, entirely on the GPU: each step's
   * argmax is fed to the next step without a CPU round trip, and steps are submitted ahead.
   * Starts from `first` (one input token per session); returns the generated tokens.
   */
  greedy(slots: readonly number[], first: readonly number[], steps: number): Promise<number[][]> {
    return this.backend.serial(async () => {
      const runner = this.backend.runner;
      const device = this.backend.ctx.device;
      const n = slots.length;
      if (n > runner.opts.maxRows || n > runner.opts.maxLogitRows) {
        throw new Error(`greedy: ${n} sessions exceed the step capacity`);
      }
      const history = device.createBuffer({
        size: Math.max(16, steps * n * 8),
        usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      });
      try {
        for (let s = 0; s < steps; s++) {
          const seqs = slots.map((slot, i) => ({ slot, tokens: [first[i]], logits: [0] }));
          const enc = device.createCommandEncoder();
          await runner.encodeStep(enc, seqs, s > 0);
          await runner.topk.encode(enc, n, 1, true);
          enc.copyBufferToBuffer(runner.topk.picksBuffer!, 0, history, s * n * 8, n * 8);
          device.queue.submit([enc.finish()]);
        }
        const enc = device.createCommandEncoder();
        const data = await this.readback.submitAndRead(enc, steps * n * 8, (e, staging) =>
          e.copyBufferToBuffer(history, 0, staging, 0, steps * n * 8),
        );
        const u = new Uint32Array(data);
        return slots.map((_, i) => Array.from({ length: steps }, (_, s) => u[(s * n + i) * 2]));
      } finally {
        history.destroy();
      }
    });
  }

  dispose(): void {
    this.readback.destroy();
  }
}
