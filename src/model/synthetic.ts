// Random RWKV-7 models of any shape, held in memory as a Checkpoint: for benchmarks at the real
// model sizes (no trained checkpoints are downloadable here) and for tests of odd shapes.
// Values are scaled so activations stay in the range of a trained model (unit-variance linear
// outputs, decays spread over (0, 1)), which keeps benchmarks free of NaN/denormal slow paths.
import { decodeF32, decodeF32Into, encodeF32 } from '../io/dtype.js';
import type { Checkpoint, DType, TensorEntry } from '../io/tensor.js';
import type { RwkvConfig } from './config.js';
import { expectedTensors } from './weight-names.js';

/** Shapes of the released RWKV-7 sizes (head size 64, vocabulary 65536, ffn 4C). */
export const STANDARD_SHAPES = {
  '0.1B': { nLayer: 12, nEmbd: 768 },
  '0.4B': { nLayer: 24, nEmbd: 1024 },
  '1.5B': { nLayer: 24, nEmbd: 2048 },
  '2.9B': { nLayer: 32, nEmbd: 2560 },
  '7.2B': { nLayer: 32, nEmbd: 4096 },
} as const;

export type StandardSize = keyof typeof STANDARD_SHAPES;

/** LoRA ranks grow with width in the released models; these follow that trend. */
export function standardConfig(size: StandardSize, vocabSize = 65536): RwkvConfig {
  const { nLayer, nEmbd } = STANDARD_SHAPES[size];
  const r = (base: number) => Math.max(32, Math.round((base * Math.sqrt(nEmbd / 768)) / 32) * 32);
  return {
    version: 'x070',
    nLayer,
    nEmbd,
    headSize: 64,
    nHead: nEmbd / 64,
    vocabSize,
    ffnDim: nEmbd * 4,
    lora: { decay: r(64), iclr: r(64), valueResidual: r(32), gate: r(128) },
  };
}

/** mulberry32: a 32-bit-state PRNG, plenty for filling weights reproducibly. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform range [lo, hi) for each tensor kind, chosen from its role in the network. */
function rangeFor(name: string, shape: readonly number[]): [number, number] {
  const leaf = name.replace(/^blocks\.\d+\./, '');
  if (/ln\w*\.weight$/.test(leaf)) return [0.8, 1.2];
  if (/ln\w*\.bias$/.test(leaf)) return [-0.1, 0.1];
  if (/^(att|ffn)\.x_\w$/.test(leaf)) return [0, 1];
  if (leaf === 'att.w0') return [-3, 1];
  if (leaf === 'att.a0' || leaf === 'att.v0') return [-1, 1];
  if (leaf === 'att.k_k') return [0.6, 1];
  if (leaf === 'att.k_a') return [0.5, 1.5];
  if (leaf === 'att.r_k') return [-0.5, 0.5];
  if (leaf === 'emb.weight') return [-1, 1];
  // Matrices: LoRA factors are stored [in, rank]/[rank, out]; linears [out, in].
  const isLoraIn = /^att\.[wavg]1$/.test(leaf);
  const fanIn = isLoraIn ? shape[0] : /^att\.[wavg]2$/.test(leaf) ? shape[0] : shape[1];
  const s = Math.sqrt(3 / fanIn) * (/^att\.[wavg]2$/.test(leaf) ? 0.5 : 1);
  return [-s, s];
}

export interface SyntheticOptions {
  dtype?: DType;
  seed?: number;
  /**
   * Make the large matrices (C×C and up) windows into a few shared random blocks instead of
   * drawing every value: a 7.2B model then takes seconds to make rather than minutes. For
   * speed benchmarks, whose timing does not depend on the values.
   */
  sharedBlocks?: boolean;
}

/** An in-memory checkpoint with official names, order and shapes for `config`. */
export function syntheticCheckpoint(config: RwkvConfig, opts: SyntheticOptions = {}): Checkpoint {
  const dtype = opts.dtype ?? 'bf16';
  const seed = opts.seed ?? 7;
  const rand = mulberry32(seed);
  const expected = expectedTensors(config);
  const isLarge = (numel: number) => opts.sharedBlocks && numel >= config.nEmbd * config.nEmbd;
  const numelOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

  // One block per value range, as long as the largest matrix that draws from it.
  const blockSizes = new Map<string, number>();
  for (const { name, shape } of expected) {
    const numel = numelOf(shape);
    if (!isLarge(numel)) continue;
    const key = rangeFor(name, shape).join(',');
    blockSizes.set(key, Math.max(blockSizes.get(key) ?? 0, numel));
  }
  const blocks = new Map<string, Uint8Array>();
  for (const [key, numel] of blockSizes) {
    const [lo, hi] = key.split(',').map(Number);
    blocks.set(key, uniformValues(numel, lo, hi, rand, dtype));
  }

  const elementBytes = encodeF32(new Float32Array(1), dtype).length;
  const tensors = new Map<string, TensorEntry>();
  for (const { name, shape } of expected) {
    const numel = numelOf(shape);
    const [lo, hi] = rangeFor(name, shape);
    let bytes: Uint8Array;
    if (isLarge(numel)) {
      const block = blocks.get(`${lo},${hi}`)!;
      const room = block.length / elementBytes - numel;
      const at = Math.floor(rand() * (room + 1)) & ~7; // keep windows 16-byte aligned
      bytes = block.subarray(at * elementBytes, (at + numel) * elementBytes);
    } else {
      bytes = uniformValues(numel, lo, hi, rand, dtype);
    }
    tensors.set(name, {
      name,
      dtype,
      shape,
      numel,
      readBytes: async () => bytes,
      readF32: async () => decodeF32(bytes, dtype),
      readF32Into: async (out) => decodeF32Into(bytes, dtype, out),
    });
  }
  return {
    path: `synthetic:L${config.nLayer}-C${config.nEmbd}-V${config.vocabSize}`,
    format: 'safetensors',
    tensors,
    close: async () => {},
  };
}

function uniformValues(
  numel: number,
  lo: number,
  hi: number,
  rand: () => number,
  dtype: DType,
): Uint8Array {
  const values = new Float32Array(numel);
  for (let i = 0; i < numel; i++) values[i] = lo + (hi - lo) * rand();
  return encodeF32(values, dtype);
}
