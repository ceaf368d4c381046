import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MemoryByteSource } from '../../src/io/byte-source.js';
import { encodeF32 } from '../../src/io/dtype.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { openCheckpointSource } from '../../src/io/read-checkpoint.js';
import { encodeSafetensors, type TensorToWrite } from '../../src/io/safetensors-encode.js';
import { writeSafetensors } from '../../src/io/safetensors-write.js';
import { CheckpointError } from '../../src/io/tensor.js';
import { FIXTURES, tempDir, tempFile } from './helpers/files.js';

const { dir, cleanup } = await tempDir();
after(cleanup);

const f32 = (...xs: number[]) => encodeF32(new Float32Array(xs), 'f32');
const TENSORS: TensorToWrite[] = [
  {
    name: 'b.weight',
    dtype: 'bf16',
    shape: [2, 3],
    data: encodeF32(new Float32Array([1, 2, 3, -4, 1.00390625, 1.005859375]), 'bf16'),
  },
  { name: '10', dtype: 'f32', shape: [2], data: f32(7, 8) }, // integer-like names reorder in JS objects
  { name: '2', dtype: 'f16', shape: [], data: encodeF32(new Float32Array([-0.25]), 'f16') },
  { name: 'empty', dtype: 'f32', shape: [0, 4], data: new Uint8Array(0) },
  { name: 'a.bias', dtype: 'f32', shape: [1, 1, 3], data: f32(1, 2, 3) },
];

test('writeSafetensors → openCheckpoint round-trips names, order, dtypes, shapes and bytes', async () => {
  const path = join(dir, 'round.safetensors');
  await writeSafetensors(path, TENSORS, { format: 'pt' });
  const raw = await readFile(path);
  const headerLength = Number(raw.readBigUInt64LE(0));
  assert.equal(headerLength % 8, 0, 'data buffer starts 8-byte aligned');
  assert.deepEqual(JSON.parse(raw.subarray(8, 8 + headerLength).toString()).__metadata__, {
    format: 'pt',
  });
  const c = await openCheckpoint(path);
  try {
    assert.equal(c.format, 'safetensors');
    assert.deepEqual(
      [...c.tensors.keys()],
      TENSORS.map((t) => t.name),
    );
    for (const t of TENSORS) {
      const e = c.tensors.get(t.name)!;
      assert.equal(e.dtype, t.dtype);
      assert.deepEqual(e.shape, t.shape);
      assert.deepEqual(await e.readBytes(), t.data);
    }
    // bf16 keeps 8 significant bits: 1 + 2^-8 is a tie (→ even 1), 1 + 3·2^-9 rounds up.
    assert.deepEqual(
      [...(await c.tensors.get('b.weight')!.readF32())],
      [1, 2, 3, -4, 1, 1.0078125],
    );
    assert.deepEqual([...(await c.tensors.get('2')!.readF32())], [-0.25]);
  } finally {
    await c.close();
  }
  // The in-memory encoder produces the same file, and a memory source reads it the same way.
  assert.deepEqual(encodeSafetensors(TENSORS, { format: 'pt' }), new Uint8Array(raw));
  const mem = await openCheckpointSource(
    new MemoryByteSource(new Uint8Array(raw)),
    'mem.safetensors',
  );
  assert.deepEqual(
    [...mem.tensors.keys()],
    TENSORS.map((t) => t.name),
  );
  assert.deepEqual(await mem.tensors.get('a.bias')!.readF32(), new Float32Array([1, 2, 3]));
  await mem.close();
});

test('writeSafetensors refuses data that does not fit its shape, and duplicate names', async () => {
  const bad = { name: 'x', dtype: 'f16' as const, shape: [3], data: new Uint8Array(4) };
  await assert.rejects(
    writeSafetensors(join(dir, 'bad.safetensors'), [bad]),
    /x has 4 bytes.*needs 6/,
  );
  await assert.rejects(
    writeSafetensors(join(dir, 'dup.safetensors'), [TENSORS[1], TENSORS[1]]),
    /duplicate/,
  );
});

/** A file with a hand-written header (spaces pad nothing; the JSON is taken as given). */
function withHeader(header: unknown, dataBytes = 64): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

async function expectError(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  const path = await tempFile(dir, bytes, 'case.safetensors');
  await assert.rejects(openCheckpoint(path), (err: unknown) => {
    assert.ok(err instanceof CheckpointError, String(err));
    assert.ok(err.message.startsWith(`${path}: `), err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

test('safetensors header problems are CheckpointErrors naming the file and tensor', async () => {
  const ok = { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] };
  await expectError(
    withHeader({ w: { ...ok, dtype: 'F64' } }),
    /tensor w: dtype F64 is not supported/,
  );
  await expectError(withHeader({ w: { ...ok, dtype: 'I64' } }), /tensor w: dtype I64/);
  await expectError(
    withHeader({ w: { ...ok, shape: [2, 3] } }),
    /tensor w: holds 16 bytes but shape \[2, 3\] of F32 needs 24/,
  );
  await expectError(
    withHeader({ w: { ...ok, data_offsets: [0, 128] } }, 16),
    /tensor w: data ends at byte 128.*only 16/,
  );
  await expectError(withHeader({ w: { ...ok, data_offsets: [16, 0] } }), /tensor w: data_offsets/);
  await expectError(withHeader({ w: { ...ok, shape: [-2, 2] } }), /tensor w: shape/);
  await expectError(withHeader({ w: 5 }), /tensor w: header entry is not an object/);
  await expectError(
    withHeader({ a: ok, b: { ...ok, data_offsets: [8, 24] } }),
    /tensors a and b overlap/,
  );
  const notJson = withHeader({ w: ok });
  notJson[9] = 0x7b; // '{{"w"...' — still starts like a header, no longer parses
  await expectError(notJson, /not valid JSON/);
  await expectError(withHeader([1, 2]), /not a recognised checkpoint; supported formats/);
});

test('a truncated safetensors file is reported, not read past its end', async () => {
  const whole = await readFile(join(FIXTURES, 'tiny-a', 'model.safetensors'));
  const headerLength = Number(whole.readBigUInt64LE(0));
  for (const keep of [9, 100, 8 + headerLength - 1, 8 + headerLength + 10, whole.length - 1]) {
    const bytes = new Uint8Array(whole.subarray(0, keep));
    await expectError(bytes, /truncated/);
  }
});
