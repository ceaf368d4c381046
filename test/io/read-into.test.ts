// TensorEntry.readBytes(into): the same bytes as a plain read, placed in the caller's buffer
// where the format allows (safetensors, stored .pth entries, contiguous views), so that a loader
// reading tensor after tensor reuses one buffer (node-file-source.ts has the measurement).
// TensorEntry.readF32Into(out, scratch): the same values as readF32, written into `out`.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { encodeF32 } from '../../src/io/dtype.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { writeSafetensors } from '../../src/io/safetensors-write.js';
import type { Checkpoint } from '../../src/io/tensor.js';
import { modelFixtures } from '../helpers/fixtures.js';
import { tempDir } from './helpers/files.js';

const { dir, cleanup } = await tempDir();
after(cleanup);

/** Reads every tensor both ways; returns how many came back in `into`. */
async function compareReads(c: Checkpoint): Promise<{ inInto: number; total: number }> {
  const largest = Math.max(...[...c.tensors.values()].map((t) => t.numel * 4));
  const into = new Uint8Array(largest);
  let inInto = 0;
  for (const t of c.tensors.values()) {
    const plain = await t.readBytes();
    into.fill(0xa5); // stale bytes from the previous tensor must not leak into this one
    const got = await t.readBytes(into);
    assert.deepEqual(got, plain, `${t.name}: same bytes read into a buffer as read plainly`);
    if (got.buffer === into.buffer && got.length > 0) inInto++;
    // readF32Into: readF32's values in the caller's array, through the scratch buffer or not.
    const f32 = await t.readF32();
    for (const scratch of [into, undefined]) {
      const out = new Float32Array(t.numel + 2).fill(7);
      await t.readF32Into(out.subarray(1, t.numel + 1), scratch);
      assert.deepEqual(out.subarray(1, t.numel + 1), f32, `${t.name}: readF32Into`);
      assert.deepEqual([out[0], out[t.numel + 1]], [7, 7], `${t.name}: nothing written outside`);
    }
    await assert.rejects(t.readF32Into(new Float32Array(t.numel + 1)), RangeError);
    // Too small a buffer is never written past: a fresh array comes back.
    if (plain.length > 1) {
      const small = new Uint8Array(plain.length - 1);
      const again = await t.readBytes(small);
      assert.notEqual(again.buffer, small.buffer, `${t.name}: a too-small buffer is not used`);
      assert.deepEqual(again, plain, `${t.name}: same bytes with a too-small buffer`);
    }
  }
  return { inInto, total: c.tensors.size };
}

test('safetensors: readBytes(into) gives the plain bytes, read into the buffer', async () => {
  const path = join(dir, 'into.safetensors');
  const values = (n: number, k: number) =>
    new Float32Array(Array.from({ length: n }, (_, i) => Math.sin(i * k)));
  await writeSafetensors(path, [
    { name: 'a', dtype: 'bf16', shape: [4, 8], data: encodeF32(values(32, 0.3), 'bf16') },
    { name: 'b', dtype: 'f32', shape: [5], data: encodeF32(values(5, 1.1), 'f32') },
    { name: 'c', dtype: 'f16', shape: [3, 3], data: encodeF32(values(9, 0.7), 'f16') },
  ]);
  const c = await openCheckpoint(path);
  try {
    const { inInto, total } = await compareReads(c);
    assert.equal(inInto, total, 'every safetensors tensor is read into the given buffer');
  } finally {
    await c.close();
  }
});

test('.pth fixtures: readBytes(into) gives the plain bytes; stored tensors use the buffer', async () => {
  const fixtures = modelFixtures();
  assert.ok(fixtures.length > 0, 'model fixtures found in ../shared/fixtures');
  for (const fx of fixtures) {
    const c = await openCheckpoint(fx.files[0]);
    try {
      const { inInto, total } = await compareReads(c);
      // Official checkpoints store their tensors uncompressed and contiguous.
      assert.ok(
        inInto > total / 2,
        `${fx.name}: ${inInto} of ${total} tensors read into the buffer`,
      );
    } finally {
      await c.close();
    }
  }
});
