// Uploads large amounts of data (a model's weights) through two reused, mapped staging buffers:
// the CPU fills one (TypedArray.set into the mapping: the bytes are copied once) while the GPU
// copies out of the other. `queue.writeBuffer` spent ~1.1 s per GB of weights on the H100's
// host and Dawn held each write's staging copy until the copy had run, so a 2.9B model sat in
// host memory twice; through this the load went 6.9–8.1 → 2.6–3.3 s, peak RSS 1.4 GB
// (bench/RESULTS.md, ninth session).
import type { GpuContext } from './device.js';

/** Bytes per staging buffer. */
export const STAGING_BYTES = 64 * 2 ** 20;

interface PendingCopy {
  dst: GPUBuffer;
  dstOffset: number;
  srcOffset: number;
  size: number;
}

export class StagedUpload {
  private readonly buffers: GPUBuffer[];
  /** Per buffer: resolves when it is mapped again after its last copy. */
  private readonly mapped: Promise<void>[];
  private current = 0;
  private range: Uint8Array;
  private used = 0;
  private pending: PendingCopy[] = [];

  constructor(
    private readonly ctx: GpuContext,
    private readonly size = STAGING_BYTES,
  ) {
    const device = ctx.device;
    this.buffers = [0, 1].map((i) =>
      device.createBuffer({
        label: `rwkv upload staging ${i}`,
        size,
        usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC,
        mappedAtCreation: true,
      }),
    );
    this.mapped = this.buffers.map(() => Promise.resolve());
    this.range = new Uint8Array(this.buffers[0].getMappedRange());
  }

  /** Queues `data` (a multiple of 4 bytes) for `dst` at byte `dstOffset` (a multiple of 4). */
  async write(dst: GPUBuffer, dstOffset: number, data: ArrayBufferView): Promise<void> {
    if (data.byteLength % 4 !== 0 || dstOffset % 4 !== 0) {
      throw new Error(`staged upload of ${data.byteLength} bytes at ${dstOffset}: not 4-aligned`);
    }
    let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let at = dstOffset;
    while (bytes.length > 0) {
      if (this.used === this.size) await this.flush();
      const n = Math.min(this.size - this.used, bytes.length);
      this.range.set(bytes.subarray(0, n), this.used);
      this.pending.push({ dst, dstOffset: at, srcOffset: this.used, size: n });
      this.used += n;
      at += n;
      bytes = bytes.subarray(n);
    }
  }

  /** Submits the copies out of the current buffer and switches to the other one. */
  private async flush(): Promise<void> {
    if (this.used === 0) return;
    const device = this.ctx.device;
    const buf = this.buffers[this.current];
    buf.unmap();
    const enc = device.createCommandEncoder();
    for (const p of this.pending)
      enc.copyBufferToBuffer(buf, p.srcOffset, p.dst, p.dstOffset, p.size);
    device.queue.submit([enc.finish()]);
    // Mapping waits for the copies above: the buffer is free to fill again once it resolves.
    const mapped = this.ctx.wait(buf.mapAsync(GPUMapMode.WRITE));
    // Marked handled now: if the upload stops (a bad tensor further on) and `destroy` aborts
    // this mapping, its rejection must not surface as an unhandled one. Awaiting it still throws.
    mapped.catch(() => {});
    this.mapped[this.current] = mapped;
    this.pending = [];
    this.used = 0;
    this.current ^= 1;
    await this.mapped[this.current];
    this.range = new Uint8Array(this.buffers[this.current].getMappedRange());
  }

  /** Submits what is left, waits for every copy, and frees the staging buffers. */
  async finish(): Promise<void> {
    await this.flush();
    await Promise.all(this.mapped);
    this.destroy();
  }

  /** Frees the staging buffers (also after a failure; queued copies are dropped). */
  destroy(): void {
    for (const b of this.buffers) b.destroy();
  }
}
