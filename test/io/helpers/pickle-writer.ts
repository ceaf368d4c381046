// Test-only pickle writer: emits the protocol-2 opcodes torch.save uses, one method per opcode,
// so tests can build both faithful state dicts and hostile or broken pickles.

export class PickleWriter {
  private out: number[] = [];
  private memoCount = 0;

  private op(code: number, ...rest: number[]): this {
    this.out.push(code, ...rest);
    return this;
  }
  private le(v: number, bytes: number): number[] {
    const r: number[] = [];
    for (let i = 0; i < bytes; i++) r.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
    return r;
  }

  proto(v = 2): this {
    return this.op(0x80, v);
  }
  mark(): this {
    return this.op(0x28);
  }
  stop(): this {
    return this.op(0x2e);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  emptyTuple(): this {
    return this.op(0x29);
  }
  emptyList(): this {
    return this.op(0x5d);
  }
  tuple(): this {
    return this.op(0x74);
  }
  /** TUPLE1/2/3 */
  tupleN(n: 1 | 2 | 3): this {
    return this.op(0x84 + n);
  }
  setitems(): this {
    return this.op(0x75);
  }
  setitem(): this {
    return this.op(0x73);
  }
  appends(): this {
    return this.op(0x65);
  }
  reduce(): this {
    return this.op(0x52);
  }
  build(): this {
    return this.op(0x62);
  }
  binpersid(): this {
    return this.op(0x51);
  }
  bool(v: boolean): this {
    return this.op(v ? 0x88 : 0x89);
  }
  none(): this {
    return this.op(0x4e);
  }
  float(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, false);
    return this.op(0x47, ...b);
  }
  /** Smallest int opcode, as pickle does: BININT1, BININT2, BININT or LONG1. */
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v);
    if (v >= 0 && v < 65536) return this.op(0x4d, ...this.le(v, 2));
    if (v >= -(2 ** 31) && v < 2 ** 31) return this.op(0x4a, ...this.le(v >>> 0, 4));
    const bytes = this.le(v, 8); // non-negative values up to 2^53 in LONG1 form
    while (bytes.length > 1 && bytes[bytes.length - 1] === 0 && !(bytes[bytes.length - 2] & 0x80)) {
      bytes.pop();
    }
    if (bytes[bytes.length - 1] & 0x80) bytes.push(0);
    return this.op(0x8a, bytes.length, ...bytes);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.op(0x58, ...this.le(b.length, 4), ...b);
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  /** BINPUT the top of the stack into the next memo slot; returns the slot. */
  put(): number {
    const slot = this.memoCount++;
    if (slot < 256) this.op(0x71, slot);
    else this.op(0x72, ...this.le(slot, 4));
    return slot;
  }
  get(slot: number): this {
    return slot < 256 ? this.op(0x68, slot) : this.op(0x6a, ...this.le(slot, 4));
  }
  raw(...bytes: number[]): this {
    return this.op(bytes[0], ...bytes.slice(1));
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}
