// Top-k selection on the GPU (kernels/topk.wgsl): sampling reads k (token, logit) pairs per row
// instead of a whole vocabulary row, and greedy decoding can feed its pick straight into the
// next step's input.
import type { GpuContext } from './device.js';
import type { Pipelines } from './pipelines.js';

export class TopK {
  /** k entries of [token, f32 bits] per row, after `encode`. */
  picksBuffer: GPUBuffer | null = null;
  private bindGroup: GPUBindGroup | null = null;
  private readonly params: GPUBuffer;

  constructor(
    private readonly ctx: GpuContext,
    private readonly vocabSize: number,
    private readonly pipelines: Pipelines,
    private readonly logits: GPUBuffer,
    private readonly rows: GPUBuffer,
  ) {
    this.params = ctx.device.createBuffer({
      label: 'rwkv top-k params',
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  /**
   * Records selection over the first `logitRows` rows of the logits buffer. With `feedback`,
   * each row's best token becomes that row's input of the next step (rows and logit rows must
   * coincide, as in decoding).
   */
  async encode(
    enc: GPUCommandEncoder,
    logitRows: number,
    k: number,
    feedback: boolean,
  ): Promise<void> {
    const device = this.ctx.device;
    if (!Number.isInteger(k) || k < 1 || k > this.vocabSize) {
      throw new Error(`top-k needs a whole k in 1..${this.vocabSize}, got ${k}`);
    }
    const bytes = logitRows * k * 8;
    if (!this.picksBuffer || this.picksBuffer.size < bytes) {
      this.picksBuffer?.destroy();
      this.picksBuffer = device.createBuffer({
        label: 'rwkv top-k',
        size: Math.max(bytes, 256),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      });
      this.bindGroup = null;
    }
    this.bindGroup ??= device.createBindGroup({
      layout: this.pipelines.layouts.topk,
      entries: [this.logits, this.picksBuffer, this.rows, this.params].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
    device.queue.writeBuffer(this.params, 0, Uint32Array.from([this.vocabSize, k, 0, 0]));
    const pipeline = await this.pipelines.get('topk', 'topk', { FEEDBACK: feedback });
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.bindGroup);
    pass.dispatchWorkgroups(logitRows);
    pass.end();
  }

  destroy(): void {
    this.picksBuffer?.destroy();
    this.params.destroy();
  }
}
