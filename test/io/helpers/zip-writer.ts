// Test-only ZIP writer (APPNOTE 6.3.x): stored entries laid out like torch.save's archives, with
// switches for the variations a reader must accept (zip64 fields, data descriptors, 64-byte data
// alignment, deflated entries) and a few it must refuse (unknown methods, damaged data). Entries may be preceded by a hole of
// zeros so offsets beyond 4 GiB can be tested with a sparse file.
import { open } from 'node:fs/promises';
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** Store deflated (method 8) instead of stored. */
  deflate?: boolean;
  /** Write this compression method with the data as given (damaged or unsupported entries). */
  method?: number;
  /** Write a CRC-32 that does not match the data. */
  badCrc?: boolean;
  /** With deflate: keep only the first half of the deflated stream (a damaged entry). */
  truncateDeflate?: boolean;
  /** Zero bytes left before this entry's local header (written as a hole). */
  holeBefore?: number;
}

export interface ZipOptions {
  /** Write zip64 extra fields and end records even for small archives. */
  zip64?: boolean;
  /** Sizes and CRC after the data (flag bit 3), as torch's writer does. */
  dataDescriptor?: boolean;
  /** Pad the local extra field so data starts at a multiple of this (torch uses 64). */
  align?: number;
}

/** The archive as pieces at absolute offsets; bytes not covered are zero. */
export interface ZipLayout {
  size: number;
  pieces: { offset: number; bytes: Uint8Array }[];
}

class Bytes {
  private parts: number[] = [];
  u16(v: number): this {
    this.parts.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(Math.floor(v / 0x10000) & 0xffff);
  }
  u64(v: number): this {
    return this.u32(v % 0x100000000).u32(Math.floor(v / 0x100000000));
  }
  raw(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const MAX32 = 0xffffffff;

export function layoutZip(inputs: ZipInput[], opts: ZipOptions = {}): ZipLayout {
  const pieces: ZipLayout['pieces'] = [];
  const central = new Bytes();
  let pos = 0;
  const enc = new TextEncoder();
  for (const input of inputs) {
    pos += input.holeBefore ?? 0;
    const name = enc.encode(input.name);
    const deflated = input.deflate ? new Uint8Array(deflateRawSync(input.data)) : undefined;
    const stored = !deflated
      ? input.data
      : input.truncateDeflate
        ? deflated.subarray(0, deflated.length >> 1)
        : deflated;
    const method = input.method ?? (input.deflate ? 8 : 0);
    const crc = (crc32(input.data) ^ (input.badCrc ? 1 : 0)) >>> 0;
    const zip64 = opts.zip64 || pos > MAX32;
    const flags = 0x800 | (opts.dataDescriptor ? 0x08 : 0);
    const localExtra = new Bytes();
    if (zip64) localExtra.u16(1).u16(16).u64(input.data.length).u64(stored.length);
    if (opts.align) {
      // A private extra field of padding, like torch's "FB" field.
      const before = pos + 30 + name.length + localExtra.length + 4;
      const pad = (opts.align - (before % opts.align)) % opts.align;
      localExtra.u16(0x4246).u16(pad).raw(new Uint8Array(pad).fill(0x5a));
    }
    const local = new Bytes()
      .u32(0x04034b50)
      .u16(zip64 ? 45 : 20)
      .u16(flags)
      .u16(method)
      .u16(0)
      .u16(0x21)
      .u32(opts.dataDescriptor ? 0 : crc)
      .u32(opts.dataDescriptor ? 0 : zip64 ? MAX32 : stored.length)
      .u32(opts.dataDescriptor ? 0 : zip64 ? MAX32 : input.data.length)
      .u16(name.length)
      .u16(localExtra.length)
      .raw(name)
      .raw(localExtra.done())
      .done();
    const headerOffset = pos;
    pieces.push({ offset: pos, bytes: local });
    pos += local.length;
    pieces.push({ offset: pos, bytes: stored });
    pos += stored.length;
    if (opts.dataDescriptor) {
      const dd = new Bytes().u32(0x08074b50).u32(crc);
      if (zip64) dd.u64(stored.length).u64(input.data.length);
      else dd.u32(stored.length).u32(input.data.length);
      pieces.push({ offset: pos, bytes: dd.done() });
      pos += dd.length;
    }
    const bigOffset = zip64 || headerOffset > MAX32;
    const cExtra = new Bytes();
    if (zip64 || bigOffset) {
      cExtra.u16(1).u16(zip64 ? 24 : 8);
      if (zip64) cExtra.u64(input.data.length).u64(stored.length);
      cExtra.u64(headerOffset);
    }
    central
      .u32(0x02014b50)
      .u16(0x031e)
      .u16(zip64 ? 45 : 20)
      .u16(flags)
      .u16(method)
      .u16(0)
      .u16(0x21)
      .u32(crc)
      .u32(zip64 ? MAX32 : stored.length)
      .u32(zip64 ? MAX32 : input.data.length)
      .u16(name.length)
      .u16(cExtra.length)
      .u16(0)
      .u16(0)
      .u16(0)
      .u32(0)
      .u32(bigOffset ? MAX32 : headerOffset)
      .raw(name)
      .raw(cExtra.done());
  }
  const cdOffset = pos;
  const cd = central.done();
  pieces.push({ offset: pos, bytes: cd });
  pos += cd.length;
  const end = new Bytes();
  const zip64End = opts.zip64 || cdOffset > MAX32;
  if (zip64End) {
    const recordOffset = pos;
    end
      .u32(0x06064b50)
      .u64(44)
      .u16(0x031e)
      .u16(45)
      .u32(0)
      .u32(0)
      .u64(inputs.length)
      .u64(inputs.length)
      .u64(cd.length)
      .u64(cdOffset);
    end.u32(0x07064b50).u32(0).u64(recordOffset).u32(1);
  }
  end
    .u32(0x06054b50)
    .u16(0)
    .u16(0)
    .u16(zip64End ? 0xffff : inputs.length)
    .u16(zip64End ? 0xffff : inputs.length)
    .u32(zip64End ? MAX32 : cd.length)
    .u32(zip64End ? MAX32 : cdOffset)
    .u16(0);
  pieces.push({ offset: pos, bytes: end.done() });
  pos += end.length;
  return { size: pos, pieces };
}

/** The whole archive in memory (for archives without holes of significant size). */
export function zipBytes(layout: ZipLayout): Uint8Array {
  const out = new Uint8Array(layout.size);
  for (const p of layout.pieces) out.set(p.bytes, p.offset);
  return out;
}

/** Writes the archive with positional writes, so holes stay sparse on disk. */
export async function writeZipLayout(path: string, layout: ZipLayout): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (const p of layout.pieces) await handle.write(p.bytes, 0, p.bytes.length, p.offset);
    await handle.truncate(layout.size);
  } finally {
    await handle.close();
  }
}
