// Builds safetensors bytes from in-memory tensors (no file system: usable in a browser too).
import { METADATA_KEY, SAFETENSORS_DTYPES } from './safetensors-format.js';
import { DTYPE_BYTES, type DType } from './tensor.js';

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Little-endian row-major element bytes; length must be numel × dtype size. */
  readonly data: Uint8Array;
}

/**
 * The length prefix and JSON header for `tensors`, laid out back to back in the given order.
 * The header is padded with spaces to a multiple of 8 so the data buffer starts 8-byte aligned,
 * as the reference writer does.
 */
export function safetensorsHeader(
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header[METADATA_KEY] = { ...metadata };
  let offset = 0;
  for (const t of tensors) {
    if (t.name === METADATA_KEY || Object.hasOwn(header, t.name)) {
      throw new Error(`safetensors: duplicate or reserved tensor name ${t.name}`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`safetensors: tensor ${t.name} has an invalid shape [${t.shape.join(', ')}]`);
    }
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const bytes = numel * DTYPE_BYTES[t.dtype];
    if (t.data.length !== bytes) {
      throw new Error(
        `safetensors: tensor ${t.name} has ${t.data.length} bytes but shape [${t.shape.join(', ')}] of ${t.dtype} needs ${bytes}`,
      );
    }
    header[t.name] = {
      dtype: SAFETENSORS_DTYPES[t.dtype],
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded).fill(0x20, 8);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  return out;
}

/** A whole safetensors file in memory. */
export function encodeSafetensors(
  tensors: readonly TensorToWrite[],
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const header = safetensorsHeader(tensors, metadata);
  const out = new Uint8Array(header.length + tensors.reduce((n, t) => n + t.data.length, 0));
  out.set(header);
  let at = header.length;
  for (const t of tensors) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}
