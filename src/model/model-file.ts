// Open a checkpoint as an RWKV-7 model: detect the generation, infer the shape, validate every
// tensor, and compute the identity that saved states are tied to.
import type { Checkpoint, TensorEntry } from '../io/tensor.js';
import type { RwkvConfig } from './config.js';
import { inferConfig } from './detect.js';
import { validateTensors } from './validate.js';
import type { ModelIdentity } from '../runtime/state.js';

export interface ModelFile {
  readonly checkpoint: Checkpoint;
  readonly config: RwkvConfig;
  readonly identity: ModelIdentity;
  tensor(name: string): TensorEntry;
}

/** Tensors hashed into the fingerprint: small, and different in every trained model. */
const FINGERPRINT_TENSORS = [
  'ln_out.weight',
  'ln_out.bias',
  'blocks.0.att.r_k',
  'blocks.0.ln0.weight',
];

export async function describeModel(checkpoint: Checkpoint): Promise<ModelFile> {
  const file = checkpoint.path;
  const shapes = new Map([...checkpoint.tensors].map(([n, t]) => [n, t.shape] as const));
  const config = inferConfig(file, shapes);
  validateTensors(file, config, shapes);
  const tensor = (name: string): TensorEntry => {
    const t = checkpoint.tensors.get(name);
    if (!t) throw new Error(`${file}: missing tensor ${name}`);
    return t;
  };
  // SHA-256 over the config JSON, then each tensor's dtype name and bytes, all concatenated.
  // WebCrypto, so Node and browsers compute the same identity.
  const text = new TextEncoder();
  const parts: Uint8Array[] = [text.encode(JSON.stringify(config))];
  for (const name of FINGERPRINT_TENSORS) {
    const t = tensor(name);
    parts.push(text.encode(t.dtype), await t.readBytes());
  }
  const message = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (message.set(p, at), at + p.length), 0);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', message));
  const hex = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
  const identity: ModelIdentity = { config, fingerprint: hex.slice(0, 32) };
  return { checkpoint, config, identity, tensor };
}

/** Parameter count (all tensors). */
export function parameterCount(checkpoint: Checkpoint): number {
  let n = 0;
  for (const t of checkpoint.tensors.values()) n += t.numel;
  return n;
}
