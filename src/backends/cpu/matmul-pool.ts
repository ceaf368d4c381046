// Matrix products split across worker threads. The weights already live in SharedArrayBuffers
// (weights.ts), so a job only copies the activations into a shared input, publishes the job
// through Atomics (pool-protocol.ts) and copies the rows back: no postMessage per product.
// The calling thread claims blocks too and then sleeps on Atomics.wait (allowed on Node's main
// thread), so the forward pass stays synchronous.
import { Worker } from 'node:worker_threads';
import { matmul, type MatmulFn } from './linalg.js';
import {
  CTRL,
  ERROR_BYTES,
  MAX_BLOCKS,
  claimBlock,
  finishBlock,
  runBlock,
  waitWhileEqual,
  type PoolShared,
} from './pool-protocol.js';
import type { Matrix } from './weights.js';

/** Tokens per job at most: longer inputs are split (columns are independent, results equal). */
const MAX_JOB_TOKENS = 64;
/** Blocks per participant at least: enough to even out a busy core. */
const BLOCKS_PER_THREAD = 4;
/**
 * Multiply-adds per block at most (about 1.5 ms on one core here), so that a thread the OS
 * pauses in the middle of a block (the machine is shared) holds the others up only briefly.
 */
const MAX_BLOCK_WORK = 1_000_000;
/** The worker module beside this one (TypeScript in a checkout run through tsx). */
const WORKER_ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? './matmul-worker.ts' : './matmul-worker.js',
  import.meta.url,
).href;

export interface MatmulPoolOptions {
  /** Threads doing products, the calling thread included (so threads − 1 workers). */
  threads: number;
  /** Products with rows × cols × T below this run on the calling thread alone. */
  minParallelWork: number;
}

export class MatmulPool {
  private readonly workers: Worker[];
  /** Per worker: resolves on its 'ready' message (it has the shared buffers and is looping). */
  private readonly ready: Promise<unknown>[];
  private readonly ids = new Map<Matrix, number>();
  private shared: PoolShared | undefined;
  private closed = false;

  /**
   * Starts threads − 1 workers at once: loading their module under tsx takes a few hundred ms,
   * which then overlaps reading the weights. Products run on the calling thread until attach().
   */
  constructor(private readonly opts: MatmulPoolOptions) {
    const source = workerBootstrap(WORKER_ENTRY);
    this.workers = Array.from(
      { length: opts.threads - 1 },
      () => new Worker(source, { eval: true, execArgv: [] }),
    );
    this.ready = this.workers.map(firstMessage);
    // A worker that fails before attach() is reported there; until then nothing awaits it.
    for (const r of this.ready) r.catch(() => {});
  }

  /** Hands the workers the matrices (each backed by a SharedArrayBuffer); resolves when ready. */
  async attach(matrices: Matrix[]): Promise<void> {
    for (const m of matrices) {
      if (!(m.data.buffer instanceof SharedArrayBuffer)) {
        throw new Error(`matmul pool: a ${m.rows}×${m.cols} matrix is not in shared memory`);
      }
    }
    matrices.forEach((m, i) => this.ids.set(m, i));
    const maxRows = Math.max(...matrices.map((m) => m.rows));
    const maxCols = Math.max(...matrices.map((m) => m.cols));
    const f32 = (n: number) => new Float32Array(new SharedArrayBuffer(n * 4));
    const shared: PoolShared = {
      ctrl: new Int32Array(new SharedArrayBuffer(CTRL.SIZE * 4)),
      input: f32(MAX_JOB_TOKENS * maxCols),
      output: f32(MAX_JOB_TOKENS * maxRows),
      error: new Uint8Array(new SharedArrayBuffer(ERROR_BYTES)),
      matrices,
    };
    for (const w of this.workers) w.postMessage(shared);
    try {
      await Promise.all(this.ready);
    } catch (err) {
      throw new Error(
        `CPU backend: a matmul worker thread (${WORKER_ENTRY}) failed to start: ` +
          `${(err as Error).message}. Use threads: 1 (CLI: --threads 1) to run on one thread.`,
      );
    }
    for (const w of this.workers) {
      // Referenced until now so an awaiting load keeps the process alive; from here on a
      // forgotten dispose() must not keep it running.
      w.unref();
      w.on('error', () => {}); // errors inside a product are reported through `shared`
    }
    this.shared = shared;
  }

  /** The product function to hand to the forward pass. */
  readonly matmul: MatmulFn = (w, x, y, T) => {
    const id = this.ids.get(w);
    const shared = this.shared;
    if (
      this.closed ||
      !shared ||
      id === undefined ||
      w.rows * w.cols * T < this.opts.minParallelWork
    ) {
      matmul(w, x, y, T);
      return;
    }
    for (let t0 = 0; t0 < T; t0 += MAX_JOB_TOKENS) {
      const n = Math.min(MAX_JOB_TOKENS, T - t0);
      this.runJob(shared, id, w, x.subarray(t0 * w.cols, (t0 + n) * w.cols), n);
      y.set(shared.output.subarray(0, n * w.rows), t0 * w.rows);
    }
  };

  get threads(): number {
    return this.opts.threads;
  }

  /** Output blocks computed by workers so far (the rest ran on the calling thread). */
  get workerBlocks(): number {
    return this.shared ? Atomics.load(this.shared.ctrl, CTRL.WORKER_BLOCKS) : 0;
  }

  /** Stops and terminates the workers; later products run on the calling thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.shared) {
      const { ctrl } = this.shared;
      Atomics.store(ctrl, CTRL.STOP, 1);
      Atomics.add(ctrl, CTRL.GEN, 1);
      Atomics.notify(ctrl, CTRL.GEN);
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private runJob(shared: PoolShared, id: number, w: Matrix, x: Float32Array, T: number): void {
    const { ctrl, input } = shared;
    const threads = this.opts.threads;
    const byWork = Math.ceil((w.rows * w.cols * T) / MAX_BLOCK_WORK);
    const blocks = Math.min(MAX_BLOCKS, w.rows, Math.max(threads * BLOCKS_PER_THREAD, byWork));
    const blockRows = Math.ceil(w.rows / blocks);
    const nBlocks = Math.ceil(w.rows / blockRows);
    input.set(x);
    Atomics.store(ctrl, CTRL.MATRIX, id);
    Atomics.store(ctrl, CTRL.T, T);
    Atomics.store(ctrl, CTRL.BLOCK_ROWS, blockRows);
    Atomics.store(ctrl, CTRL.DONE, 0);
    Atomics.store(ctrl, CTRL.TICKET, nBlocks << 16);
    Atomics.add(ctrl, CTRL.GEN, 1);
    Atomics.notify(ctrl, CTRL.GEN);

    for (let block = claimBlock(ctrl); block >= 0; block = claimBlock(ctrl)) {
      runBlock(shared, block);
      finishBlock(ctrl);
    }
    for (let done = Atomics.load(ctrl, CTRL.DONE); done < nBlocks;) {
      waitWhileEqual(ctrl, CTRL.DONE, done);
      done = Atomics.load(ctrl, CTRL.DONE);
    }
    if (Atomics.load(ctrl, CTRL.FAILED) === 1) throw new Error(workerError(shared.error));
  }
}

function workerError(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  const text = new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end));
  return `a CPU matmul worker thread failed: ${text}`;
}

/** The worker's first message, or its failure to start. */
function firstMessage(worker: Worker): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => settle(() => resolve(m));
    const onError = (err: Error) => settle(() => reject(err));
    const onExit = (code: number) =>
      settle(() => reject(new Error(`a matmul worker thread exited early (code ${code})`)));
    const settle = (then: () => void) => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      then();
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

/**
 * The source a worker starts from. The worker module is TypeScript in a checkout; Node 20 does
 * not apply loader hooks (tsx's --import, or the register() that bin/rwkv.js uses) to a worker's
 * entry file, so the worker first registers tsx itself, then imports the module.
 */
function workerBootstrap(entry: string): string {
  if (!entry.endsWith('.ts')) return `import(${JSON.stringify(entry)});`;
  const tsxApi = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
}
