// bf16 weights rewritten as f16 on the GPU once they are uploaded (kernels/bf16-to-f16.wgsl).
// Why: the tensor-core GEMM converts every W tile it stages from bf16 to f16; with the f16 X
// input (DeviceOptions.gemm 'f16') that conversion is a measurable part of its K step, and
// weights already in f16 make those GEMMs 4–5 % faster (H100, bench/gemm-tiles.ts --w-format,
// bench/RESULTS.md, thirteenth session). In the default (split) mode f16 weights made no
// difference to the GEMMs, so they stay as stored there.
// Values: the GEMMs' do not change (the kernel converted the same values to f16 before
// multiplying); the single-token GEMVs widen f16 to f32 as they did bf16, so theirs change only
// where a weight lies below f16's normal range (|w| < 6.1e-5) and is rounded to its subnormal
// grid (1.1e-6 of the logits' std on a fixture, test/webgpu/weights-to-f16.test.ts).
// Speed: the GEMVs widen f16 (unpack2x16float) more slowly than bf16 (a shift): 2.9B batch-1
// decode is ~1.5–3 % slower in the f16 mode (bench/RESULTS.md, fourteenth session, where each
// format's kernels also ran on the other's data to tell the two causes apart).
import type { GpuContext } from './device.js';
import { loadKernel } from './shader-source.js';

/** The vec4 invocations one grid row covers: 65 535 workgroups of 256. */
const ROW_WORKGROUPS = 65535;

/**
 * Rewrites each buffer's bf16 pairs as f16 pairs in place. Returns how many weights lay outside
 * f16's finite range (or were not finite); those are undefined afterwards, so a caller that
 * gets a non-zero count must not use the buffers. `rowWorkgroups` (workgroups per grid row) is
 * for tests, which reach the grid's second dimension with buffers far below 268 MB.
 */
export async function convertBf16ToF16(
  ctx: GpuContext,
  buffers: GPUBuffer[],
  rowWorkgroups = ROW_WORKGROUPS,
): Promise<number> {
  const device = ctx.device;
  const module = device.createShaderModule({
    label: 'rwkv bf16-to-f16',
    code: await loadKernel('bf16-to-f16', {}),
  });
  const pipeline = await device.createComputePipelineAsync({
    label: 'rwkv bf16-to-f16',
    layout: 'auto',
    compute: { module, entryPoint: 'main' },
  });
  const created: GPUBuffer[] = [];
  const make = (d: GPUBufferDescriptor) => {
    const b = device.createBuffer(d);
    created.push(b);
    return b;
  };
  try {
    const bad = make({
      label: 'rwkv bf16-to-f16 count',
      size: 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const read = make({
      label: 'rwkv bf16-to-f16 read',
      size: 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = device.createCommandEncoder({ label: 'rwkv bf16-to-f16' });
    for (const buf of buffers) {
      const vecs = Math.floor(buf.size / 16);
      if (vecs === 0) continue;
      const groups = Math.ceil(vecs / 256);
      const x = Math.min(groups, rowWorkgroups);
      const params = make({
        label: 'rwkv bf16-to-f16 params',
        size: 16,
        usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      });
      device.queue.writeBuffer(params, 0, new Uint32Array([vecs, x * 256, 0, 0]));
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [
            { binding: 0, resource: { buffer: buf } },
            { binding: 1, resource: { buffer: bad } },
            { binding: 2, resource: { buffer: params } },
          ],
        }),
      );
      pass.dispatchWorkgroups(x, Math.ceil(groups / x));
      pass.end();
    }
    enc.copyBufferToBuffer(bad, 0, read, 0, 4);
    device.queue.submit([enc.finish()]);
    await ctx.wait(read.mapAsync(GPUMapMode.READ));
    const n = new Uint32Array(read.getMappedRange())[0];
    read.unmap();
    ctx.throwIfFailed();
    return n;
  } finally {
    created.forEach((b) => b.destroy());
  }
}
