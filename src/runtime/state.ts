// The recurrent state of one conversation. It is a single float32 buffer laid out per layer as
// [time-mix shift (C)] [wkv (H × N × N), indexed [head][value row][key column]] [channel-mix
// shift (C)] — the layout of the reference fixtures' state.f32, so it can be compared, copied,
// uploaded to a GPU and written to disk without reshuffling.
//
// A GPU backend keeps a state it advanced on the GPU and copies it back only when the CPU asks
// (`sync`): a session that decodes on the GPU moves no state over the bus per token.
import { stateFloats, stateFloatsPerLayer, type RwkvConfig } from '../model/config.js';

/** What a state belongs to: a state is only meaningful for the model that produced it. */
export interface ModelIdentity {
  readonly config: RwkvConfig;
  /** Hex digest of the weights (see model/fingerprint.ts); '' when unknown. */
  readonly fingerprint: string;
}

/**
 * Where the newest data of a state lives when a backend advanced it on a device (a GPU slot)
 * and did not copy it back: `pull` writes that data into the state's own buffer.
 */
export interface DeviceCopy {
  pull(into: Float32Array): Promise<void>;
}

/** Reading a state on the CPU while its newest data is still on a device. */
export class StateOnDeviceError extends Error {
  override name = 'StateOnDeviceError';
  constructor() {
    super(
      'this state was advanced on a device and its newest data is still there: ' +
        'await state.sync() (or state.snapshot()) before reading it on the CPU',
    );
  }
}

export class RwkvState {
  /**
   * Allocated at the first CPU access: a state that lives on a GPU from its first step on
   * never needs its 21.6 MB (2.9B model) CPU copy until it is read back.
   */
  #buffer: Float32Array<ArrayBuffer> | null;
  readonly #floats: number;
  /** Set while the newest data is on a device only (see DeviceCopy). */
  #onDevice: DeviceCopy | null = null;
  /** Bumped at every CPU access to `data`: a device copy made at another version is stale. */
  #version = 0;
  /**
   * True while the data is known to be all zeros (made without data, or reset, and neither
   * handed out for writing nor advanced on a device since): a backend then clears its copy on
   * the device instead of uploading the floats (21.6 MB for a 2.9B model).
   */
  #zero: boolean;

  constructor(
    readonly model: ModelIdentity,
    data?: Float32Array<ArrayBuffer>,
  ) {
    const n = stateFloats(model.config);
    if (data && data.length !== n) {
      throw new Error(`state has ${data.length} floats, the model needs ${n}`);
    }
    this.#floats = n;
    this.#buffer = data ?? null;
    this.#zero = data === undefined;
  }

  /**
   * The floats, for reading or writing on the CPU. Every access counts as a possible write (a
   * device copy of the state is then out of date). Throws StateOnDeviceError while the newest
   * data is on a device: `await sync()` first.
   */
  get data(): Float32Array<ArrayBuffer> {
    if (this.#onDevice) throw new StateOnDeviceError();
    this.#version++;
    this.#zero = false;
    return this.#data();
  }

  /**
   * The floats for reading only: unlike `data`, this does not count as a write, so a device
   * copy stays current. Writing through it is a bug. Throws like `data`.
   */
  peek(): Float32Array<ArrayBuffer> {
    if (this.#onDevice) throw new StateOnDeviceError();
    return this.#data();
  }

  #data(): Float32Array<ArrayBuffer> {
    return (this.#buffer ??= new Float32Array(this.#floats));
  }

  /** Changes at every CPU access to `data` (backends compare it with their device copy). */
  get version(): number {
    return this.#version;
  }

  /** True while the data is known to be all zeros (a new or reset state nothing has touched). */
  get isZero(): boolean {
    return this.#zero;
  }

  /** True while the newest data is on a device (reading `data` would throw). */
  get onDevice(): boolean {
    return this.#onDevice !== null;
  }

  /** Brings the newest data back from the device, if it is there; a no-op otherwise. */
  async sync(): Promise<void> {
    const copy = this.#onDevice;
    if (copy) await this.settleWith((into) => copy.pull(into));
  }

  /** An independent CPU copy of the newest data. */
  async snapshot(): Promise<RwkvState> {
    await this.sync();
    return this.clone();
  }

  /**
   * For backends: the newest data now lives on a device; `copy` fetches it. Leaves the version
   * alone (the CPU did not touch the data).
   */
  markOnDevice(copy: DeviceCopy): void {
    this.#onDevice = copy;
    this.#zero = false;
  }

  /**
   * For backends: if the newest data is on a device, `fill` writes it into the state's buffer
   * (e.g. before the device copy is dropped); afterwards the CPU copy is the newest.
   */
  async settleWith(fill: (into: Float32Array) => Promise<void>): Promise<void> {
    const copy = this.#onDevice;
    if (!copy) return;
    this.#zero = false;
    await fill(this.#data());
    if (this.#onDevice === copy) this.#onDevice = null;
  }

  get config(): RwkvConfig {
    return this.model.config;
  }

  /** Bytes this state occupies (what each session costs). */
  get byteLength(): number {
    return this.#floats * 4;
  }

  /** A CPU copy; throws StateOnDeviceError while the newest data is on a device (see snapshot). */
  clone(): RwkvState {
    return new RwkvState(this.model, this.peek().slice());
  }

  /** Overwrite with another state's data (which must be on the CPU: see sync). */
  copyFrom(other: RwkvState): void {
    assertSameShape(this.config, other.config);
    const src = other.peek();
    this.#onDevice = null; // everything is overwritten: a device copy no longer matters
    this.data.set(src);
  }

  reset(): void {
    this.#onDevice = null;
    // A state whose CPU buffer was never made (it lived on a device) stays without one: the
    // buffer is made zero-filled at its first CPU access. A device copy is stale either way.
    this.#buffer?.fill(0);
    this.#version++;
    this.#zero = true;
  }

  /** Views into one layer's parts (no copies). */
  layer(i: number): { attShift: Float32Array; wkv: Float32Array; ffnShift: Float32Array } {
    const c = this.config;
    const per = stateFloatsPerLayer(c);
    const base = i * per;
    const wkvLen = c.nHead * c.headSize * c.headSize;
    const data = this.data;
    return {
      attShift: data.subarray(base, base + c.nEmbd),
      wkv: data.subarray(base + c.nEmbd, base + c.nEmbd + wkvLen),
      ffnShift: data.subarray(base + c.nEmbd + wkvLen, base + per),
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
