// RWKV-7 channel mixing: out = Wv · relu(Wk · (x + (prev − x)·μk))².
import type { RwkvConfig } from '../../model/config.js';
import { layerNorm, type MatmulFn } from './linalg.js';
import type { TokenState } from './time-mix.js';
import type { CpuLayerWeights } from './weights.js';

export function channelMix(
  cfg: RwkvConfig,
  w: CpuLayerWeights,
  x: Float32Array,
  T: number,
  states: readonly TokenState[],
  mm: MatmulFn,
): Float32Array {
  const C = cfg.nEmbd;
  const mixed = new Float32Array(T * C);
  const xx = new Float32Array(C);
  for (let t = 0; t < T; t++) {
    layerNorm(x.subarray(t * C, (t + 1) * C), w.ln2w, w.ln2b, xx);
    const shift = states[t].ffnShift;
    for (let i = 0; i < C; i++) {
      mixed[t * C + i] = xx[i] + (shift[i] - xx[i]) * w.ffnXk[i];
      shift[i] = xx[i];
    }
  }
  const F = cfg.ffnDim;
  const hidden = new Float32Array(T * F);
  mm(w.ffnKey, mixed, hidden, T);
  for (let i = 0; i < hidden.length; i++) {
    const h = hidden[i] > 0 ? hidden[i] : 0;
    hidden[i] = h * h;
  }
  const out = new Float32Array(T * C);
  mm(w.ffnValue, hidden, out, T);
  return out;
}
