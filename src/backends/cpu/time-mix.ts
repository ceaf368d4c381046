// RWKV-7 time mixing over T tokens (the official x070 RNN-mode math, RWKV-LM RWKV-v7 demo).
// Matrix products run over all T tokens at once; the token shift and the wkv recurrence run in
// token order on each token's own state view, which is what makes one code path serve both a
// sequence (all tokens share one state) and a batch (one state per token).
import type { RwkvConfig } from '../../model/config.js';
import { layerNorm, sigmoid, type MatmulFn } from './linalg.js';
import type { CpuLayerWeights, Matrix } from './weights.js';

export interface TokenState {
  attShift: Float32Array;
  wkv: Float32Array;
  ffnShift: Float32Array;
}

/** exp(-0.5): the decay is exp(-e^-0.5 · sigmoid(w)), written 0.606531 in the reference demo. */
const DECAY_SCALE = 0.606531;
const GROUP_NORM_EPS = 64e-5;

/**
 * x: T × C residual stream (read), returns the time-mix output T × C.
 * vFirst: T × C, written by layer 0 and read by the others (value residual).
 */
export function timeMix(
  cfg: RwkvConfig,
  layer: number,
  w: CpuLayerWeights,
  x: Float32Array,
  T: number,
  states: readonly TokenState[],
  vFirst: Float32Array,
  mm: MatmulFn,
): Float32Array {
  const C = cfg.nEmbd;
  const H = cfg.nHead;
  const N = cfg.headSize;
  const xx = new Float32Array(T * C);
  for (let t = 0; t < T; t++) {
    layerNorm(x.subarray(t * C, (t + 1) * C), w.ln1w, w.ln1b, xx.subarray(t * C, (t + 1) * C));
  }

  // Token shift and the six mixes: x + (prev − x)·μ.
  const mixes = [w.xr, w.xw, w.xk, w.xv, w.xa, w.xg].map(() => new Float32Array(T * C));
  const [mr, mw, mk, mv, ma, mg] = mixes;
  const mus = [w.xr, w.xw, w.xk, w.xv, w.xa, w.xg];
  for (let t = 0; t < T; t++) {
    const shift = states[t].attShift;
    const o = t * C;
    for (let i = 0; i < C; i++) {
      const cur = xx[o + i];
      const d = shift[i] - cur;
      for (let m = 0; m < 6; m++) mixes[m][o + i] = cur + d * mus[m][i];
      shift[i] = cur;
    }
  }

  const r = new Float32Array(T * C);
  const k = new Float32Array(T * C);
  const v = new Float32Array(T * C);
  mm(w.wr, mr, r, T);
  mm(w.wk, mk, k, T);
  mm(w.wv, mv, v, T);

  const decay = lora(mm, w.w1, w.w2, mw, T, Math.tanh);
  const iclr = lora(mm, w.a1, w.a2, ma, T, identity);
  const gate = lora(mm, w.g1, w.g2, mg, T, sigmoid);
  const vres = w.v1 && w.v2 ? lora(mm, w.v1, w.v2, mv, T, identity) : undefined;

  const kk = new Float32Array(N);
  const y = new Float32Array(T * C);
  for (let t = 0; t < T; t++) {
    const o = t * C;
    const S = states[t].wkv;
    for (let i = 0; i < C; i++) {
      const a = sigmoid(w.a0[i] + iclr[o + i]);
      iclr[o + i] = a;
      decay[o + i] = Math.exp(-DECAY_SCALE * sigmoid(w.w0[i] + decay[o + i]));
    }
    if (layer === 0) {
      vFirst.set(v.subarray(o, o + C), o);
    } else if (vres && w.v0) {
      for (let i = 0; i < C; i++) {
        const mix = sigmoid(w.v0[i] + vres[o + i]);
        v[o + i] += (vFirst[o + i] - v[o + i]) * mix;
      }
    }
    for (let h = 0; h < H; h++) {
      const ho = o + h * N;
      // kk = L2-normalised (k · k_k) per head (torch F.normalize, eps 1e-12).
      let norm = 0;
      for (let j = 0; j < N; j++) {
        kk[j] = k[ho + j] * w.kk[h * N + j];
        norm += kk[j] * kk[j];
      }
      const inv = 1 / Math.max(Math.sqrt(norm), 1e-12);
      for (let j = 0; j < N; j++) kk[j] *= inv;
      for (let j = 0; j < N; j++) {
        const a = iclr[ho + j];
        k[ho + j] *= 1 + (a - 1) * w.ka[h * N + j];
      }
      wkvHead(S, h, N, r, k, v, decay, iclr, kk, ho, y);
      groupNormHead(y, ho, N, w.lnxw, w.lnxb, h * N);
      // Bonus: (Σ_j r·k·r_k) · v, per head.
      let bonus = 0;
      for (let j = 0; j < N; j++) bonus += r[ho + j] * k[ho + j] * w.rk[h * N + j];
      for (let j = 0; j < N; j++) y[ho + j] += bonus * v[ho + j];
    }
    for (let i = 0; i < C; i++) y[o + i] *= gate[o + i];
  }
  const out = new Float32Array(T * C);
  mm(w.wo, y, out, T);
  return out;
}

/**
 * One head's state update and read-out:
 * S[i][j] ← S[i][j]·w[j] − (S·kk)[i]·(kk·a)[j] + v[i]·k[j];  y[i] = Σ_j S[i][j]·r[j].
 */
function wkvHead(
  S: Float32Array,
  h: number,
  N: number,
  r: Float32Array,
  k: Float32Array,
  v: Float32Array,
  decay: Float32Array,
  a: Float32Array,
  kk: Float32Array,
  ho: number,
  y: Float32Array,
): void {
  const base = h * N * N;
  for (let i = 0; i < N; i++) {
    const row = base + i * N;
    let sk = 0;
    for (let j = 0; j < N; j++) sk += S[row + j] * kk[j];
    const vi = v[ho + i];
    let out = 0;
    for (let j = 0; j < N; j++) {
      const s = S[row + j] * decay[ho + j] - sk * kk[j] * a[ho + j] + vi * k[ho + j];
      S[row + j] = s;
      out += s * r[ho + j];
    }
    y[ho + i] = out;
  }
}

function groupNormHead(
  y: Float32Array,
  ho: number,
  N: number,
  w: Float32Array,
  b: Float32Array,
  wo: number,
): void {
  let mean = 0;
  for (let j = 0; j < N; j++) mean += y[ho + j];
  mean /= N;
  let v = 0;
  for (let j = 0; j < N; j++) v += (y[ho + j] - mean) * (y[ho + j] - mean);
  const inv = 1 / Math.sqrt(v / N + GROUP_NORM_EPS);
  for (let j = 0; j < N; j++) y[ho + j] = (y[ho + j] - mean) * inv * w[wo + j] + b[wo + j];
}

const identity = (x: number) => x;

/** (act(x·A))·B for T tokens, with A, B already transposed to [out × in]. */
function lora(
  mm: MatmulFn,
  a: Matrix,
  b: Matrix,
  x: Float32Array,
  T: number,
  act: (v: number) => number,
): Float32Array {
  const hidden = new Float32Array(T * a.rows);
  mm(a, x, hidden, T);
  for (let i = 0; i < hidden.length; i++) hidden[i] = act(hidden[i]);
  const out = new Float32Array(T * b.rows);
  mm(b, hidden, out, T);
  return out;
}
