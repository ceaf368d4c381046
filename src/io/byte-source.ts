// Random access to a checkpoint's bytes. Readers only ever ask for (offset, length) ranges, so a
// checkpoint can be backed by a file handle in Node, or a File/ArrayBuffer in a browser, and is
// never held in memory as a whole.

export interface ByteSource {
  /** Total size in bytes. */
  readonly size: number;
  /**
   * Exactly `length` bytes starting at `offset`. Rejects (never returns short data) when the range
   * lies outside the source or the source is closed. With `into` (at least `length` bytes) a
   * source may place the bytes there and return a view of it instead of a new array: a caller
   * that reads many ranges in turn reuses one buffer (see NodeFileSource).
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Thrown by sources for ranges outside the data; readers turn it into a CheckpointError. */
export class ByteRangeError extends Error {
  constructor(
    readonly offset: number,
    readonly length: number,
    readonly size: number,
  ) {
    super(`bytes ${offset}..${offset + length} requested but the data is only ${size} bytes long`);
    this.name = 'ByteRangeError';
  }
}

export function checkRange(offset: number, length: number, size: number): void {
  const ok =
    Number.isSafeInteger(offset) &&
    Number.isSafeInteger(length) &&
    offset >= 0 &&
    length >= 0 &&
    offset + length <= size;
  if (!ok) throw new ByteRangeError(offset, length, size);
}

/** A source over bytes already in memory (tests, browsers with an ArrayBuffer). */
export class MemoryByteSource implements ByteSource {
  private closed = false;

  constructor(private readonly bytes: Uint8Array) {}

  get size(): number {
    return this.bytes.length;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.closed) throw new Error('read after close');
    checkRange(offset, length, this.bytes.length);
    // A copy, so callers may keep or mutate the result like a freshly read file range.
    return this.bytes.slice(offset, offset + length);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
