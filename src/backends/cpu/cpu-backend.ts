// The CPU backend: exact float32 RWKV-7 in plain TypeScript. Long sequences are processed in
// chunks so that memory for activations stays bounded.
import type { Backend } from '../backend.js';
import type { ModelFile } from '../../model/model-file.js';
import { RwkvState, assertSameShape } from '../../runtime/state.js';
import { forwardTokens } from './forward.js';
import { layerNorm } from './linalg.js';
import type { TokenState } from './time-mix.js';
import { loadCpuWeights, type CpuWeights } from './weights.js';

/** Tokens per chunk in sequence mode: large enough to amortise weight reads, small in memory. */
const CHUNK = 64;

export class CpuBackend implements Backend {
  readonly device = 'cpu' as const;

  private constructor(
    readonly model: ModelFile['identity'],
    private readonly weights: CpuWeights,
  ) {}

  static async load(model: ModelFile): Promise<CpuBackend> {
    return new CpuBackend(model.identity, await loadCpuWeights(model, layerNorm));
  }

  get config() {
    return this.model.config;
  }

  createState(): RwkvState {
    return new RwkvState(this.model);
  }

  async forward(state: RwkvState, tokens: readonly number[]): Promise<Float32Array> {
    const rows = this.run(state, tokens, false);
    return rows[rows.length - 1];
  }

  async forwardAll(state: RwkvState, tokens: readonly number[]): Promise<Float32Array[]> {
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
    const perLayer = (l: number) => states.map((s) => s.layer(l));
    return forwardTokens(
      this.config,
      this.weights,
      tokens,
      perLayer,
      tokens.map((_, i) => i),
    );
  }

  async dispose(): Promise<void> {}

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
      out.push(...forwardTokens(this.config, this.weights, chunk, perLayer, rows));
    }
    return out;
  }
}
