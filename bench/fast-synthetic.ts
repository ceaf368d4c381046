// Synthetic RWKV-7 checkpoints of the released shapes, made fast enough for a GPU benchmark:
// the large matrices are windows into a few shared blocks of random bf16 values (at the scale a
// trained model's matrix has), so a 7.2B model costs seconds to make instead of minutes.
// Speed does not depend on the values; the scale only keeps activations free of inf/NaN.
import { encodeF32 } from '../src/io/dtype.js';
import type { Checkpoint, TensorEntry } from '../src/io/tensor.js';
import type { RwkvConfig } from '../src/model/config.js';
import { expectedTensors } from '../src/model/weight-names.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uniformBf16(n: number, lo: number, hi: number, seed: number): Uint8Array {
  const r = rng(seed);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = lo + (hi - lo) * r();
  return encodeF32(v, 'bf16');
}

/** Value range of each small tensor, by its role (see the RWKV-7 parameter initialisation). */
function smallRange(leaf: string, shape: readonly number[]): [number, number] {
  if (/ln\w*\.weight$/.test(leaf)) return [0.8, 1.2];
  if (/ln\w*\.bias$/.test(leaf)) return [-0.1, 0.1];
  if (/^(att|ffn)\.x_\w$/.test(leaf)) return [0, 1];
  if (leaf === 'att.w0') return [-3, 1];
  if (leaf === 'att.a0' || leaf === 'att.v0') return [-1, 1];
  if (leaf === 'att.k_k') return [0.6, 1];
  if (leaf === 'att.k_a') return [0.5, 1.5];
  if (leaf === 'att.r_k') return [-0.5, 0.5];
  const s = Math.sqrt(3 / shape[0]) * (/^att\.[wavg]2$/.test(leaf) ? 0.5 : 1);
  return [-s, s];
}

export function fastSyntheticCheckpoint(c: RwkvConfig, seed = 1): Checkpoint {
  const C = c.nEmbd;
  const bigC = Math.max(c.vocabSize, c.ffnDim) * C;
  // Inputs of width C (and the embedding, which ln0 normalises anyway) / of width F.
  const blockC = uniformBf16(bigC, -Math.sqrt(3 / C), Math.sqrt(3 / C), seed);
  const blockF = uniformBf16(
    c.ffnDim * C,
    -Math.sqrt(3 / c.ffnDim),
    Math.sqrt(3 / c.ffnDim),
    seed + 1,
  );
  const pick = rng(seed + 2);
  const tensors = new Map<string, TensorEntry>();
  let n = 0;
  for (const { name, shape } of expectedTensors(c)) {
    const numel = shape.reduce((a, b) => a * b, 1);
    const leaf = name.replace(/^blocks\.\d+\./, '');
    let bytes: Uint8Array;
    if (numel >= C * C) {
      const block = leaf === 'ffn.value.weight' ? blockF : blockC;
      const room = block.length / 2 - numel;
      const at = Math.floor(pick() * (room + 1)) & ~7;
      bytes = block.subarray(at * 2, (at + numel) * 2);
    } else {
      const [lo, hi] = smallRange(leaf, shape);
      bytes = uniformBf16(numel, lo, hi, seed + 100 + n++);
    }
    tensors.set(name, {
      name,
      dtype: 'bf16',
      shape,
      numel,
      readBytes: async () => bytes,
      readF32: async () => {
        const out = new Float32Array(numel);
        const bits = new Uint32Array(out.buffer);
        const src = new Uint16Array(bytes.buffer, bytes.byteOffset, numel);
        for (let i = 0; i < numel; i++) bits[i] = src[i] << 16;
        return out;
      },
    });
  }
  return {
    path: `synthetic:${c.nLayer}x${C}`,
    format: 'safetensors',
    tensors,
    close: async () => {},
  };
}
