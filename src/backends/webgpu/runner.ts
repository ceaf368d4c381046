// Runs forward steps on the GPU: a step is up to `maxRows` tokens belonging to one or more
// sequences (each with a state slot in the pool). The whole step — embedding, every layer,
// head — is recorded into one command buffer; the CPU waits only for what it reads back.
import type { RwkvConfig } from '../../model/config.js';
import type { WkvScan } from './wkv-scan-form.js';
import { actLayout, type ActLayout } from './act-layout.js';
import type { GpuContext } from './device.js';
import { dispatchPasses, wkvSizes, type WkvSizes } from './dispatch-shape.js';
import type { GemmPass } from './gemm-shape.js';
import { Pipelines } from './pipelines.js';
import { TopK } from './topk.js';
import { DrawKernel } from './draw-kernel.js';
import { StepAhead } from './step-ahead.js';
import { StatePool } from './state-pool.js';
import { buildStepProgram, metaLayout, type Dispatch, type MetaLayout } from './step-program.js';
import { stepShape } from './step-shape.js';
import { sgmUnavailable } from './sgm-gemm.js';
import { elementsPerVec } from './weight-layout.js';
import type { GpuWeights } from './weights.js';

/** A contiguous run of rows that advance one state slot, in token order. */
export interface StepSequence {
  slot: number;
  tokens: readonly number[];
  /** Indices (within `tokens`) whose logits are wanted. */
  logits: readonly number[];
}

/** What a step's recorded commands depend on (its inputs are written apart). */
export interface StepShape {
  /** Rows (tokens) in the step. */
  M: number;
  /** Sequences (state slots) it advances. */
  nSeq: number;
  /** Logit rows it produces. */
  nOut: number;
}

export interface RunnerOptions {
  /** Tokens one step can hold (prefill chunk / batch size). */
  maxRows: number;
  /** Rows of logits one step can produce. */
  maxLogitRows: number;
  /** States the pool starts with (it grows on demand). */
  initialSlots: number;
  /** The prefill wkv's recurrence (wkv-scan-form.ts). */
  wkvScan: WkvScan;
}

const UNIFORM_ALIGN = 256;

interface Encoded {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  grid: [number, number, number];
}

export class Runner {
  readonly act: ActLayout;
  readonly meta: MetaLayout;
  readonly pool: StatePool;
  readonly logitsBuffer: GPUBuffer;
  private readonly pipelines: Pipelines;
  private readonly program: Dispatch[];
  private readonly actBuffer: GPUBuffer;
  private readonly metaBuffer: GPUBuffer;
  private readonly stepBuffer: GPUBuffer;
  private readonly uniformBuffer: GPUBuffer;
  private readonly tableBuffer: GPUBuffer;
  /** Byte offsets of each dispatch's uniform block and segment table. */
  private readonly blockAt: number[] = [];
  private readonly tableAt: number[] = [];
  private bindGroups: GPUBindGroup[] = [];
  private bindGeneration = -1;
  private readonly wkvSizes: WkvSizes;
  /** Whether the batched wkv path can run (its LoRA-up GEMMs tile: K a multiple of 32). */
  private readonly batchedWkvOk: boolean;
  /**
   * GEMMs on the tensor cores: the device's choice, 16-bit weights (sgm-gemm.ts) and, for bf16,
   * every weight within f16's range (f16-range.ts); otherwise on the f32 kernel.
   */
  readonly tensorCores: boolean;

  constructor(
    private readonly ctx: GpuContext,
    readonly config: RwkvConfig,
    private readonly weights: GpuWeights,
    readonly opts: RunnerOptions,
  ) {
    const device = ctx.device;
    this.act = actLayout(config, opts.maxRows);
    this.meta = metaLayout(opts.maxRows);
    this.pool = new StatePool(ctx, config, opts.initialSlots);
    this.pipelines = new Pipelines(ctx, weights.plan.format);
    this.tensorCores =
      ctx.caps.gemm === 'tensor-core' &&
      sgmUnavailable(ctx.caps, weights.plan.format, ctx.caps.gemmInput, weights.outsideF16) ===
        null;
    this.program = buildStepProgram(config, weights.plan, this.act, this.meta);
    this.batchedWkvOk = this.program.every(
      (d) => d.kind !== 'matmul' || d.wkvPath !== 'batched' || d.job.tileableK,
    );
    this.wkvSizes = wkvSizes(weights.plan.layers, elementsPerVec(weights.plan.format));
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    this.actBuffer = device.createBuffer({
      label: 'rwkv activations',
      size: this.act.totalFloats * 4,
      usage: storage,
    });
    this.metaBuffer = device.createBuffer({
      label: 'rwkv step rows',
      size: this.meta.total * 16,
      usage: storage,
    });
    this.stepBuffer = device.createBuffer({
      label: 'rwkv step',
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.logitsBuffer = device.createBuffer({
      label: 'rwkv logits',
      size: opts.maxLogitRows * config.vocabSize * 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    this.topk = new TopK(ctx, config.vocabSize, this.pipelines, this.logitsBuffer, this.metaBuffer);
    this.draw = new DrawKernel(ctx, config.vocabSize, this.pipelines, this.logitsBuffer);
    // Uniform blocks and segment tables, each at an aligned offset of its buffer.
    let u = 0;
    let t = 0;
    for (const d of this.program) {
      this.tableAt.push(t);
      this.blockAt.push(u);
      if (d.kind === 'matmul' || d.kind === 'lnMatvec') {
        t += Math.ceil(d.job.table.byteLength / UNIFORM_ALIGN) * UNIFORM_ALIGN;
      }
      if (d.kind !== 'matmul') {
        u += Math.ceil(d.params.byteLength / UNIFORM_ALIGN) * UNIFORM_ALIGN;
      }
    }
    this.uniformBuffer = device.createBuffer({
      label: 'rwkv params blocks',
      size: Math.max(u, 16),
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.tableBuffer = device.createBuffer({
      label: 'rwkv matmul segments',
      size: Math.max(t, 16),
      usage: storage,
    });
    this.program.forEach((d, i) => {
      if (d.kind === 'matmul' || d.kind === 'lnMatvec')
        device.queue.writeBuffer(
          this.tableBuffer,
          this.tableAt[i],
          d.job.table as Uint32Array<ArrayBuffer>,
        );
      if (d.kind !== 'matmul')
        device.queue.writeBuffer(
          this.uniformBuffer,
          this.blockAt[i],
          d.params as Uint32Array<ArrayBuffer>,
        );
    });
  }

  get weightsPlan() {
    return this.weights.plan;
  }

  /** GPU bytes of activations, logits and step buffers (weights and states counted apart). */
  get scratchBytes(): number {
    return (
      this.actBuffer.size + this.logitsBuffer.size + this.metaBuffer.size + this.tableBuffer.size
    );
  }

  private buildBindGroups(): void {
    const device = this.ctx.device;
    const buf = (buffer: GPUBuffer, offset = 0, size?: number): GPUBufferBinding =>
      size === undefined ? { buffer, offset } : { buffer, offset, size };
    const L = this.pipelines.layouts;
    const w = this.weights;
    this.bindGroups = this.program.map((d, i) => {
      const ubo = () =>
        buf(this.uniformBuffer, this.blockAt[i], d.kind === 'matmul' ? 16 : d.params.byteLength);
      let layout: GPUBindGroupLayout;
      let res: GPUBufferBinding[];
      switch (d.kind) {
        case 'embed':
          layout = L.embed;
          res = [
            buf(this.actBuffer),
            buf(w.params),
            buf(w.arenas[d.arena]),
            buf(this.metaBuffer),
            ubo(),
          ];
          break;
        case 'lnMix':
          layout = L.lnMix;
          res = [
            buf(this.actBuffer),
            buf(w.params),
            buf(this.pool.buffers[d.layer]),
            buf(this.metaBuffer),
            ubo(),
          ];
          break;
        case 'wkv':
          layout = L.wkv;
          res = [
            buf(this.actBuffer),
            buf(w.params),
            buf(w.arenas[w.plan.layers[d.layer].w2.parts[0].arena]),
            buf(this.pool.buffers[d.layer]),
            buf(this.metaBuffer),
            ubo(),
          ];
          break;
        case 'lnRows':
          layout = L.lnRows;
          res = [buf(this.actBuffer), buf(w.params), buf(this.metaBuffer), ubo()];
          break;
        case 'matmul':
          layout = d.logits ? L.matmulLogits : L.matmul;
          res = [
            buf(this.actBuffer),
            buf(w.arenas[d.job.arena]),
            buf(this.tableBuffer, this.tableAt[i], d.job.table.byteLength),
            buf(this.stepBuffer),
            ...(d.logits ? [buf(this.logitsBuffer)] : []),
          ];
          break;
        case 'lnMatvec':
          layout = L.matmulLn;
          res = [
            buf(this.actBuffer),
            buf(w.arenas[d.job.arena]),
            buf(this.tableBuffer, this.tableAt[i], d.job.table.byteLength),
            buf(this.stepBuffer),
            buf(w.params),
            buf(this.pool.buffers[d.layer]),
            buf(this.metaBuffer),
            ubo(),
          ];
          break;
      }
      return device.createBindGroup({
        layout,
        entries: res.map((resource, binding) => ({ binding, resource })),
      });
    });
    this.bindGeneration = this.pool.generation;
  }

  /**
   * Each program dispatch's passes for a step shape (null: not part of this shape), their
   * pipelines asked for at once, so that a shape's first step waits for its compiles together
   * rather than one after another (H100, driver cache empty, 2.9B: a 37-token prompt 1.5–1.9 s →
   * 0.8–1.0 s, the first decoding step after it 0.8–1.0 → 0.55–0.72 s).
   */
  private passesFor(M: number, nSeq: number, nOut: number): Promise<(GemmPass[] | null)[]> {
    const { form, wkvPath, gather } = stepShape(this.config, M, nSeq, nOut, this.batchedWkvOk);
    const gemm = {
      scratch: this.act.scratch,
      scratchFloats: this.act.scratchFloats,
      maxWorkgroupStorage: this.ctx.caps.maxWorkgroupStorage,
      epv: elementsPerVec(this.weights.plan.format),
      tensorCores: this.tensorCores,
      sgmInput: this.ctx.caps.gemmInput,
      wkvScan: this.opts.wkvScan,
    };
    return Promise.all(
      this.program.map((d) => {
        if (d.form !== undefined && d.form !== form) return null;
        if (d.gather !== undefined && d.gather !== gather) return null;
        const onOutRows = d.kind === 'lnRows' || (d.kind === 'matmul' && (d.logits || d.outRows));
        if (onOutRows && nOut === 0) return null;
        if (d.wkvPath !== undefined && d.wkvPath !== wkvPath) return null;
        return dispatchPasses(this.pipelines, this.config, this.wkvSizes, d, M, nSeq, nOut, gemm);
      }),
    );
  }

  /** The dispatch list for a step shape, built once (encoding must cost little CPU time). */
  private async workFor(M: number, nSeq: number, nOut: number): Promise<Encoded[]> {
    const key = `${M}|${nSeq}|${nOut}|${this.bindGeneration}`;
    let work = this.workCache.get(key);
    if (!work) {
      const passes = await this.passesFor(M, nSeq, nOut);
      work = passes.flatMap((ps, i) =>
        (ps ?? []).map((pass) => ({
          label: this.program[i].label + pass.suffix,
          pipeline: pass.pipeline,
          bindGroup: this.bindGroups[i],
          grid: pass.grid,
        })),
      );
      if (this.workCache.size >= 64) this.workCache.clear();
      this.workCache.set(key, work);
    }
    return work;
  }

  private readonly workCache = new Map<string, Encoded[]>();
  /** Labels of the dispatches of the last encoded step (profiling). */
  lastLabels: string[] = [];

  /**
   * Records one step into `enc`: sequences' tokens become consecutive rows; logits of the
   * requested rows land in the logits buffer in order. Returns the number of logit rows.
   */
  async encodeStep(
    enc: GPUCommandEncoder,
    seqs: readonly StepSequence[],
    /** Input tokens are already in place on the GPU (written by top-k feedback). */
    tokensOnGpu = false,
    /** Profiling: each dispatch gets its own pass with timestamps at 2i, 2i + 1. */
    profile?: GPUQuerySet,
  ): Promise<number> {
    const shape = this.writeStep(seqs, tokensOnGpu);
    await this.recordStep(enc, shape, profile);
    return shape.nOut;
  }

  /**
   * Checks a step and queues the writes of its inputs (they land before the next submitted
   * command buffer). Inputs equal to the last ones written are not written again: in decoding
   * only the token changes, and nothing when it is fed back on the GPU.
   */
  writeStep(seqs: readonly StepSequence[], tokensOnGpu = false): StepShape {
    // An empty step would record dispatches of zero workgroups (Dawn warns on stderr for each)
    // and do nothing: the caller has a bug (the benchmark once timed one as a decode step).
    if (seqs.length === 0) throw new Error('a step needs at least one sequence');
    this.stepsWritten++;
    const V = this.config.vocabSize;
    const rows: number[] = [];
    const seqWords: number[] = [];
    const outRows: number[] = [];
    for (const s of seqs) {
      if (s.tokens.length === 0) throw new Error('a step sequence needs at least one token');
      const first = rows.length / 4;
      const last = first + s.tokens.length - 1;
      for (const tok of s.tokens) {
        if (!Number.isInteger(tok) || tok < 0 || tok >= V) {
          throw new RangeError(`token id ${tok} is outside the vocabulary (0..${V - 1})`);
        }
        rows.push(tok, s.slot, first, last);
      }
      seqWords.push(first, s.tokens.length, s.slot, 0);
      for (const i of s.logits) outRows.push(first + i, 0, 0, 0);
    }
    const M = rows.length / 4;
    const nOut = outRows.length / 4;
    if (M > this.opts.maxRows)
      throw new Error(`step of ${M} rows exceeds capacity ${this.opts.maxRows}`);
    if (nOut > this.opts.maxLogitRows)
      throw new Error(`step wants ${nOut} logit rows, capacity ${this.opts.maxLogitRows}`);
    const q = this.ctx.device.queue;
    if (!tokensOnGpu) q.writeBuffer(this.metaBuffer, this.meta.rows * 16, Uint32Array.from(rows));
    const write = (key: string, buffer: GPUBuffer, at: number, words: number[]) => {
      const text = words.join(',');
      if (this.lastWritten.get(key) === text) return;
      q.writeBuffer(buffer, at, Uint32Array.from(words));
      this.lastWritten.set(key, text);
    };
    write('seqs', this.metaBuffer, this.meta.seqs * 16, seqWords);
    if (nOut > 0) write('outRows', this.metaBuffer, this.meta.outRows * 16, outRows);
    write('step', this.stepBuffer, 0, [M, nOut, 0, 0]);
    return { M, nSeq: seqs.length, nOut };
  }

  /** Steps whose inputs were written: each is submitted next and overwrites the logits. */
  stepsWritten = 0;

  /** The words last written per input ('seqs', 'outRows', 'step'). */
  private readonly lastWritten = new Map<string, string>();

  /** Records the dispatches of a step of this shape into `enc` (inputs: `writeStep`). */
  async recordStep(
    enc: GPUCommandEncoder,
    shape: StepShape,
    /** Profiling: each dispatch gets its own pass with timestamps at 2i, 2i + 1. */
    profile?: GPUQuerySet,
  ): Promise<void> {
    if (this.bindGeneration !== this.pool.generation) this.buildBindGroups();
    const work = await this.workFor(shape.M, shape.nSeq, shape.nOut);
    this.lastLabels = work.map((w) => w.label);
    if (profile) {
      work.forEach((w, i) => {
        const pass = enc.beginComputePass({
          timestampWrites: {
            querySet: profile,
            beginningOfPassWriteIndex: 2 * i,
            endOfPassWriteIndex: 2 * i + 1,
          },
        });
        pass.setPipeline(w.pipeline);
        pass.setBindGroup(0, w.bindGroup);
        pass.dispatchWorkgroups(w.grid[0], w.grid[1], w.grid[2]);
        pass.end();
      });
      return;
    }
    const pass = enc.beginComputePass();
    let current: GPUComputePipeline | null = null;
    for (const w of work) {
      if (w.pipeline !== current) pass.setPipeline((current = w.pipeline));
      pass.setBindGroup(0, w.bindGroup);
      pass.dispatchWorkgroups(w.grid[0], w.grid[1], w.grid[2]);
    }
    pass.end();
  }

  /** The model's bf16 weights f16 cannot hold, where counted (GpuWeights.outsideF16). */
  get weightsOutsideF16(): number {
    return this.weights.outsideF16;
  }

  /** Decoding steps recorded while the GPU runs the previous one (see step-ahead.ts). */
  readonly ahead = new StepAhead(this);

  get device(): GPUDevice {
    return this.ctx.device;
  }

  /** Top-k selection over the logit rows of a step (see topk.ts). */
  readonly topk: TopK;
  /** The sampler's draw over the logit rows of a step (see draw-kernel.ts). */
  readonly draw: DrawKernel;

  destroy(): void {
    this.topk.destroy();
    this.draw.destroy();
    this.pool.destroy();
    for (const b of [
      this.actBuffer,
      this.metaBuffer,
      this.stepBuffer,
      this.logitsBuffer,
      this.uniformBuffer,
      this.tableBuffer,
    ]) {
      b.destroy();
    }
  }
}
