// Shared facts of the safetensors format (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape, data_offsets}} with an
// optional "__metadata__" string map, then the data buffer that the offsets index.
import type { DType } from './tensor.js';

export const SAFETENSORS_DTYPES: Readonly<Record<DType, string>> = {
  bf16: 'BF16',
  f16: 'F16',
  f32: 'F32',
};

/** The reference implementation refuses headers above 100 MB; so do we. */
export const MAX_SAFETENSORS_HEADER = 100_000_000;

export const METADATA_KEY = '__metadata__';

/** Our dtype for a header dtype string, or null when we do not support it. */
export function dtypeFromSafetensors(s: string): DType | null {
  for (const [ours, theirs] of Object.entries(SAFETENSORS_DTYPES)) {
    if (theirs === s) return ours as DType;
  }
  return null;
}

/**
 * Whether the first bytes look like a safetensors header: a plausible length, then '{'. The
 * length is not checked against the file size, so a truncated file is still recognised and
 * reported as truncated by the reader.
 */
export function looksLikeSafetensors(head: Uint8Array): boolean {
  if (head.length < 9) return false;
  const n = new DataView(head.buffer, head.byteOffset, head.length).getBigUint64(0, true);
  return n >= 2n && n <= BigInt(MAX_SAFETENSORS_HEADER) && head[8] === 0x7b; // '{'
}
