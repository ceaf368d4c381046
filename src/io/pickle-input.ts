// Bounds-checked reading of pickle bytes: every read either fits in the data or throws a
// PickleError saying the pickle is truncated, so a damaged file can never read out of range.

export class PickleError extends Error {
  override name = 'PickleError';
}

const decoder = new TextDecoder('utf-8', { fatal: true });

export class Cursor {
  pos = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  }

  private need(n: number): number {
    if (n < 0 || this.pos + n > this.bytes.length) {
      throw new PickleError(`pickle data ends early (truncated) at byte ${this.bytes.length}`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8 = (): number => this.bytes[this.need(1)];
  u16 = (): number => this.view.getUint16(this.need(2), true);
  i32 = (): number => this.view.getInt32(this.need(4), true);
  u32 = (): number => this.view.getUint32(this.need(4), true);
  u64 = (): number => {
    const v = this.view.getBigUint64(this.need(8), true);
    return v > BigInt(this.bytes.length) ? this.bytes.length + 1 : Number(v); // too big → truncated
  };
  f64be = (): number => this.view.getFloat64(this.need(8), false);
  take = (n: number): Uint8Array => this.bytes.subarray(this.need(n), this.pos);
  utf8 = (n: number): string => {
    try {
      return decoder.decode(this.take(n));
    } catch {
      throw new PickleError(`invalid UTF-8 string ending at byte ${this.pos}`);
    }
  };
  line = (): string => {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) throw new PickleError('pickle data ends early (truncated) inside a GLOBAL name');
    const s = this.utf8(end - this.pos);
    this.pos++;
    return s;
  };
}

/** Little-endian two's-complement integer of any length (LONG1/LONG4). */
export function decodeLong(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(v)
    : v;
}
