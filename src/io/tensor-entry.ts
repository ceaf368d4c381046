// Builds TensorEntry objects for the readers: shape bookkeeping, error wrapping, and the float32
// view, so each format reader only says where a tensor's bytes live.
import { decodeF32, decodeF32Into } from './dtype.js';
import { CheckpointError, DTYPE_BYTES, type DType, type TensorEntry } from './tensor.js';

/** Product of the dimensions; rejects negative, fractional or unsafe sizes. */
export function shapeNumel(file: string, name: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new CheckpointError(file, `tensor ${name} has an invalid shape [${shape.join(', ')}]`);
    }
    n *= d;
  }
  if (!Number.isSafeInteger(n)) {
    throw new CheckpointError(file, `tensor ${name} is too large (shape [${shape.join(', ')}])`);
  }
  return n;
}

export function makeTensorEntry(
  file: string,
  name: string,
  dtype: DType,
  shape: readonly number[],
  /** The bytes; may place them in `into` (TensorEntry.readBytes). */
  read: (into?: Uint8Array) => Promise<Uint8Array>,
): TensorEntry {
  const frozenShape = Object.freeze([...shape]);
  const numel = shapeNumel(file, name, frozenShape);
  const readBytes = async (into?: Uint8Array): Promise<Uint8Array> => {
    try {
      return await read(into);
    } catch (err) {
      if (err instanceof CheckpointError) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new CheckpointError(file, `cannot read tensor ${name}: ${why}`);
    }
  };
  return {
    name,
    dtype,
    shape: frozenShape,
    numel,
    readBytes,
    readF32: async () => decodeF32(await readBytes(), dtype),
    readF32Into: async (out, scratch) => {
      if (out.length !== numel) {
        throw new RangeError(`tensor ${name}: ${numel} elements, not ${out.length}`);
      }
      const fits = scratch && scratch.length >= numel * DTYPE_BYTES[dtype];
      decodeF32Into(await readBytes(fits ? scratch : undefined), dtype, out);
    },
  };
}
