// Exact conversions between the checkpoint dtypes (bf16, fp16) and float32, plus the reverse with
// round-to-nearest-even for writing synthetic models. Values are little-endian, as in every
// checkpoint format we read; typed-array views are used directly, which assumes a little-endian
// host (every platform Node and WebGPU browsers run on) — checked once below.
import { DTYPE_BYTES, type DType } from './tensor.js';

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('rwkv-ts io: big-endian hosts are not supported');
}

/** bf16 is the upper half of an IEEE float32, so widening is a 16-bit shift. */
export function bf16ToF32(src: Uint16Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(src.length);
  bf16IntoF32(src, out);
  return out;
}

function bf16IntoF32(src: Uint16Array, out: Float32Array): void {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
}

/** IEEE 754 binary16 bits → binary32 bits (exact: every half is representable in float32). */
export function f16BitsToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0; // inf / nan (payload kept)
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0; // rebias 15 → 127
  if (mant === 0) return sign >>> 0; // ±0
  // Subnormal half: mant · 2^-24. Normalise so the leading 1 becomes float32's implicit bit.
  let e = 113; // biased float32 exponent of 2^-14
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
}

let f16Table: Uint32Array | null = null;

/** All 65536 halves widened once (256 KiB) so bulk conversion is one lookup per element. */
function f16ToF32Table(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let h = 0; h < 65536; h++) f16Table[h] = f16BitsToF32Bits(h);
  }
  return f16Table;
}

export function f16ToF32(src: Uint16Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(src.length);
  f16IntoF32(src, out);
  return out;
}

function f16IntoF32(src: Uint16Array, out: Float32Array): void {
  const table = f16ToF32Table();
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) bits[i] = table[src[i]];
}

/** float32 bits → bf16 bits, round to nearest even; NaN stays a (quiet) NaN of the same sign. */
export function f32BitsToBf16Bits(b: number): number {
  b >>>= 0;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  const rounded = b + 0x7fff + ((b >>> 16) & 1); // carries into the exponent (→ inf) as IEEE does
  return (rounded >>> 16) & 0xffff;
}

/** float32 bits → binary16 bits, round to nearest even, with subnormals, overflow to ±inf. */
export function f32BitsToF16Bits(b: number): number {
  b >>>= 0;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Below 2^-25 everything rounds to zero (2^-25 itself is a tie that goes to the even 0).
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e; // 14..24: moves the 24-bit significand to units of 2^-24
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++; // may carry into the smallest normal
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // may carry up to 0x7c00 = inf
  return sign | h;
}

export function f32ToBf16(src: Float32Array): Uint16Array<ArrayBuffer> {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToBf16Bits(bits[i]);
  return out;
}

export function f32ToF16(src: Float32Array): Uint16Array<ArrayBuffer> {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16Bits(bits[i]);
  return out;
}

/** An aligned view when possible, else an aligned copy (file reads may land at odd offsets). */
function alignedView<T>(
  bytes: Uint8Array,
  unit: number,
  make: (buf: ArrayBufferLike, offset: number, length: number) => T,
): T {
  if (bytes.length % unit !== 0) {
    throw new RangeError(`${bytes.length} bytes is not a whole number of ${unit}-byte elements`);
  }
  const src = bytes.byteOffset % unit === 0 ? bytes : bytes.slice();
  return make(src.buffer, src.byteOffset, src.length / unit);
}

/** Little-endian element bytes of `dtype` → float32 values (a new array; bytes are not kept). */
export function decodeF32(bytes: Uint8Array, dtype: DType): Float32Array<ArrayBuffer> {
  const out = new Float32Array(Math.floor(bytes.length / DTYPE_BYTES[dtype]));
  decodeF32Into(bytes, dtype, out);
  return out;
}

/**
 * decodeF32 into `out` (exactly as many elements as `bytes` holds), for callers that keep the
 * values in memory they allocated (the CPU backend's shared weight arrays): no intermediate
 * array to allocate, fill and copy (~1 s of a 0.4B model's 2.6–2.8 s load on this project's
 * machine, backends/cpu/weights.ts).
 */
export function decodeF32Into(bytes: Uint8Array, dtype: DType, out: Float32Array): void {
  const fits = (n: number) => {
    if (n !== out.length) {
      throw new RangeError(`${bytes.length} bytes of ${dtype} do not fill ${out.length} floats`);
    }
  };
  if (dtype === 'f32') {
    const values = alignedView(bytes, 4, (b, o, n) => new Float32Array(b, o, n));
    fits(values.length);
    out.set(values);
    return;
  }
  const halves = alignedView(bytes, 2, (b, o, n) => new Uint16Array(b, o, n));
  fits(halves.length);
  if (dtype === 'bf16') bf16IntoF32(halves, out);
  else f16IntoF32(halves, out);
}

/** float32 values → little-endian bytes of `dtype` (rounding to nearest even for bf16/f16). */
export function encodeF32(values: Float32Array, dtype: DType): Uint8Array<ArrayBuffer> {
  const out =
    dtype === 'f32' ? values.slice() : dtype === 'bf16' ? f32ToBf16(values) : f32ToF16(values);
  return new Uint8Array(out.buffer, out.byteOffset, values.length * DTYPE_BYTES[dtype]);
}
