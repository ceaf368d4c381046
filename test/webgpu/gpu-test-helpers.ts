// Shared by the WebGPU tests. There is deliberately no "skip when no GPU": CI installs
// lavapipe (scripts/install-lavapipe.sh), and a missing adapter must fail the run.
import assert from 'node:assert/strict';
import { CpuBackend } from '../../src/backends/cpu/cpu-backend.js';
import { createGpuContext, type GpuContext } from '../../src/backends/webgpu/device.js';
import { WebGpuBackend, type WebGpuOptions } from '../../src/backends/webgpu/backend.js';
import { GpuSessions } from '../../src/backends/webgpu/sessions.js';
import type { Checkpoint } from '../../src/io/tensor.js';
import type { RwkvConfig } from '../../src/model/config.js';
import { describeModel } from '../../src/model/model-file.js';
import { maxAbsDiff, std } from '../helpers/fixtures.js';

/**
 * A small synthetic shape that takes the batched and prefill wkv paths: head size 64 and LoRA
 * ranks that are multiples of 32 (what the tiled GEMM needs).
 */
export const HEAD64_CONFIG: RwkvConfig = {
  version: 'x070',
  nLayer: 2,
  nEmbd: 128,
  headSize: 64,
  nHead: 2,
  vocabSize: 300,
  ffnDim: 512,
  lora: { decay: 32, iclr: 64, valueResidual: 32, gate: 96 },
};

let shared: Promise<GpuContext> | null = null;

/** One device per test process; throws (fails the test) when no adapter exists. */
export function gpu(): Promise<GpuContext> {
  shared ??= createGpuContext();
  return shared;
}

export async function backendsFor(
  checkpoint: Checkpoint,
  opts: Omit<WebGpuOptions, 'context'> = {},
): Promise<{ cpu: CpuBackend; gpu: WebGpuBackend }> {
  const model = await describeModel(checkpoint);
  const cpu = await CpuBackend.load(model);
  const g = await WebGpuBackend.load(model, { ...opts, context: await gpu() });
  return { cpu, gpu: g };
}

/**
 * Steps `parts` (one token list per sequence) together in one step of fresh GPU sessions and
 * asserts each sequence's logits and state within 1e-4 of its own token-by-token run. Returns
 * the dispatch labels of that step.
 */
export async function oneStepMatchesSeparateRuns(
  g: WebGpuBackend,
  parts: readonly (readonly number[])[],
): Promise<string[]> {
  const sessions = new GpuSessions(g);
  const slots = parts.map(() => sessions.open());
  const got = await sessions.step(parts.map((p, i) => ({ slot: slots[i], tokens: p })));
  const labels = g.runner.lastLabels;
  for (let i = 0; i < parts.length; i++) {
    const alone = g.createState();
    let want: Float32Array = new Float32Array();
    for (const t of parts[i]) want = await g.forward(alone, [t]);
    const r = got[i];
    assert.ok('logits' in r && relDiff(r.logits, want) <= 1e-4, `sequence ${i}: logits`);
    await alone.sync();
    const st = await sessions.read(slots[i]);
    assert.ok(relDiff(st.data, alone.data) <= 1e-4, `sequence ${i}: state`);
  }
  return labels;
}

/** max|a − b| / std(b): the measure for logits and states. */
export function relDiff(a: Float32Array, b: Float32Array): number {
  return maxAbsDiff(a, b) / std(b);
}

/** Records `passes` (a matmul's, say) into one compute pass of `enc`, all with `bindGroup`. */
export function encodePasses(
  enc: GPUCommandEncoder,
  passes: { pipeline: GPUComputePipeline; grid: [number, number, number] }[],
  bindGroup: GPUBindGroup,
): void {
  const pass = enc.beginComputePass();
  for (const p of passes) {
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...p.grid);
  }
  pass.end();
}

/**
 * Submits `enc` with a copy of the first `bytes` of `src` appended and returns those bytes once
 * the GPU is done; throws the first GPU error the work raised.
 */
export async function submitAndRead(
  ctx: GpuContext,
  enc: GPUCommandEncoder,
  src: GPUBuffer,
  bytes = src.size,
): Promise<ArrayBuffer> {
  const read = ctx.device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  enc.copyBufferToBuffer(src, 0, read, 0, bytes);
  ctx.device.queue.submit([enc.finish()]);
  await ctx.wait(read.mapAsync(GPUMapMode.READ));
  const out = read.getMappedRange().slice(0);
  read.unmap();
  read.destroy();
  ctx.throwIfFailed();
  return out;
}
