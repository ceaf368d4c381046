// Float32 kernels of the CPU backend. JavaScript evaluates in float64 and stores in float32, so
// sums are accumulated more precisely than a float32 GPU kernel would; that only brings results
// closer to the float64 reference fixtures.
import type { Matrix } from './weights.js';

/** Y[t] = W · X[t] for T column vectors packed row after row (X: T × cols, Y: T × rows). */
export function matmul(w: Matrix, x: Float32Array, y: Float32Array, T: number): void {
  matmulRows(w, x, y, T, 0, w.rows);
}

/** A matrix product with matmul's signature (the calling thread's, or a worker pool's). */
export type MatmulFn = (w: Matrix, x: Float32Array, y: Float32Array, T: number) => void;

/**
 * Output rows [r0, r1) of matmul. Every element is one dot product in a fixed order, so any
 * split of the rows (across worker threads) produces bit-identical results.
 */
export function matmulRows(
  w: Matrix,
  x: Float32Array,
  y: Float32Array,
  T: number,
  r0: number,
  r1: number,
): void {
  const { rows, cols, data } = w;
  for (let r = r0; r < r1; r++) {
    const base = r * cols;
    for (let t = 0; t < T; t++) {
      const xo = t * cols;
      // Four partial sums shorten the dependency chain (measurably faster in V8).
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let i = 0;
      for (; i + 3 < cols; i += 4) {
        s0 += data[base + i] * x[xo + i];
        s1 += data[base + i + 1] * x[xo + i + 1];
        s2 += data[base + i + 2] * x[xo + i + 2];
        s3 += data[base + i + 3] * x[xo + i + 3];
      }
      for (; i < cols; i++) s0 += data[base + i] * x[xo + i];
      y[t * rows + r] = s0 + s1 + (s2 + s3);
    }
  }
}

/** LayerNorm over one vector (population variance), as torch.nn.functional.layer_norm. */
export function layerNorm(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  out: Float32Array,
  eps = 1e-5,
): void {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i] - mean) * (x[i] - mean);
  const inv = 1 / Math.sqrt(v / n + eps);
  for (let i = 0; i < n; i++) out[i] = (x[i] - mean) * inv * w[i] + b[i];
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
