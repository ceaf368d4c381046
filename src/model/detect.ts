// Recognise which RWKV generation a checkpoint holds from its tensor names, and infer an
// RWKV-7 model's shape from tensor shapes (ranks are never assumed: they differ per model size).
import type { RwkvConfig } from './config.js';

export type RwkvGeneration = 'x070' | 'v6' | 'v5' | 'v4' | 'unknown';

/** Minimal view of a checkpoint for detection: name → shape. */
export type ShapeMap = ReadonlyMap<string, readonly number[]>;

export function detectGeneration(shapes: ShapeMap): RwkvGeneration {
  const has = (n: string) => shapes.has(n);
  if (has('blocks.0.att.w0') && has('blocks.0.att.k_k') && has('blocks.0.att.a0')) return 'x070';
  // RWKV-6 ("Finch") introduced data-dependent token shift (time_maa_*) and decay LoRA.
  if (has('blocks.0.att.time_maa_x') || has('blocks.0.att.time_decay_w1')) return 'v6';
  // RWKV-5 ("Eagle") has per-head bonus time_faaaa and a group norm ln_x, but static mixes.
  if (has('blocks.0.att.time_faaaa')) return 'v5';
  // RWKV-4 ("Raven"/"Pile") has time_first and no ln_x.
  if (has('blocks.0.att.time_first')) return 'v4';
  return 'unknown';
}

const GENERATION_NAMES: Record<Exclude<RwkvGeneration, 'x070'>, string> = {
  v6: 'RWKV-6 (Finch)',
  v5: 'RWKV-5 (Eagle)',
  v4: 'RWKV-4',
  unknown: 'not an RWKV checkpoint this project recognises',
};

/** Throws a message saying what the file is when it is not RWKV-7. */
export function requireRwkv7(file: string, shapes: ShapeMap): void {
  const gen = detectGeneration(shapes);
  if (gen === 'x070') return;
  if (gen === 'unknown') {
    const sample = [...shapes.keys()].slice(0, 5).join(', ');
    throw new Error(
      `${file}: ${GENERATION_NAMES.unknown} (no blocks.0.att.w0 / k_k / a0; first tensors: ${sample})`,
    );
  }
  throw new Error(
    `${file}: this is an ${GENERATION_NAMES[gen]} checkpoint; only RWKV-7 (x070) is supported so far`,
  );
}

function dim(file: string, shapes: ShapeMap, name: string, axis: number): number {
  const s = shapes.get(name);
  if (!s) throw new Error(`${file}: missing tensor ${name}`);
  const d = s[axis];
  if (d === undefined) throw new Error(`${file}: tensor ${name} has shape [${s}], no axis ${axis}`);
  return d;
}

/** Infer the model's shape. Validation of every tensor happens separately (validate.ts). */
export function inferConfig(file: string, shapes: ShapeMap): RwkvConfig {
  requireRwkv7(file, shapes);
  let nLayer = 0;
  while (shapes.has(`blocks.${nLayer}.ln1.weight`)) nLayer++;
  if (nLayer === 0) throw new Error(`${file}: missing tensor blocks.0.ln1.weight`);
  const nEmbd = dim(file, shapes, 'emb.weight', 1);
  const vocabSize = dim(file, shapes, 'emb.weight', 0);
  const nHead = dim(file, shapes, 'blocks.0.att.r_k', 0);
  const headSize = dim(file, shapes, 'blocks.0.att.r_k', 1);
  if (nHead * headSize !== nEmbd) {
    throw new Error(
      `${file}: blocks.0.att.r_k is [${nHead}, ${headSize}] but n_head × head_size must equal n_embd = ${nEmbd}`,
    );
  }
  // Layer 0 has no value-residual LoRA, so take its rank from layer 1 (0 for 1-layer models).
  const valueResidual = nLayer > 1 ? dim(file, shapes, 'blocks.1.att.v1', 1) : 0;
  return {
    version: 'x070',
    nLayer,
    nEmbd,
    headSize,
    nHead,
    vocabSize,
    ffnDim: dim(file, shapes, 'blocks.0.ffn.key.weight', 0),
    lora: {
      decay: dim(file, shapes, 'blocks.0.att.w1', 1),
      iclr: dim(file, shapes, 'blocks.0.att.a1', 1),
      valueResidual,
      gate: dim(file, shapes, 'blocks.0.att.g1', 1),
    },
  };
}
