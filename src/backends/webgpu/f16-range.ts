// Whether a model's bf16 weights fit f16. The tensor-core GEMM converts W to f16 as it stages
// it (kernels/matmul-sgm.wgsl), exactly for every bf16 value in f16's range; one of magnitude
// ≥ 65520 (or not finite) has no f16 and would make the product undefined. So where the GEMMs
// would run on the tensor cores, the uploaded weights are counted once (kernels/f16-range.wgsl,
// one read of them), and a model with any such weight runs its GEMMs on the f32 kernel instead
// (sgmUnavailable, asked by runner.ts), exact and slower. Trained RWKV weights lie far inside
// the range.
//
// Until the seventeenth session the f16 GEMM input (gemm 'f16') rewrote bf16 weights as f16
// here, because converting them in the GEMM cost it 4–5 %; with the conversion done two values
// at a time (pack2x16float) that is < 1 %, while the rewritten weights made batch-1 decode ~3 %
// slower (the GEMVs widen f16 more slowly than bf16). Measured on the H100, bench/RESULTS.md.
import type { GpuContext } from './device.js';
import { loadKernel } from './shader-source.js';

/** The vec4 invocations one grid row covers: 65 535 workgroups of 256. */
const ROW_WORKGROUPS = 65535;

/**
 * How many of the bf16 weights in `buffers` f16 cannot hold (magnitude ≥ 65520, or not finite).
 * `rowWorkgroups` (workgroups per grid row) is for tests, which reach the grid's second
 * dimension with buffers far below 268 MB.
 */
export async function countOutsideF16(
  ctx: GpuContext,
  buffers: GPUBuffer[],
  rowWorkgroups = ROW_WORKGROUPS,
): Promise<number> {
  const device = ctx.device;
  const module = device.createShaderModule({
    label: 'rwkv f16-range',
    code: await loadKernel('f16-range', {}),
  });
  const pipeline = await device.createComputePipelineAsync({
    label: 'rwkv f16-range',
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
      label: 'rwkv f16-range count',
      size: 4,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    });
    const read = make({
      label: 'rwkv f16-range read',
      size: 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const enc = device.createCommandEncoder({ label: 'rwkv f16-range' });
    for (const buf of buffers) {
      const vecs = Math.floor(buf.size / 16);
      if (vecs === 0) continue;
      const groups = Math.ceil(vecs / 256);
      const x = Math.min(groups, rowWorkgroups);
      const params = make({
        label: 'rwkv f16-range params',
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
