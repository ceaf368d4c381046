// Shape of an RWKV-7 ("x070") model, inferred from checkpoint tensor shapes (see detect.ts).

export interface LoraRanks {
  /** decay LoRA (att.w1/w2) */
  decay: number;
  /** in-context learning rate LoRA (att.a1/a2) */
  iclr: number;
  /** value-residual LoRA (att.v1/v2), absent in layer 0 */
  valueResidual: number;
  /** output gate LoRA (att.g1/g2) */
  gate: number;
}

export interface RwkvConfig {
  readonly version: 'x070';
  readonly nLayer: number;
  readonly nEmbd: number;
  readonly headSize: number;
  readonly nHead: number;
  readonly vocabSize: number;
  /** Hidden size of the channel mix (ffn.key rows), usually 4 × nEmbd. */
  readonly ffnDim: number;
  readonly lora: LoraRanks;
}

/** Floats in one state: per layer time-mix shift [C], wkv [H][N][N], channel-mix shift [C]. */
export function stateFloatsPerLayer(c: RwkvConfig): number {
  return 2 * c.nEmbd + c.nHead * c.headSize * c.headSize;
}

export function stateFloats(c: RwkvConfig): number {
  return c.nLayer * stateFloatsPerLayer(c);
}
