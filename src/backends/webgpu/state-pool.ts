// Recurrent states kept on the GPU in f32, one slot per session. Each layer has its own buffer
// [capacity][2C + H·N·N] (a slot's part of it has the layout of RwkvState's layer block), so a
// layer's kernels bind one buffer and a pool of many sessions never needs one huge binding.
// A session's state can be written or read back alone without touching the other slots.
import { stateFloatsPerLayer, type RwkvConfig } from '../../model/config.js';
import type { GpuContext } from './device.js';

export class StatePool {
  buffers: GPUBuffer[] = [];
  capacity = 0;
  /** Bumped whenever `buffers` are replaced (bind groups must be rebuilt). */
  generation = 0;
  readonly perLayer: number;
  private readonly free: number[] = [];
  private used = new Set<number>();

  constructor(
    private readonly ctx: GpuContext,
    private readonly config: RwkvConfig,
    initialCapacity: number,
  ) {
    this.perLayer = stateFloatsPerLayer(config);
    const maxSlots = Math.floor(ctx.caps.maxBinding / (this.perLayer * 4));
    if (maxSlots < 1)
      throw new Error('WebGPU: one layer of state exceeds the storage binding limit');
    this.maxCapacity = maxSlots;
    this.resize(Math.min(Math.max(1, initialCapacity), maxSlots));
  }

  /** Most sessions one pool can hold (one layer's slots must fit one binding). */
  readonly maxCapacity: number;

  /** GPU bytes per session (the fixed per-session cost of the pool). */
  get bytesPerSlot(): number {
    return this.perLayer * 4 * this.config.nLayer;
  }

  get bytes(): number {
    return this.bytesPerSlot * this.capacity;
  }

  get slotsInUse(): number {
    return this.used.size;
  }

  /** A zeroed slot; grows the pool (doubling) when full. */
  alloc(): number {
    if (this.free.length === 0) {
      if (this.capacity >= this.maxCapacity) {
        throw new Error(`WebGPU state pool is full (${this.capacity} sessions fit one binding)`);
      }
      this.resize(Math.min(this.maxCapacity, this.capacity * 2));
    }
    const slot = this.free.pop()!;
    this.used.add(slot);
    this.zero(slot);
    return slot;
  }

  release(slot: number): void {
    if (!this.used.delete(slot)) throw new Error(`state slot ${slot} is not in use`);
    this.free.push(slot);
  }

  private check(slot: number): void {
    if (!this.used.has(slot)) throw new Error(`state slot ${slot} is not in use`);
  }

  /**
   * Clears a slot on the GPU (queue-ordered like write). Uploading zeros from the CPU instead
   * cost ~10 ms per 0.1B session on the H100's host (2.4 MB through writeBuffer), ~90 ms for a
   * 2.9B one: a server creating a state per request stalled on it.
   */
  zero(slot: number): void {
    this.check(slot);
    const bytes = this.perLayer * 4;
    const enc = this.ctx.device.createCommandEncoder({ label: 'rwkv state clear' });
    for (const b of this.buffers) enc.clearBuffer(b, slot * bytes, bytes);
    this.ctx.device.queue.submit([enc.finish()]);
  }

  /** Upload a whole state (RwkvState.data layout) into a slot. */
  write(slot: number, data: Float32Array): void {
    this.check(slot);
    const n = this.perLayer;
    if (data.length !== n * this.config.nLayer) {
      throw new Error(`state has ${data.length} floats, the model needs ${n * this.config.nLayer}`);
    }
    this.buffers.forEach((b, l) => {
      this.ctx.device.queue.writeBuffer(
        b,
        slot * n * 4,
        data as Float32Array<ArrayBuffer>,
        l * n,
        n,
      );
    });
  }

  /** Record copies of a slot into `dst` at `dstOffset` (bytes), layer blocks in state order. */
  encodeRead(enc: GPUCommandEncoder, slot: number, dst: GPUBuffer, dstOffset: number): void {
    this.check(slot);
    const bytes = this.perLayer * 4;
    this.buffers.forEach((b, l) => {
      enc.copyBufferToBuffer(b, slot * bytes, dst, dstOffset + l * bytes, bytes);
    });
  }

  /**
   * Record a slot-to-slot copy (fork) through `via`, a COPY_SRC|COPY_DST buffer of at least
   * one layer block (WebGPU forbids copies within one buffer).
   */
  encodeCopy(enc: GPUCommandEncoder, from: number, to: number, via: GPUBuffer): void {
    this.check(from);
    this.check(to);
    const bytes = this.perLayer * 4;
    for (const b of this.buffers) {
      enc.copyBufferToBuffer(b, from * bytes, via, 0, bytes);
      enc.copyBufferToBuffer(via, 0, b, to * bytes, bytes);
    }
  }

  private resize(capacity: number): void {
    const device = this.ctx.device;
    const bytes = this.perLayer * 4;
    const next = Array.from({ length: this.config.nLayer }, (_, l) =>
      device.createBuffer({
        label: `rwkv state pool layer ${l}`,
        size: capacity * bytes,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      }),
    );
    if (this.buffers.length > 0) {
      const enc = device.createCommandEncoder();
      this.buffers.forEach((b, l) =>
        enc.copyBufferToBuffer(b, 0, next[l], 0, this.capacity * bytes),
      );
      device.queue.submit([enc.finish()]);
      this.buffers.forEach((b) => b.destroy());
    }
    for (let s = capacity - 1; s >= this.capacity; s--) this.free.push(s);
    this.buffers = next;
    this.capacity = capacity;
    this.generation++;
  }

  destroy(): void {
    this.buffers.forEach((b) => b.destroy());
    this.buffers = [];
    this.capacity = 0;
  }
}
