// Copies GPU buffers back to the CPU through one reusable mappable staging buffer.
import type { GpuContext } from './device.js';

export class Readback {
  private staging: GPUBuffer | null = null;

  constructor(private readonly ctx: GpuContext) {}

  /**
   * Finishes `enc` after `record` has added copies into the staging buffer (at most `bytes`),
   * submits, waits, and returns a copy of those bytes.
   */
  async submitAndRead(
    enc: GPUCommandEncoder,
    bytes: number,
    record: (enc: GPUCommandEncoder, staging: GPUBuffer) => void,
  ): Promise<ArrayBuffer> {
    const device = this.ctx.device;
    if (bytes === 0) {
      device.queue.submit([enc.finish()]);
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
    device.queue.submit([enc.finish()]);
    await this.ctx.wait(staging.mapAsync(GPUMapMode.READ, 0, size));
    const out = staging.getMappedRange(0, size).slice(0, bytes);
    staging.unmap();
    this.ctx.throwIfFailed();
    return out;
  }

  destroy(): void {
    this.staging?.destroy();
    this.staging = null;
  }
}
