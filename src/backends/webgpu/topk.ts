// Top-k selection on the GPU: sampling reads k (token, logit) pairs per row instead of a whole
// vocabulary row, and greedy decoding can feed its pick straight into the next step's input.
// k = 1 (greedy) runs the two-pass argmax (kernels/argmax.wgsl, the whole GPU on a row);
// larger k the one-workgroup-per-row selection (kernels/topk.wgsl). Both rank ties by the
// lower token id, as the CPU sampler does.
import type { GpuContext } from './device.js';
import type { Pipelines } from './pipelines.js';

/** Logits one argmax workgroup covers (4 loads per invocation of 256). */
const ARGMAX_CHUNK = 1024;

export class TopK {
  /** k entries of [token, f32 bits] per row, after `encode`. */
  picksBuffer: GPUBuffer | null = null;
  private partials: GPUBuffer | null = null;
  private topkGroup: GPUBindGroup | null = null;
  private argmaxGroup: GPUBindGroup | null = null;
  private readonly params: GPUBuffer;
  private readonly argmaxParams: GPUBuffer;
  /** k last written to `params` (0: never); skips a queue write per decoding step. */
  private paramsK = 0;
  private readonly chunks: number;

  constructor(
    private readonly ctx: GpuContext,
    private readonly vocabSize: number,
    private readonly pipelines: Pipelines,
    private readonly logits: GPUBuffer,
    private readonly rows: GPUBuffer,
  ) {
    const device = ctx.device;
    const uniform = (label: string) =>
      device.createBuffer({
        label,
        size: 16,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
    this.params = uniform('rwkv top-k params');
    this.argmaxParams = uniform('rwkv argmax params');
    this.chunks = Math.ceil(vocabSize / ARGMAX_CHUNK);
    device.queue.writeBuffer(
      this.argmaxParams,
      0,
      Uint32Array.from([vocabSize, ARGMAX_CHUNK, this.chunks, 0]),
    );
  }

  /** Grows the picks (and argmax partials) buffers to hold `logitRows` rows of k entries. */
  private reserve(logitRows: number, k: number): void {
    const device = this.ctx.device;
    const bytes = logitRows * k * 8;
    if (!this.picksBuffer || this.picksBuffer.size < bytes) {
      this.picksBuffer?.destroy();
      this.picksBuffer = device.createBuffer({
        label: 'rwkv top-k',
        size: Math.max(bytes, 256),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      });
      this.topkGroup = null;
      this.argmaxGroup = null;
    }
    const partialBytes = logitRows * this.chunks * 8;
    if (k === 1 && (!this.partials || this.partials.size < partialBytes)) {
      this.partials?.destroy();
      this.partials = device.createBuffer({
        label: 'rwkv argmax partials',
        size: Math.max(partialBytes, 256),
        usage: GPUBufferUsage.STORAGE,
      });
      this.argmaxGroup = null;
    }
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
    if (!Number.isInteger(k) || k < 1 || k > this.vocabSize) {
      throw new Error(`top-k needs a whole k in 1..${this.vocabSize}, got ${k}`);
    }
    this.reserve(logitRows, k);
    if (k === 1) return this.encodeArgmax(enc, logitRows, feedback);
    const device = this.ctx.device;
    this.topkGroup ??= device.createBindGroup({
      layout: this.pipelines.layouts.topk,
      entries: [this.logits, this.picksBuffer!, this.rows, this.params].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
    if (this.paramsK !== k) {
      device.queue.writeBuffer(this.params, 0, Uint32Array.from([this.vocabSize, k, 0, 0]));
      this.paramsK = k;
    }
    const pipeline = await this.pipelines.get('topk', 'topk', { FEEDBACK: feedback });
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.topkGroup);
    pass.dispatchWorkgroups(logitRows);
    pass.end();
  }

  private async encodeArgmax(
    enc: GPUCommandEncoder,
    logitRows: number,
    feedback: boolean,
  ): Promise<void> {
    this.argmaxGroup ??= this.ctx.device.createBindGroup({
      layout: this.pipelines.layouts.argmax,
      entries: [this.logits, this.partials!, this.picksBuffer!, this.rows, this.argmaxParams].map(
        (buffer, binding) => ({ binding, resource: { buffer } }),
      ),
    });
    const chunked = await this.pipelines.get('argmax', 'argmax', {
      FINAL: false,
      FEEDBACK: false,
    });
    const final = await this.pipelines.get('argmax', 'argmax', { FINAL: true, FEEDBACK: feedback });
    const pass = enc.beginComputePass();
    pass.setBindGroup(0, this.argmaxGroup);
    pass.setPipeline(chunked);
    pass.dispatchWorkgroups(this.chunks, logitRows);
    pass.setPipeline(final);
    pass.dispatchWorkgroups(logitRows);
    pass.end();
  }

  destroy(): void {
    this.picksBuffer?.destroy();
    this.partials?.destroy();
    this.params.destroy();
    this.argmaxParams.destroy();
  }
}
