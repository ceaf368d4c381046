import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bf16ToF32,
  decodeF32,
  encodeF32,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
} from '../../src/io/dtype.js';

const ALL_HALVES = Uint16Array.from({ length: 65536 }, (_, i) => i);

/** binary16 value from its definition (IEEE 754-2008 §3.4), independent of the bit tricks. */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

const f32Bits = (x: Float32Array) => new Uint32Array(x.buffer, x.byteOffset, x.length);
const fromBits = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0];

test('f16ToF32 is exact for all 65536 halves (subnormals, ±0, ±inf, NaN payloads)', () => {
  const out = f16ToF32(ALL_HALVES);
  const bits = f32Bits(out);
  for (let h = 0; h < 65536; h++) {
    const want = halfValue(h);
    if (Number.isNaN(want)) {
      assert.ok(Number.isNaN(out[h]), `half 0x${h.toString(16)}`);
      assert.equal((bits[h] >>> 13) & 0x3ff, h & 0x3ff, 'NaN payload kept');
      assert.equal(bits[h] >>> 31, h >>> 15, 'NaN sign kept');
    } else assert.ok(Object.is(out[h], want), `half 0x${h.toString(16)}: ${out[h]} vs ${want}`);
  }
});

test('bf16ToF32 widens every bf16 pattern to the float32 with the same upper bits', () => {
  const out = bf16ToF32(ALL_HALVES);
  const view = new DataView(new ArrayBuffer(4));
  for (let h = 0; h < 65536; h++) {
    view.setUint16(2, h, true); // upper half of a little-endian float32; lower half stays 0
    const want = view.getFloat32(0, true);
    assert.ok(Object.is(out[h], want) || (Number.isNaN(want) && Number.isNaN(out[h])));
  }
});

test('f32ToF16 inverts f16ToF32 for every non-NaN half', () => {
  const back = f32ToF16(f16ToF32(ALL_HALVES));
  for (let h = 0; h < 65536; h++) {
    if (Number.isNaN(halfValue(h))) assert.ok(Number.isNaN(halfValue(back[h])));
    else assert.equal(back[h], h);
  }
});

test('f32ToF16 rounds to nearest, ties to even, around every pair of adjacent halves', () => {
  // Positive finite halves 0x0000..0x7bff; the value after 0x7bff is 2^16 (rounds to inf).
  const expected: number[] = [];
  const inputs: number[] = [];
  for (let h = 0; h < 0x7c00; h++) {
    const a = halfValue(h);
    const b = h === 0x7bff ? 65536 : halfValue(h + 1);
    const mid = (a + b) / 2; // 12 significant bits: exact in float32
    const midBits = f32Bits(new Float32Array([mid]))[0];
    const tieGoesTo = (h & 1) === 0 ? h : h + 1;
    inputs.push(mid, fromBits(midBits - 1), fromBits(midBits + 1));
    expected.push(tieGoesTo, h, h + 1);
  }
  const out = f32ToF16(new Float32Array(inputs));
  for (let i = 0; i < inputs.length; i++) {
    assert.equal(out[i], expected[i], `f32 ${inputs[i]}`);
  }
  const neg = f32ToF16(new Float32Array([-inputs[3], -1e9, 1e9, 2 ** -26, -(2 ** -26), NaN]));
  assert.deepEqual([...neg], [0x8000 | expected[3], 0xfc00, 0x7c00, 0x0000, 0x8000, 0x7e00]);
});

test('f32ToBf16 rounds to nearest, ties to even, and keeps inf/NaN', () => {
  for (let h = 0; h < 0x7f80; h += 7) {
    const base = h << 16;
    const got = f32ToBf16(
      new Float32Array([
        fromBits(base),
        fromBits(base + 0x7fff),
        fromBits(base + 0x8000),
        fromBits(base + 0x8001),
      ]),
    );
    const tie = (h & 1) === 0 ? h : h + 1;
    assert.deepEqual([...got], [h, h, tie, h + 1], `bf16 0x${h.toString(16)}`);
  }
  const special = f32ToBf16(
    new Float32Array([Infinity, -Infinity, NaN, fromBits(0x7f800001), 3.4e38]),
  );
  assert.equal(special[0], 0x7f80);
  assert.equal(special[1], 0xff80);
  assert.ok(Number.isNaN(bf16ToF32(special.subarray(2, 4))[0]));
  assert.ok(Number.isNaN(bf16ToF32(special.subarray(2, 4))[1]), 'NaN with only low payload bits');
  assert.equal(special[4], 0x7f80, 'rounds past the largest bf16 to inf');
});

test('decodeF32/encodeF32 round-trip every dtype, from unaligned byte offsets too', () => {
  const values = new Float32Array([0, -0, 1, -2.5, 65504, 1 / 3, -7e-8, Infinity]);
  for (const dtype of ['bf16', 'f16', 'f32'] as const) {
    const bytes = encodeF32(values, dtype);
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes, 1);
    const decoded = decodeF32(padded.subarray(1), dtype);
    const reencoded = encodeF32(decoded, dtype);
    assert.deepEqual([...reencoded], [...bytes], dtype);
  }
  const f32 = decodeF32(encodeF32(values, 'f32'), 'f32');
  assert.deepEqual([...f32], [...values]);
  assert.throws(() => decodeF32(new Uint8Array(3), 'f16'), /whole number/);
});
