// The whole RWKV-7 network over T tokens on the CPU. Each token carries a view of the state it
// advances: all views point at one state for a sequence, at different states for a batch.
import type { RwkvConfig } from '../../model/config.js';
import { channelMix } from './channel-mix.js';
import { layerNorm, type MatmulFn } from './linalg.js';
import { timeMix, type TokenState } from './time-mix.js';
import type { CpuWeights } from './weights.js';

/**
 * Runs the layers for `tokens` (token t advances layerStates[layer][t]) and returns the logits of
 * the tokens whose index is in `logitRows` (one row of vocabSize each, in that order).
 * Every matrix product goes through `mm` (the calling thread's matmul or a worker pool's).
 */
export function forwardTokens(
  cfg: RwkvConfig,
  w: CpuWeights,
  tokens: readonly number[],
  layerStates: (layer: number) => readonly TokenState[],
  logitRows: readonly number[],
  mm: MatmulFn,
): Float32Array[] {
  const C = cfg.nEmbd;
  const T = tokens.length;
  const x = new Float32Array(T * C);
  tokens.forEach((tok, t) => {
    if (!Number.isInteger(tok) || tok < 0 || tok >= cfg.vocabSize) {
      throw new RangeError(`token id ${tok} is outside the vocabulary (0..${cfg.vocabSize - 1})`);
    }
    x.set(w.emb.data.subarray(tok * C, (tok + 1) * C), t * C);
  });
  const vFirst = new Float32Array(T * C);
  for (let l = 0; l < cfg.nLayer; l++) {
    const states = layerStates(l);
    const att = timeMix(cfg, l, w.layers[l], x, T, states, vFirst, mm);
    for (let i = 0; i < x.length; i++) x[i] += att[i];
    const ffn = channelMix(cfg, w.layers[l], x, T, states, mm);
    for (let i = 0; i < x.length; i++) x[i] += ffn[i];
  }
  const R = logitRows.length;
  const normed = new Float32Array(R * C);
  logitRows.forEach((t, j) => {
    layerNorm(
      x.subarray(t * C, (t + 1) * C),
      w.lnOutW,
      w.lnOutB,
      normed.subarray(j * C, (j + 1) * C),
    );
  });
  const logits = new Float32Array(R * cfg.vocabSize);
  mm(w.head, normed, logits, R);
  return logitRows.map((_, j) => logits.slice(j * cfg.vocabSize, (j + 1) * cfg.vocabSize));
}
