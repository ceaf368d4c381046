// Per-kernel GPU time of one forward step, from timestamp queries (each dispatch in its own
// compute pass, so the sum is a little above the real step time). For finding what to speed up.
import type { WebGpuBackend } from '../src/backends/webgpu/backend.js';
import type { StepSequence } from '../src/backends/webgpu/runner.js';

/** Microseconds per dispatch label, summed over the step; null when timestamps are off. */
export async function profileStep(
  be: WebGpuBackend,
  seqs: StepSequence[],
): Promise<Record<string, number> | null> {
  const { device, caps } = be.ctx;
  if (!caps.timestamps) return null;
  const count = 4096;
  const querySet = device.createQuerySet({ type: 'timestamp', count });
  const resolve = device.createBuffer({
    size: count * 8,
    usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
  });
  const read = device.createBuffer({
    size: count * 8,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    const enc = device.createCommandEncoder();
    await be.runner.encodeStep(enc, seqs, false, querySet);
    const n = be.runner.lastLabels.length * 2;
    if (n > count) throw new Error(`profile needs ${n} timestamps`);
    enc.resolveQuerySet(querySet, 0, n, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, read, 0, n * 8);
    device.queue.submit([enc.finish()]);
    await be.ctx.wait(read.mapAsync(GPUMapMode.READ));
    const t = new BigUint64Array(read.getMappedRange().slice(0, n * 8));
    read.unmap();
    const out: Record<string, number> = {};
    be.runner.lastLabels.forEach((label, i) => {
      // From the end of the previous pass rather than this pass's start: the dispatches then
      // tile the step exactly, whether or not a start stamp can be taken before the previous
      // pass has drained (Vulkan allows it), so the labels sum to the step's GPU time.
      const us = Number(t[2 * i + 1] - t[i > 0 ? 2 * i - 1 : 2 * i]) / 1000;
      out[label] = (out[label] ?? 0) + us;
    });
    out.total = Object.values(out).reduce((a, b) => a + b, 0);
    out.dispatches = be.runner.lastLabels.length;
    for (const k of Object.keys(out)) out[k] = Math.round(out[k] * 10) / 10;
    return out;
  } finally {
    querySet.destroy();
    resolve.destroy();
    read.destroy();
  }
}

/** CPU time to record one step (the work list is cached after the first); not submitted. */
export async function encodeCost(
  be: WebGpuBackend,
  seqs: StepSequence[],
  reps = 20,
): Promise<number> {
  const device = be.ctx.device;
  const enc0 = device.createCommandEncoder();
  await be.runner.encodeStep(enc0, seqs); // builds and caches the work list
  enc0.finish();
  const t = performance.now();
  for (let i = 0; i < reps; i++) {
    const enc = device.createCommandEncoder();
    await be.runner.encodeStep(enc, seqs);
    enc.finish();
  }
  return (performance.now() - t) / reps;
}
