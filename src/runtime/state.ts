// The recurrent state of one conversation. It is a single float32 buffer laid out per layer as
// [time-mix shift (C)] [wkv (H × N × N), indexed [head][value row][key column]] [channel-mix
// shift (C)] — the layout of the reference fixtures' state.f32, so it can be compared, copied,
// uploaded to a GPU and written to disk without reshuffling.
import { stateFloats, stateFloatsPerLayer, type RwkvConfig } from '../model/config.js';

/** What a state belongs to: a state is only meaningful for the model that produced it. */
export interface ModelIdentity {
  readonly config: RwkvConfig;
  /** Hex digest of the weights (see model/fingerprint.ts); '' when unknown. */
  readonly fingerprint: string;
}

export class RwkvState {
  readonly data: Float32Array<ArrayBuffer>;

  constructor(
    readonly model: ModelIdentity,
    data?: Float32Array<ArrayBuffer>,
  ) {
    const n = stateFloats(model.config);
    if (data && data.length !== n) {
      throw new Error(`state has ${data.length} floats, the model needs ${n}`);
    }
    this.data = data ?? new Float32Array(n);
  }

  get config(): RwkvConfig {
    return this.model.config;
  }

  /** Bytes this state occupies (what each session costs). */
  get byteLength(): number {
    return this.data.byteLength;
  }

  clone(): RwkvState {
    return new RwkvState(this.model, this.data.slice());
  }

  copyFrom(other: RwkvState): void {
    assertSameShape(this.config, other.config);
    this.data.set(other.data);
  }

  reset(): void {
    this.data.fill(0);
  }

  /** Views into one layer's parts (no copies). */
  layer(i: number): { attShift: Float32Array; wkv: Float32Array; ffnShift: Float32Array } {
    const c = this.config;
    const per = stateFloatsPerLayer(c);
    const base = i * per;
    const wkvLen = c.nHead * c.headSize * c.headSize;
    return {
      attShift: this.data.subarray(base, base + c.nEmbd),
      wkv: this.data.subarray(base + c.nEmbd, base + c.nEmbd + wkvLen),
      ffnShift: this.data.subarray(base + c.nEmbd + wkvLen, base + per),
    };
  }
}

export function describeShape(c: RwkvConfig): string {
  return `RWKV ${c.version} L${c.nLayer} C${c.nEmbd} H${c.nHead}×${c.headSize} V${c.vocabSize}`;
}

export function assertSameShape(a: RwkvConfig, b: RwkvConfig): void {
  if (
    a.nLayer !== b.nLayer ||
    a.nEmbd !== b.nEmbd ||
    a.nHead !== b.nHead ||
    a.headSize !== b.headSize ||
    a.vocabSize !== b.vocabSize
  ) {
    throw new Error(
      `state is for a model of shape ${describeShape(b)}, but this model is ${describeShape(a)}`,
    );
  }
}
