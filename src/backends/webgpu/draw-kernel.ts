// Host side of kernels/draw.wgsl: writes the rows' draw plans, records the draw over the first
// rows of the logits buffer, and decodes what it wrote (backends/device-draw.ts certifies it).
import {
  DRAW_RESULT_WORDS,
  readDrawResult,
  type DrawPlan,
  type DrawResult,
} from '../device-draw.js';
import type { GpuContext } from './device.js';
import type { Pipelines } from './pipelines.js';

const WG = 256;
const NONE = 0xffffffff;

export class DrawKernel {
  private plans: GPUBuffer | null = null;
  private results: GPUBuffer | null = null;
  private group: GPUBindGroup | null = null;
  private readonly params: GPUBuffer;

  constructor(
    private readonly ctx: GpuContext,
    private readonly vocabSize: number,
    private readonly pipelines: Pipelines,
    private readonly logits: GPUBuffer,
  ) {
    this.params = ctx.device.createBuffer({
      label: 'rwkv draw params',
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    ctx.device.queue.writeBuffer(
      this.params,
      0,
      Uint32Array.from([vocabSize, Math.ceil(vocabSize / WG), 0, 0]),
    );
  }

  /** Bytes of results per row (what `encode` leaves in `resultsBuffer`). */
  static readonly rowBytes = DRAW_RESULT_WORDS * 4;

  get resultsBuffer(): GPUBuffer {
    if (!this.results) throw new Error('DrawKernel: encode before reading results');
    return this.results;
  }

  /**
   * Writes the plans (null: row skipped) and records one workgroup per logits row. The plans
   * are written through the queue, so they take effect with the next submit.
   */
  async encode(enc: GPUCommandEncoder, plans: readonly (DrawPlan | null)[]): Promise<void> {
    const rows = plans.length;
    const changes = plans.reduce((n, p) => n + (p?.ids.length ?? 0), 0);
    const words = new Uint32Array((rows + changes) * 4);
    const f = new Float32Array(words.buffer);
    let next = rows;
    plans.forEach((p, r) => {
      if (!p) {
        words[r * 4] = NONE;
        return;
      }
      words.set([next, p.ids.length], r * 4);
      f[r * 4 + 2] = p.invT;
      f[r * 4 + 3] = p.u;
      for (let j = 0; j < p.ids.length; j++, next++) {
        const banned = p.deltas[j] === -Infinity;
        words[next * 4] = p.ids[j];
        f[next * 4 + 1] = banned ? 0 : p.deltas[j];
        words[next * 4 + 2] = banned ? 1 : 0;
      }
    });
    this.reserve(words.byteLength, rows * DrawKernel.rowBytes);
    this.ctx.device.queue.writeBuffer(this.plans!, 0, words);
    const pipeline = await this.pipelines.get('draw', 'draw');
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.group!);
    pass.dispatchWorkgroups(rows);
    pass.end();
  }

  /** Decodes the results of `rows` rows (bytes copied from `resultsBuffer`). */
  static read(data: ArrayBuffer, rows: number): DrawResult[] {
    const words = new Uint32Array(data, 0, rows * DRAW_RESULT_WORDS);
    return Array.from({ length: rows }, (_, r) => readDrawResult(words, r));
  }

  private reserve(planBytes: number, resultBytes: number): void {
    const device = this.ctx.device;
    const grow = (buf: GPUBuffer | null, bytes: number, label: string, usage: number) => {
      if (buf && buf.size >= bytes) return buf;
      buf?.destroy();
      this.group = null;
      // Doubling: a batch's plans grow by a few entries per step.
      const size = Math.max(256, 2 ** Math.ceil(Math.log2(bytes)));
      return device.createBuffer({ label, size, usage });
    };
    const storage = GPUBufferUsage.STORAGE;
    this.plans = grow(this.plans, planBytes, 'rwkv draw plans', storage | GPUBufferUsage.COPY_DST);
    this.results = grow(
      this.results,
      resultBytes,
      'rwkv draw results',
      storage | GPUBufferUsage.COPY_SRC,
    );
    this.group ??= device.createBindGroup({
      layout: this.pipelines.layouts.draw,
      entries: [this.logits, this.plans, this.results, this.params].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
  }

  destroy(): void {
    this.plans?.destroy();
    this.results?.destroy();
    this.params.destroy();
  }
}
