// The CPU backend: exact float32 RWKV-7 in plain TypeScript. Long sequences are processed in
// chunks so that memory for activations stays bounded. Matrix products run on a pool of worker
// threads (matmul-pool.ts) that produces bit-identical results to a single thread.
import { availableParallelism } from 'node:os';
import type { Backend } from '../backend.js';
import type { ModelFile } from '../../model/model-file.js';
import { RwkvState, assertSameShape } from '../../runtime/state.js';
import { forwardTokens } from './forward.js';
import { layerNorm, matmul, type MatmulFn } from './linalg.js';
import { MatmulPool } from './matmul-pool.js';
import type { TokenState } from './time-mix.js';
import { loadCpuWeights, productMatrices, type CpuWeights } from './weights.js';

/** Tokens per chunk in sequence mode: large enough to amortise weight reads, small in memory. */
const CHUNK = 64;

/**
 * Products smaller than this many multiply-adds (rows × cols × tokens) stay on the calling
 * thread. Measured on 2 cores: a 64×768 product (49k) gained nothing from a second thread,
 * 128×768 (98k) about 20%, 768×768 (590k) 1.7×; below it, waking a worker costs what it saves.
 */
const MIN_PARALLEL_WORK = 100_000;

export interface CpuBackendOptions {
  /** Threads for matrix products, the calling thread included; default: every core. */
  threads?: number;
  /** Override of the smallest product (multiply-adds) split across threads. */
  minParallelWork?: number;
}

export class CpuBackend implements Backend {
  readonly device = 'cpu' as const;

  private readonly mm: MatmulFn;

  private constructor(
    readonly model: ModelFile['identity'],
    private readonly weights: CpuWeights,
    private readonly pool: MatmulPool | undefined,
  ) {
    this.mm = pool ? pool.matmul : matmul;
  }

  static async load(model: ModelFile, opts: CpuBackendOptions = {}): Promise<CpuBackend> {
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1) {
      throw new RangeError(`CPU threads must be a whole number ≥ 1 (got ${threads})`);
    }
    const minParallelWork = opts.minParallelWork ?? MIN_PARALLEL_WORK;
    // Workers only for models with a product worth splitting (the head or the ffn, at the
    // longest chunk); they start before the weights are read so that their start-up overlaps.
    const c = model.config;
    const largest = Math.max(c.vocabSize, c.ffnDim) * c.nEmbd * CHUNK;
    const pool =
      threads > 1 && largest >= minParallelWork
        ? new MatmulPool({ threads, minParallelWork })
        : undefined;
    let weights: CpuWeights;
    try {
      weights = await loadCpuWeights(model, layerNorm);
      await pool?.attach(productMatrices(weights));
    } catch (err) {
      await pool?.close();
      throw err;
    }
    return new CpuBackend(model.identity, weights, pool);
  }

  /** Threads doing matrix products (1 when no worker pool runs). */
  get threads(): number {
    return this.pool ? this.pool.threads : 1;
  }

  /** Output blocks that worker threads computed so far (0 without a pool). */
  get workerBlocks(): number {
    return this.pool?.workerBlocks ?? 0;
  }

  get config() {
    return this.model.config;
  }

  createState(): RwkvState {
    return new RwkvState(this.model);
  }

  async forward(state: RwkvState, tokens: readonly number[]): Promise<Float32Array> {
    await state.sync(); // in case a GPU backend advanced it last
    const rows = this.run(state, tokens, false);
    return rows[rows.length - 1];
  }

  async forwardAll(state: RwkvState, tokens: readonly number[]): Promise<Float32Array[]> {
    await state.sync();
    return this.run(state, tokens, true);
  }

  async forwardBatch(
    states: readonly RwkvState[],
    tokens: readonly number[],
  ): Promise<Float32Array[]> {
    if (states.length !== tokens.length) {
      throw new Error(`forwardBatch: ${states.length} states but ${tokens.length} tokens`);
    }
    if (states.length === 0) return [];
    states.forEach((s) => assertSameShape(this.config, s.config));
    await Promise.all(states.map((s) => s.sync()));
    const perLayer = (l: number) => states.map((s) => s.layer(l));
    return forwardTokens(
      this.config,
      this.weights,
      tokens,
      perLayer,
      tokens.map((_, i) => i),
      this.mm,
    );
  }

  /** Stops the worker threads (a later forward still works, on the calling thread). */
  async dispose(): Promise<void> {
    await this.pool?.close();
  }

  private run(state: RwkvState, tokens: readonly number[], all: boolean): Float32Array[] {
    if (tokens.length === 0) throw new Error('forward needs at least one token');
    assertSameShape(this.config, state.config);
    const layerViews: TokenState[] = [];
    for (let l = 0; l < this.config.nLayer; l++) layerViews.push(state.layer(l));
    const out: Float32Array[] = [];
    for (let start = 0; start < tokens.length; start += CHUNK) {
      const chunk = tokens.slice(start, start + CHUNK);
      const last = start + chunk.length === tokens.length;
      const rows = all ? chunk.map((_, i) => i) : last ? [chunk.length - 1] : [];
      const perLayer = (l: number) => chunk.map(() => layerViews[l]);
      out.push(...forwardTokens(this.config, this.weights, chunk, perLayer, rows, this.mm));
    }
    return out;
  }
}
