// Uploads a model's tensors to the GPU as planned in weight-layout.ts: matrices as stored
// (16-bit values two per u32, or f32), small vectors widened to f32 in one params buffer.
import type { RwkvConfig } from '../../model/config.js';
import { DTYPE_BYTES, type DType, type TensorEntry } from '../../io/tensor.js';
import type { GpuContext } from './device.js';
import { StagedUpload } from './staged-upload.js';
import { countOutsideF16 } from './f16-range.js';
import {
  elementsPerVec,
  GLOBAL_VECTORS,
  LAYER_VECTORS,
  paramFloats,
  paramOffset,
  planWeights,
  type PlacedMatrix,
  type WeightFormat,
  type WeightPlan,
} from './weight-layout.js';

/** What the backend needs from a model: its shape and its tensors by checkpoint name. */
export interface WeightSource {
  readonly config: RwkvConfig;
  tensor(name: string): TensorEntry;
}

export interface GpuWeights {
  plan: WeightPlan;
  arenas: GPUBuffer[];
  params: GPUBuffer;
  /** Bytes of GPU memory held by the weights. */
  bytes: number;
  /**
   * bf16 weights f16 cannot hold (f16-range.ts), counted where the tensor-core GEMM would read
   * them (UploadOptions.checkF16Range); 0 when not counted.
   */
  outsideF16: number;
  destroy(): void;
}

export interface UploadOptions {
  /** Cap on one arena (default: the device's storage binding limit); tests use it to force splits. */
  arenaCap?: number;
  /**
   * Count the bf16 weights f16 cannot hold (f16-range.ts). Default: where the GEMMs run on the
   * tensor cores, which convert W to f16; tests ask for it on devices without them.
   */
  checkF16Range?: boolean;
}

/** All matrices share one 16-bit type → keep it; anything else → f32 (exact for all inputs). */
function chooseFormat(dtypes: Set<DType>): WeightFormat {
  if (dtypes.size === 1) {
    const [d] = dtypes;
    if (d === 'bf16' || d === 'f16') return d;
  }
  return 'f32';
}

/**
 * The tensor's elements as bit patterns of `format` (Uint16 for 16-bit, Uint32 for f32). 16-bit
 * ones may be read into `scratch` (TensorEntry.readBytes): used before the next tensor is read.
 */
async function elementsAs(
  t: TensorEntry,
  format: WeightFormat,
  scratch: Uint8Array,
): Promise<Uint16Array | Uint32Array> {
  if (format === 'f32') {
    const f = await t.readF32();
    return new Uint32Array(f.buffer, f.byteOffset, f.length);
  }
  if (t.dtype !== format) throw new Error(`${t.name} is ${t.dtype}, expected ${format}`);
  const b = await t.readBytes(scratch);
  if (b.byteOffset % 2 === 0) return new Uint16Array(b.buffer, b.byteOffset, b.length / 2);
  return new Uint16Array(b.slice().buffer);
}

/**
 * Rows [first, first+count) of the [rows][cols] (optionally transposed) matrix, padded to kPad.
 * Rows already in place (no transpose, no padding: nearly every byte of a model) come back as a
 * view of `src`, not a copy: copying them into fresh arrays was ~5 of the ~11 s that loading a
 * 2.9B model took on the H100's host (CPU profile; load 11.0–11.7 s → 6.3–7.2 s without it).
 */
function relayout(
  src: Uint16Array | Uint32Array,
  m: PlacedMatrix,
  first: number,
  count: number,
  kPad: number,
): Uint16Array | Uint32Array {
  if (!m.transpose && kPad === m.cols)
    return src.subarray(first * m.cols, (first + count) * m.cols);
  const out =
    src instanceof Uint16Array ? new Uint16Array(count * kPad) : new Uint32Array(count * kPad);
  if (m.transpose) {
    // Source is [cols][rows] (e.g. att.w1 stored [C, rank]); out[r][k] = src[k][r]. The sizes
    // are read once, not per element from `m`: 2.9B from a file on the H100's host loaded in
    // 3.2–3.5 s instead of 4.1–4.9 s.
    const { rows, cols } = m;
    for (let r = 0; r < count; r++) {
      const o = r * kPad;
      const s = first + r;
      for (let k = 0; k < cols; k++) out[o + k] = src[k * rows + s];
    }
  } else {
    for (let r = 0; r < count; r++) {
      out.set(src.subarray((first + r) * m.cols, (first + r + 1) * m.cols), r * kPad);
    }
  }
  return out;
}

export async function uploadWeights(
  ctx: GpuContext,
  model: WeightSource,
  opts: UploadOptions = {},
): Promise<GpuWeights> {
  const c = model.config;
  const cap = Math.min(ctx.caps.maxBinding, opts.arenaCap ?? Infinity);
  const probe = planWeights(c, 'bf16', cap);
  const format = chooseFormat(new Set(probe.all.map((m) => model.tensor(m.name).dtype)));
  const plan = format === 'bf16' ? probe : planWeights(c, format, cap);
  const epv = elementsPerVec(format);
  const device = ctx.device;
  const created: GPUBuffer[] = [];
  const upload = new StagedUpload(ctx);
  // One read buffer for every matrix (as large as the largest): reading each into a fresh array
  // pays for paging that array in (node-file-source.ts).
  // (f32 weights are widened from whatever was stored, through readF32: no scratch.)
  const scratch = new Uint8Array(
    format === 'f32'
      ? 0
      : Math.max(...plan.all.map((m) => model.tensor(m.name).numel * DTYPE_BYTES[format])),
  );
  try {
    const arenas = plan.arenaBytes.map((bytes, i) => {
      const b = device.createBuffer({
        label: `rwkv weights ${i}`,
        size: Math.max(16, bytes),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
      });
      created.push(b);
      return b;
    });
    for (const m of plan.all) {
      const t = model.tensor(m.name);
      const expect = m.transpose ? [m.cols, m.rows] : [m.rows, m.cols];
      if (t.shape.length !== 2 || t.shape[0] !== expect[0] || t.shape[1] !== expect[1]) {
        throw new Error(`tensor ${m.name} has shape [${t.shape}], expected [${expect}]`);
      }
      const src = await elementsAs(t, format, scratch);
      for (const part of m.parts) {
        const data = relayout(src, m, part.firstRow, part.rows, m.kVec * epv);
        await upload.write(arenas[part.arena], part.vecOffset * 16, data);
      }
    }
    await upload.finish();
    const outsideF16 =
      format === 'bf16' && (opts.checkF16Range ?? ctx.caps.gemm === 'tensor-core')
        ? await countOutsideF16(ctx, arenas)
        : 0;

    const params = new Float32Array(paramFloats(c));
    const C = c.nEmbd;
    const putVec = async (name: string, at: number) => {
      const t = model.tensor(name);
      if (t.numel !== C) throw new Error(`tensor ${name} has ${t.numel} values, expected ${C}`);
      params.set(await t.readF32(), at);
    };
    await putVec('blocks.0.ln0.weight', GLOBAL_VECTORS.ln0w * C);
    await putVec('blocks.0.ln0.bias', GLOBAL_VECTORS.ln0b * C);
    await putVec('ln_out.weight', GLOBAL_VECTORS.lnOutW * C);
    await putVec('ln_out.bias', GLOBAL_VECTORS.lnOutB * C);
    for (let l = 0; l < c.nLayer; l++) {
      for (const v of LAYER_VECTORS) {
        if (v === 'att.v0' && l === 0) continue; // layer 0 has no value residual
        await putVec(`blocks.${l}.${v}`, paramOffset(c, l, v));
      }
    }
    const paramBuf = device.createBuffer({
      label: 'rwkv params',
      size: params.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    created.push(paramBuf);
    device.queue.writeBuffer(paramBuf, 0, params);
    const bytes = plan.arenaBytes.reduce((a, b) => a + b, 0) + params.byteLength;
    return {
      plan,
      arenas,
      params: paramBuf,
      bytes,
      outsideF16,
      destroy: () => created.forEach((b) => b.destroy()),
    };
  } catch (err) {
    upload.destroy();
    created.forEach((b) => b.destroy());
    throw err;
  }
}
