// Host side of kernels/draw.wgsl: writes the rows' draw plans, records the draw over the first
// rows of the logits buffer, and decodes what it wrote (backends/device-draw.ts certifies it).
import {
  certifyDraw,
  DRAW_RESULT_WORDS,
  readDrawResult,
  type CandidateRow,
  type DrawPlan,
  type DrawResult,
} from '../device-draw.js';
import type { GpuContext } from './device.js';
import type { Pipelines } from './pipelines.js';

const WG = 256;
const NONE = 0xffffffff;

/** The low half of a float64 as f32: x − f32(x), rounded (x = hi + lo to ~2⁻⁴⁸ relative). */
export const lowHalf = (x: number): number => Math.fround(x - Math.fround(x));

/**
 * 2^(j/64), j = 0..63, as (f32 hi, f32 lo) bit pairs for kernels/draw-weight.wgsl: float64
 * Math.pow (within 2⁻⁵² here) split in two, so hi + lo is within 2⁻⁴⁸ of it.
 */
export function exp2Table(): string {
  const words = new Uint32Array(128);
  const f = new Float32Array(words.buffer);
  for (let j = 0; j < 64; j++) {
    const v = Math.pow(2, j / 64);
    f[2 * j] = v;
    f[2 * j + 1] = lowHalf(v);
  }
  return Array.from(words, (w) => `0x${w.toString(16)}u`).join(', ');
}
const EXP2_TABLE = exp2Table();

/** Candidate entries listed per row for plans that truncate (top-k / top-p / min-p). */
export const DRAW_CANDIDATES = 256;

/** Where a dispatch's results lie in the results buffer (u32 words). */
export interface DrawLayout {
  rows: number;
  /** Words of the whole result: rows' records, candidate lists, gathered raw logits. */
  words: number;
  /** First gathered raw logit of each row (plan order of its changed tokens). */
  gatheredAt: number[];
}

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
      size: 32,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
  }

  get resultsBuffer(): GPUBuffer {
    if (!this.results) throw new Error('DrawKernel: encode before reading results');
    return this.results;
  }

  /**
   * Writes the plans (null: row skipped) and records one workgroup per logits row; returns
   * where the results will lie. The plans go through the queue: they apply from the next submit.
   */
  async encode(enc: GPUCommandEncoder, plans: readonly (DrawPlan | null)[]): Promise<DrawLayout> {
    const rows = plans.length;
    const changes = plans.reduce((n, p) => n + (p?.ids.length ?? 0), 0);
    const words = new Uint32Array((2 * rows + changes) * 4);
    const f = new Float32Array(words.buffer);
    const resultWords = rows * (DRAW_RESULT_WORDS + 2 * DRAW_CANDIDATES);
    const gatheredAt: number[] = [];
    let next = 2 * rows;
    plans.forEach((p, r) => {
      const h = 8 * r;
      gatheredAt.push(resultWords + next - 2 * rows);
      if (!p) {
        words[h] = NONE;
        return;
      }
      words.set([next, p.ids.length], h);
      f[h + 2] = p.invT;
      f[h + 3] = p.u;
      words[h + 4] = p.fromCandidates ? 1 : 0;
      f[h + 5] = lowHalf(p.invT);
      for (let j = 0; j < p.ids.length; j++, next++) {
        const banned = p.deltas[j] === -Infinity;
        words[next * 4] = p.ids[j];
        f[next * 4 + 1] = banned ? 0 : p.deltas[j];
        words[next * 4 + 2] = banned ? 1 : 0;
        f[next * 4 + 3] = banned ? 0 : lowHalf(p.deltas[j]);
      }
    });
    this.reserve(words.byteLength, (resultWords + changes) * 4);
    const queue = this.ctx.device.queue;
    queue.writeBuffer(this.plans!, 0, words);
    queue.writeBuffer(
      this.params,
      0,
      // vocab, chunk, rows, cands, zero (draw-weight.wgsl's opaque 0), padding
      Uint32Array.from([
        this.vocabSize,
        Math.ceil(this.vocabSize / WG),
        rows,
        DRAW_CANDIDATES,
        0,
        0,
        0,
        0,
      ]),
    );
    const pipeline = await this.pipelines.get('draw', 'draw', { EXP2_TABLE });
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.group!);
    pass.dispatchWorkgroups(rows);
    pass.end();
    return { rows, words: resultWords + changes, gatheredAt };
  }

  /** Row `r`'s record (bytes copied from `resultsBuffer`, `layout.words` words of them). */
  static result(data: ArrayBuffer, r: number): DrawResult {
    return readDrawResult(new Uint32Array(data, 0, (r + 1) * DRAW_RESULT_WORDS), r);
  }

  /** Row `r`'s candidate list and its changed tokens' raw logits, for `plan`. */
  static candidates(
    data: ArrayBuffer,
    layout: DrawLayout,
    r: number,
    plan: DrawPlan,
    result: DrawResult,
  ): CandidateRow {
    const words = new Uint32Array(data, 0, layout.words);
    const floats = new Float32Array(data, 0, layout.words);
    const n = result.listed;
    const at = layout.rows * DRAW_RESULT_WORDS + r * 2 * DRAW_CANDIDATES;
    const ids = new Int32Array(n);
    const raw = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      ids[j] = words[at + 2 * j];
      raw[j] = floats[at + 2 * j + 1];
    }
    const g = layout.gatheredAt[r];
    return {
      ids,
      raw,
      bound: result.threshold,
      changedRaw: floats.slice(g, g + plan.ids.length),
      result,
    };
  }

  /**
   * Each planned row's token where the results prove it (null: read the row; also for rows
   * without a plan), from the bytes copied out of `resultsBuffer`.
   */
  static tokens(
    data: ArrayBuffer,
    layout: DrawLayout,
    plans: readonly (DrawPlan | null)[],
    vocabSize: number,
  ): (number | null)[] {
    return plans.map((p, r) => {
      if (!p) return null;
      const result = DrawKernel.result(data, r);
      if (!p.fromCandidates) return certifyDraw(p, result, vocabSize);
      if (result.listed < 0 || result.nonFinite) return null;
      return p.fromCandidates(DrawKernel.candidates(data, layout, r, p, result));
    });
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
