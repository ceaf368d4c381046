// Copies GPU buffers back to the CPU through one reusable mappable staging buffer.
import type { GpuContext } from './device.js';

export class Readback {
  private staging: GPUBuffer | null = null;

  constructor(private readonly ctx: GpuContext) {}

  /**
   * Finishes `enc` after `record` has added copies into the staging buffer (at most `bytes`),
   * submits it (after `opts.before`, command buffers recorded earlier), waits, and returns a
   * copy of those bytes. `opts.whileWaiting` runs between the submit and the wait: CPU work
   * that overlaps the GPU's (step-ahead.ts); an error from it is thrown after the read.
   */
  async submitAndRead(
    enc: GPUCommandEncoder,
    bytes: number,
    record: (enc: GPUCommandEncoder, staging: GPUBuffer) => void,
    opts: { before?: GPUCommandBuffer[]; whileWaiting?: () => Promise<void> } = {},
  ): Promise<ArrayBuffer> {
    const device = this.ctx.device;
    const before = opts.before ?? [];
    if (bytes === 0) {
      device.queue.submit([...before, enc.finish()]);
      await opts.whileWaiting?.();
      return new ArrayBuffer(0);
    }
    const size = Math.ceil(bytes / 4) * 4;
    if (!this.staging || this.staging.size < size) {
      this.staging?.destroy();
      this.staging = device.createBuffer({
        label: 'rwkv readback',
        size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
    const staging = this.staging;
    record(enc, staging);
    device.queue.submit([...before, enc.finish()]);
    const mapped = this.ctx.wait(staging.mapAsync(GPUMapMode.READ, 0, size));
    let overlapFailure: { error: unknown } | null = null;
    try {
      await opts.whileWaiting?.();
    } catch (error) {
      overlapFailure = { error };
    }
    await mapped;
    const out = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    this.ctx.throwIfFailed();
    if (overlapFailure) throw overlapFailure.error;
    return out;
  }

  destroy(): void {
    this.staging?.destroy();
    this.staging = null;
  }
}

/**
 * Records copies of rows `rows` of `src` (logits rows) into `dst` from byte `at` on, in order —
 * e.g. into submitAndRead's staging buffer. Adjacent rows go in one copy.
 */
export function copyRows(
  e: GPUCommandEncoder,
  src: GPUBuffer,
  rows: readonly number[],
  rowBytes: number,
  dst: GPUBuffer,
  at: number,
): void {
  for (let i = 0; i < rows.length;) {
    let n = 1;
    while (i + n < rows.length && rows[i + n] === rows[i] + n) n++;
    e.copyBufferToBuffer(src, rows[i] * rowBytes, dst, at + i * rowBytes, n * rowBytes);
    i += n;
  }
}
