// Inflates a deflated (zip method 8) entry. torch.save stores entries uncompressed, but a
// checkpoint re-zipped by another tool is deflated, and torch.load reads it; so do we. Such an
// entry cannot be read in place: the whole entry is inflated into memory once (as torch does).
// DecompressionStream('deflate-raw') exists in Node ≥ 20.12 and in browsers, so this runs in both.
import { ZipFormatError, type ZipEntry } from './zip.js';

export const ZIP_STORED = 0;
export const ZIP_DEFLATED = 8;

/** CRC-32 (IEEE 802.3, reflected, as zip uses; APPNOTE §4.4.7) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (let i = 0; i < bytes.length; i++) {
    c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return ~c >>> 0;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * The entry's data from its `compressed` bytes, checked against the central directory's size and
 * CRC-32 (a damaged stream must not become silently wrong weights).
 */
export async function inflateEntry(entry: ZipEntry, compressed: Uint8Array): Promise<Uint8Array> {
  let inflater: DecompressionStream;
  try {
    inflater = new DecompressionStream('deflate-raw');
  } catch {
    throw new ZipFormatError(
      `entry ${entry.name} is deflated, and this runtime has no DecompressionStream('deflate-raw') (Node ≥ 20.12 or a current browser has it)`,
    );
  }
  let out: Uint8Array;
  try {
    const bytes = new Blob([compressed as Uint8Array<ArrayBuffer>]).stream().pipeThrough(inflater);
    out = new Uint8Array(await new Response(bytes).arrayBuffer());
  } catch (err) {
    throw new ZipFormatError(
      `entry ${entry.name}: deflate data is damaged (${err instanceof Error ? err.message : err})`,
    );
  }
  if (out.length !== entry.size) {
    throw new ZipFormatError(
      `entry ${entry.name}: inflates to ${out.length} bytes, the directory says ${entry.size}`,
    );
  }
  const crc = crc32(out);
  if (crc !== entry.crc32) {
    throw new ZipFormatError(
      `entry ${entry.name}: CRC-32 ${hex(crc)} of the inflated data, the directory says ${hex(entry.crc32)}`,
    );
  }
  return out;
}

const hex = (n: number) => '0x' + n.toString(16).padStart(8, '0');
