// Compute pipelines for the kernels in kernels/, with explicit bind-group layouts so one bind
// group serves every variant of a kernel (e.g. matvec for 1, 2, 4 or 8 rows and the tiled
// matmul share the matmul layout).
import type { GpuContext } from './device.js';
import { loadKernel, type Defines } from './shader-source.js';
import type { WeightFormat } from './weight-layout.js';

type Slot = 'rw' | 'ro' | 'uniform';

export type LayoutName =
  | 'embed'
  | 'lnMix'
  | 'lnRows'
  | 'wkv'
  | 'matmul'
  | 'matmulLogits'
  | 'matmulLn'
  | 'topk'
  | 'argmax'
  | 'draw';

const LAYOUTS: Record<LayoutName, Slot[]> = {
  // act, params, weights, rows, uniform
  embed: ['rw', 'ro', 'ro', 'ro', 'uniform'],
  // act, params, pool, rows, uniform
  lnMix: ['rw', 'ro', 'rw', 'ro', 'uniform'],
  // act, params, rows, uniform
  lnRows: ['rw', 'ro', 'ro', 'uniform'],
  // act, params, weights, pool, rows, uniform
  wkv: ['rw', 'ro', 'ro', 'rw', 'ro', 'uniform'],
  // act, weights, segments, step
  matmul: ['rw', 'ro', 'ro', 'uniform'],
  matmulLogits: ['rw', 'ro', 'ro', 'uniform', 'rw'],
  // act, weights, segments, step, params, pool, rows, uniform (kernels/matvec-ln.wgsl)
  matmulLn: ['rw', 'ro', 'ro', 'uniform', 'ro', 'rw', 'ro', 'uniform'],
  // logits, picks, rows, uniform
  topk: ['ro', 'rw', 'rw', 'uniform'],
  // logits, partials, picks, rows, uniform (kernels/argmax.wgsl)
  argmax: ['ro', 'rw', 'rw', 'rw', 'uniform'],
  // logits, plans, results, uniform (kernels/draw.wgsl)
  draw: ['ro', 'ro', 'rw', 'uniform'],
};

export class Pipelines {
  readonly layouts: Record<LayoutName, GPUBindGroupLayout>;
  private readonly cache = new Map<string, Promise<GPUComputePipeline>>();
  private readonly base: Defines;

  constructor(
    private readonly ctx: GpuContext,
    format: WeightFormat,
  ) {
    const device = ctx.device;
    const entries = (slots: Slot[]): GPUBindGroupLayoutEntry[] =>
      slots.map((s, binding) => ({
        binding,
        visibility: GPUShaderStage.COMPUTE,
        buffer: {
          type: s === 'uniform' ? 'uniform' : s === 'rw' ? 'storage' : 'read-only-storage',
        },
      }));
    this.layouts = Object.fromEntries(
      Object.entries(LAYOUTS).map(([name, slots]) => [
        name,
        device.createBindGroupLayout({ label: name, entries: entries(slots) }),
      ]),
    ) as Record<LayoutName, GPUBindGroupLayout>;
    this.base = {
      SUBGROUPS: ctx.caps.subgroups,
      W32: format === 'f32',
      W_F16: format === 'f16',
    };
  }

  /** The pipeline for kernels/<kernel>.wgsl with these defines (compiled once). */
  get(kernel: string, layout: LayoutName, defines: Defines = {}): Promise<GPUComputePipeline> {
    const all = { ...this.base, ...defines };
    const key = `${kernel}|${layout}|${JSON.stringify(all)}`;
    let p = this.cache.get(key);
    if (!p) {
      p = this.compile(kernel, layout, all);
      this.cache.set(key, p);
    }
    return p;
  }

  private async compile(
    kernel: string,
    layout: LayoutName,
    defines: Defines,
  ): Promise<GPUComputePipeline> {
    const device = this.ctx.device;
    const code = await loadKernel(kernel, defines);
    // The error scope opens and closes with no await in between: compiles run concurrently
    // (runner.workFor asks for a step's pipelines at once), and a scope left open across an
    // await would catch another compile's errors.
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ label: kernel, code });
    const created = this.ctx.wait(
      device.createComputePipelineAsync({
        label: kernel,
        layout: device.createPipelineLayout({ bindGroupLayouts: [this.layouts[layout]] }),
        compute: { module, entryPoint: 'main' },
      }),
    );
    const scope = this.ctx.wait(device.popErrorScope());
    const info = await this.ctx.wait(module.getCompilationInfo());
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0) {
      await Promise.allSettled([created, scope]);
      const lines = code.split('\n');
      const detail = errors
        .map((m) => `  line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`)
        .join('\n');
      throw new Error(`WGSL kernel ${kernel}.wgsl failed to compile:\n${detail}`);
    }
    const [pipeline, err] = await Promise.all([
      created.catch((e: unknown) => {
        throw new Error(`WebGPU pipeline ${kernel}: ${e instanceof Error ? e.message : e}`);
      }),
      scope,
    ]);
    if (err) throw new Error(`WebGPU pipeline ${kernel}: ${err.message}`);
    return pipeline;
  }
}
