// Minimal ZIP central-directory reader (PKWARE APPNOTE 6.3.x §4.3), with Zip64, for the archives
// torch.save writes. Only the end records and the central directory are read when opening; an
// entry's local header is read when its data is first needed. torch stores entries
// uncompressed, so tensors are byte ranges read in place; a deflated entry (a re-zipped
// checkpoint) is inflated whole by zip-inflate.ts.
// Why not a zip library (yauzl etc.): those are Node-only and stream entries out, while this
// reader runs over a ByteSource (a Node file or a browser Blob alike) and never copies entry
// data: a tensor is a byte range inside a stored entry, read lazily where it lies.
import type { ByteSource } from './byte-source.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIZE = 56;
const MAX_COMMENT = 0xffff;
const LOCAL_HEADER_SIZE = 30;

/** Problems in the archive structure; the caller adds the file name. */
export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate (zip-inflate.ts); others are refused by the readers. */
  readonly method: number;
  readonly encrypted: boolean;
  /** CRC-32 of the uncompressed data, from the central directory (not checked on reads). */
  readonly crc32: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeaderOffset: number;
}

export interface ZipDirectory {
  /** Entries in central-directory order. */
  readonly entries: readonly ZipEntry[];
  /** Absolute offset of an entry's data (reads its local header once, then remembers). */
  dataOffset(entry: ZipEntry): Promise<number>;
}

function u64(view: DataView, at: number, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError(`${what} is too large (${v})`);
  return Number(v);
}

export function looksLikeZip(head: Uint8Array): boolean {
  // A local file header first (any archive with entries) or an empty archive's end record.
  const sig = head.length >= 4 ? new DataView(head.buffer, head.byteOffset).getUint32(0, true) : 0;
  return sig === SIG_LOCAL || sig === SIG_EOCD;
}

export async function readZipDirectory(source: ByteSource): Promise<ZipDirectory> {
  const size = source.size;
  if (size < EOCD_SIZE) throw new ZipFormatError(`too short for a zip archive (${size} bytes)`);
  // The end record sits in the last 22 bytes plus an optional comment of up to 65535 bytes.
  const tailLength = Math.min(size, EOCD_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE);
  const tailStart = size - tailLength;
  const tail = await source.read(tailStart, tailLength);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.length);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (
      tv.getUint32(i, true) === SIG_EOCD &&
      i + EOCD_SIZE + tv.getUint16(i + 20, true) <= tail.length
    ) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipFormatError('no end-of-central-directory record (truncated archive?)');

  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  const locator = eocd - ZIP64_LOCATOR_SIZE;
  if (locator >= 0 && tv.getUint32(locator, true) === SIG_ZIP64_LOCATOR) {
    const recordOffset = u64(tv, locator + 8, 'zip64 end record offset');
    if (recordOffset + ZIP64_EOCD_SIZE > size) {
      throw new ZipFormatError('zip64 end record lies outside the file (truncated archive?)');
    }
    const rec = await source.read(recordOffset, ZIP64_EOCD_SIZE);
    const rv = new DataView(rec.buffer, rec.byteOffset, rec.length);
    if (rv.getUint32(0, true) !== SIG_ZIP64_EOCD) throw new ZipFormatError('bad zip64 end record');
    count = u64(rv, 32, 'entry count');
    cdSize = u64(rv, 40, 'central directory size');
    cdOffset = u64(rv, 48, 'central directory offset');
  }
  if (cdOffset + cdSize > size) {
    throw new ZipFormatError(
      `central directory (bytes ${cdOffset}..${cdOffset + cdSize}) lies outside the ${size}-byte file`,
    );
  }
  const cd = await source.read(cdOffset, cdSize);
  const entries = parseCentralDirectory(cd, count, cdOffset);
  const offsets = new Map<ZipEntry, Promise<number>>();
  return {
    entries,
    dataOffset(entry) {
      let p = offsets.get(entry);
      if (!p) {
        p = readDataOffset(source, entry, cdOffset);
        offsets.set(entry, p);
      }
      return p;
    },
  };
}

function parseCentralDirectory(cd: Uint8Array, count: number, cdOffset: number): ZipEntry[] {
  const v = new DataView(cd.buffer, cd.byteOffset, cd.length);
  const decoder = new TextDecoder();
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || v.getUint32(p, true) !== SIG_CENTRAL) {
      throw new ZipFormatError(`central directory entry ${i} of ${count} is missing or damaged`);
    }
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc32 = v.getUint32(p + 16, true);
    let compressedSize = v.getUint32(p + 20, true);
    let size = v.getUint32(p + 24, true);
    const nameLength = v.getUint16(p + 28, true);
    const extraLength = v.getUint16(p + 30, true);
    const commentLength = v.getUint16(p + 32, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    const nameStart = p + 46;
    const extraStart = nameStart + nameLength;
    const next = extraStart + extraLength + commentLength;
    if (next > cd.length) throw new ZipFormatError(`central directory entry ${i} is cut short`);
    const name = decoder.decode(cd.subarray(nameStart, extraStart));
    // Zip64 extended information (§4.5.3): only the fields saturated at 0xFFFFFFFF are present,
    // in the order uncompressed size, compressed size, local header offset.
    const needs = [size, compressedSize, localHeaderOffset].map((x) => x === 0xffffffff);
    if (needs.some(Boolean)) {
      const z = findExtra(v, extraStart, extraStart + extraLength, 0x0001);
      if (!z) throw new ZipFormatError(`entry ${name} lacks its zip64 extra field`);
      let q = z.start;
      const take = (what: string): number => {
        if (q + 8 > z.end) throw new ZipFormatError(`entry ${name}: zip64 field is too short`);
        const x = u64(v, q, `${name} ${what}`);
        q += 8;
        return x;
      };
      if (needs[0]) size = take('size');
      if (needs[1]) compressedSize = take('compressed size');
      if (needs[2]) localHeaderOffset = take('offset');
    }
    if (localHeaderOffset + LOCAL_HEADER_SIZE > cdOffset) {
      throw new ZipFormatError(`entry ${name} starts past the central directory`);
    }
    entries.push({
      name,
      method,
      encrypted: (flags & 1) !== 0,
      crc32,
      compressedSize,
      size,
      localHeaderOffset,
    });
    p = next;
  }
  return entries;
}

function findExtra(
  v: DataView,
  start: number,
  end: number,
  id: number,
): { start: number; end: number } | null {
  let p = start;
  while (p + 4 <= end) {
    const fieldId = v.getUint16(p, true);
    const len = v.getUint16(p + 2, true);
    if (fieldId === id) return { start: p + 4, end: Math.min(p + 4 + len, end) };
    p += 4 + len;
  }
  return null;
}

async function readDataOffset(source: ByteSource, entry: ZipEntry, cdOffset: number) {
  const h = await source.read(entry.localHeaderOffset, LOCAL_HEADER_SIZE);
  const v = new DataView(h.buffer, h.byteOffset, h.length);
  if (v.getUint32(0, true) !== SIG_LOCAL) {
    throw new ZipFormatError(`entry ${entry.name}: no local header at ${entry.localHeaderOffset}`);
  }
  // The local name/extra lengths may differ from the central ones (torch pads the local extra
  // field so tensor data starts 64-byte aligned), so they must be read here.
  const start =
    entry.localHeaderOffset + LOCAL_HEADER_SIZE + v.getUint16(26, true) + v.getUint16(28, true);
  if (start + entry.compressedSize > cdOffset) {
    throw new ZipFormatError(
      `entry ${entry.name}: data (${entry.compressedSize} bytes at ${start}) runs into the central directory`,
    );
  }
  return start;
}
