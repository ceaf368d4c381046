// The format-neutral view of a checkpoint: named tensors whose bytes are read on demand, so a
// large checkpoint is never held in memory twice (the reader keeps only offsets).

export type DType = 'bf16' | 'f16' | 'f32';

export const DTYPE_BYTES: Record<DType, number> = { bf16: 2, f16: 2, f32: 4 };

export interface TensorEntry {
  readonly name: string;
  readonly dtype: DType;
  /** Logical shape, row-major. */
  readonly shape: readonly number[];
  /** Number of elements (product of shape). */
  readonly numel: number;
  /**
   * Raw little-endian element bytes in row-major order (views/strides already resolved). With
   * `into`, the reader may return a view of it (ByteSource.read): the caller must be done with
   * those bytes before it reuses `into`.
   */
  readBytes(into?: Uint8Array): Promise<Uint8Array>;
  /** The values converted to float32 (bf16/f16 are widened exactly). */
  readF32(): Promise<Float32Array<ArrayBuffer>>;
  /**
   * readF32 into `out` (numel elements), the bytes read through `scratch` where the reader
   * can (readBytes' `into`): nothing vocabulary-sized is allocated per tensor.
   */
  readF32Into(out: Float32Array, scratch?: Uint8Array): Promise<void>;
}

export interface Checkpoint {
  readonly path: string;
  readonly format: 'pth' | 'safetensors';
  /** In the file's own order. */
  readonly tensors: ReadonlyMap<string, TensorEntry>;
  close(): Promise<void>;
}

/** Any problem with a checkpoint file: always names the file. */
export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'CheckpointError';
  }
}
