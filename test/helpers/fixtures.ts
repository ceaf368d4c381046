// Where the reference fixtures live (../shared beside the checkout) and how to read them.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Backend } from '../../src/backends/backend.js';
import type { RwkvState } from '../../src/runtime/state.js';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = resolve(repoRoot, '../shared');
export const fixturesDir = join(sharedDir, 'fixtures');
export const vocabPath = join(sharedDir, 'vocab', 'rwkv_vocab_v20230424.txt');

export interface ModelFixture {
  name: string;
  dir: string;
  reference: {
    n_layer: number;
    n_embd: number;
    vocab_size: number;
    head_size: number;
    n_head: number;
    dtype: string;
    tokens: number[];
    greedy: number[];
    logits_rows: number;
    logits_std: number;
    prompt?: string;
    greedy_bytes_hex?: string;
  };
  /** model.pth, and model.safetensors where present */
  files: string[];
  logits(): Float32Array;
  state(): Float32Array;
}

/** The model fixtures in `root` (default: ../shared/fixtures/rwkv7), by name. */
export function modelFixtures(root = join(fixturesDir, 'rwkv7')): ModelFixture[] {
  if (!existsSync(root))
    throw new Error(`fixtures not found at ${root} (is ../shared beside the checkout?)`);
  return readdirSync(root)
    .sort()
    .map((name) => {
      const dir = join(root, name);
      const files = ['model.pth', 'model.safetensors'].map((f) => join(dir, f)).filter(existsSync);
      return {
        name,
        dir,
        reference: JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')),
        files,
        logits: () => readF32File(join(dir, 'logits.f32')),
        state: () => readF32File(join(dir, 'state.f32')),
      };
    });
}

export function readF32File(path: string): Float32Array {
  const b = readFileSync(path);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

export function std(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i];
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i] - m) ** 2;
  return Math.sqrt(v / a.length);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.abs(a[i] - b[i]);
    if (!(x <= d)) d = Number.isNaN(x) ? Infinity : x;
  }
  return d;
}

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

/**
 * The fixtures' greedy continuation: `n` tokens, each the argmax of the logits before it,
 * starting from `logits` (the prompt's last row) and fed back into `state`.
 */
export async function greedyTokens(
  backend: Pick<Backend, 'forward'>,
  state: RwkvState,
  logits: Float32Array,
  n: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const tok = argmax(logits);
    out.push(tok);
    logits = await backend.forward(state, [tok]);
  }
  return out;
}
