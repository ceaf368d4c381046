// Tensor names and shapes of an official RWKV-7 ("x070") checkpoint, as written by RWKV-LM's
// RWKV-v7 training code. Linear layers are stored [out, in] (y = W·x); the LoRA factors
// w1/a1/v1/g1 are stored [in, rank] and w2/a2/v2/g2 [rank, out] (used as x·w1·w2).
import type { RwkvConfig } from './config.js';

export interface ExpectedTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/** Every tensor an x070 checkpoint of this shape must contain, in checkpoint order. */
export function expectedTensors(c: RwkvConfig): ExpectedTensor[] {
  const C = c.nEmbd;
  const vec = [1, 1, C];
  const out: ExpectedTensor[] = [{ name: 'emb.weight', shape: [c.vocabSize, C] }];
  for (let i = 0; i < c.nLayer; i++) {
    const p = `blocks.${i}.`;
    const add = (name: string, shape: number[]) => out.push({ name: p + name, shape });
    if (i === 0) {
      add('ln0.weight', [C]);
      add('ln0.bias', [C]);
    }
    for (const ln of ['ln1', 'ln2']) {
      add(`${ln}.weight`, [C]);
      add(`${ln}.bias`, [C]);
    }
    for (const m of ['x_r', 'x_w', 'x_k', 'x_v', 'x_a', 'x_g']) add(`att.${m}`, vec);
    add('att.w0', vec);
    add('att.r_k', [c.nHead, c.headSize]);
    add('att.w1', [C, c.lora.decay]);
    add('att.w2', [c.lora.decay, C]);
    add('att.a1', [C, c.lora.iclr]);
    add('att.a2', [c.lora.iclr, C]);
    add('att.a0', vec);
    add('att.g1', [C, c.lora.gate]);
    add('att.g2', [c.lora.gate, C]);
    // Layer 0 provides v_first itself, so it has no value-residual LoRA.
    if (i > 0) {
      add('att.v2', [c.lora.valueResidual, C]);
      add('att.v1', [C, c.lora.valueResidual]);
      add('att.v0', vec);
    }
    add('att.k_k', vec);
    add('att.k_a', vec);
    for (const lin of ['receptance', 'key', 'value', 'output']) add(`att.${lin}.weight`, [C, C]);
    add('att.ln_x.weight', [C]);
    add('att.ln_x.bias', [C]);
    add('ffn.x_k', vec);
    add('ffn.key.weight', [c.ffnDim, C]);
    add('ffn.value.weight', [C, c.ffnDim]);
  }
  out.push({ name: 'ln_out.weight', shape: [C] });
  out.push({ name: 'ln_out.bias', shape: [C] });
  out.push({ name: 'head.weight', shape: [c.vocabSize, C] });
  return out;
}
