// A stand-in Backend for testing generation logic without a model: it records every token fed
// and answers with logits that make a scripted token the clear favourite (one-hot, +20).
// The state is a real RwkvState of a one-layer shape, so sessions can clone/save it; its first
// float counts the tokens fed, which lets tests see exactly what reached the state.
import type { Backend } from '../../../src/backends/backend.js';
import type { RwkvConfig } from '../../../src/model/config.js';
import { RwkvState, type ModelIdentity } from '../../../src/runtime/state.js';

export class ScriptedBackend implements Backend {
  readonly device = 'cpu' as const;
  readonly model: ModelIdentity;
  /** Every token fed, in order, across all states. */
  readonly fed: number[] = [];
  /** What the "model" wants next; the answer after the n-th generated token is script[n]. */
  script: number[] = [];
  private answered = 0;

  constructor(vocabSize: number) {
    const config: RwkvConfig = {
      version: 'x070',
      nLayer: 1,
      nEmbd: 4,
      headSize: 4,
      nHead: 1,
      vocabSize,
      ffnDim: 16,
      lora: { decay: 1, iclr: 1, valueResidual: 1, gate: 1 },
    };
    this.model = { config, fingerprint: 'scripted' };
  }

  get config(): RwkvConfig {
    return this.model.config;
  }

  /** Restart the script: the next forward answers script[0]. */
  play(script: number[]): void {
    this.script = script;
    this.answered = 0;
  }

  createState(): RwkvState {
    return new RwkvState(this.model);
  }

  private next(): Float32Array {
    const logits = new Float32Array(this.config.vocabSize);
    const want = this.script[Math.min(this.answered, this.script.length - 1)];
    this.answered++;
    if (want !== undefined) logits[want] = 20;
    return logits;
  }

  async forward(state: RwkvState, tokens: readonly number[]): Promise<Float32Array> {
    this.fed.push(...tokens);
    state.data[0] += tokens.length;
    return this.next();
  }

  async forwardAll(state: RwkvState, tokens: readonly number[]): Promise<Float32Array[]> {
    const rows: Float32Array[] = [];
    for (const t of tokens) rows.push(await this.forward(state, [t]));
    return rows;
  }

  async forwardBatch(
    states: readonly RwkvState[],
    tokens: readonly number[],
  ): Promise<Float32Array[]> {
    return Promise.all(states.map((s, i) => this.forward(s, [tokens[i]])));
  }

  async dispose(): Promise<void> {}
}
