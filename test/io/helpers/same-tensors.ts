// Asserts that two checkpoints hold the same tensors: same names in the same order, and per
// tensor the same dtype, shape and bytes (and, with `f32`, the same decoded values).
import assert from 'node:assert/strict';
import type { Checkpoint } from '../../../src/io/tensor.js';

export async function assertSameTensors(
  got: Checkpoint,
  want: Checkpoint,
  opts: { f32?: boolean } = {},
): Promise<void> {
  assert.deepEqual([...got.tensors.keys()], [...want.tensors.keys()]);
  for (const [name, w] of want.tensors) {
    const g = got.tensors.get(name)!;
    assert.equal(g.dtype, w.dtype, name);
    assert.deepEqual(g.shape, w.shape, name);
    assert.deepEqual(await g.readBytes(), await w.readBytes(), name);
    if (opts.f32) assert.deepEqual(await g.readF32(), await w.readF32(), name);
  }
}
