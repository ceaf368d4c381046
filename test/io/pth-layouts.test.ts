// torch.save archives in the layouts torch 1.x and 2.x write, tensor views, fp32, zip64.
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MemoryByteSource } from '../../src/io/byte-source.js';
import { encodeF32 } from '../../src/io/dtype.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { openCheckpointSource } from '../../src/io/read-checkpoint.js';
import type { Checkpoint, DType } from '../../src/io/tensor.js';
import { tempDir } from './helpers/files.js';
import {
  torchZip,
  type TestStorage,
  type TestTensor,
  type TorchZipOptions,
} from './helpers/torch-checkpoint.js';
import { writeZipLayout, zipBytes } from './helpers/zip-writer.js';

const { dir, cleanup } = await tempDir();
after(cleanup);

const STORAGE_TYPE: Record<DType, string> = {
  bf16: 'BFloat16Storage',
  f16: 'HalfStorage',
  f32: 'FloatStorage',
};

function contiguous(
  name: string,
  key: string,
  dtype: DType,
  shape: number[],
  seed: number,
): TestTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Float32Array.from({ length: n }, (_, i) => (i - n / 3) * 0.125 + seed);
  return {
    name,
    shape,
    storage: { key, type: STORAGE_TYPE[dtype], bytes: encodeF32(values, dtype) },
  };
}

const MIXED: TestTensor[] = [
  contiguous('emb.weight', '0', 'bf16', [3, 4], 1),
  contiguous('blocks.0.ln1.bias', '1', 'f16', [5], 2),
  contiguous('head.weight', '2', 'f32', [2, 2], 3),
];

async function openMemory(opts: TorchZipOptions, tensors = MIXED): Promise<Checkpoint> {
  return openCheckpointSource(new MemoryByteSource(zipBytes(torchZip(tensors, opts))), 'test.pth');
}

async function assertHolds(c: Checkpoint, tensors: TestTensor[], label: string): Promise<void> {
  assert.equal(c.format, 'pth');
  assert.deepEqual(
    [...c.tensors.keys()],
    tensors.map((t) => t.name),
    label,
  );
  for (const t of tensors) {
    const e = c.tensors.get(t.name)!;
    const dtype = (Object.keys(STORAGE_TYPE) as DType[]).find(
      (d) => STORAGE_TYPE[d] === t.storage.type,
    );
    assert.equal(e.dtype, dtype, `${label} ${t.name}`);
    assert.deepEqual(e.shape, t.shape, `${label} ${t.name}`);
    assert.deepEqual(await e.readBytes(), t.storage.bytes, `${label} ${t.name}`);
  }
}

test('torch 1.x and 2.x layouts, any top folder, with/without zip64, descriptors, alignment', async () => {
  let cases = 0;
  for (const style of ['torch1', 'torch2'] as const) {
    for (const folder of ['archive', 'model', 'rwkv7-g1 1.5b_ctx4096']) {
      for (const zip64 of [false, true]) {
        for (const dataDescriptor of [false, true]) {
          for (const align of [undefined, 64]) {
            for (const root of ['dict', 'ordered'] as const) {
              const label = JSON.stringify({ style, folder, zip64, dataDescriptor, align, root });
              const c = await openMemory({ style, folder, zip64, dataDescriptor, align, root });
              await assertHolds(c, MIXED, label);
              await c.close();
              cases++;
            }
          }
        }
      }
    }
  }
  assert.equal(cases, 96);
});

test('a torch 1.x archive with an explicit little byteorder, and nn.Parameter entries', async () => {
  await assertHolds(
    await openMemory({ style: 'torch1', byteorder: 'little\n' }),
    MIXED,
    'byteorder',
  );
  await assertHolds(await openMemory({ parameters: true, root: 'ordered' }), MIXED, 'parameters');
});

/** Row-major enumeration of storage[offset + Σ index·stride], written out directly. */
function expectedView(storage: Float32Array, t: TestTensor): number[] {
  const out: number[] = [];
  const stride = t.stride!;
  const walk = (d: number, at: number): void => {
    if (d === t.shape.length) out.push(storage[at]);
    else for (let i = 0; i < t.shape[d]; i++) walk(d + 1, at + i * stride[d]);
  };
  walk(0, t.offset ?? 0);
  return out;
}

for (const dtype of ['f32', 'bf16'] as const) {
  test(`${dtype} views (offset, transpose, slices, expand, scalar, empty) become row-major bytes`, async () => {
    const values = Float32Array.from({ length: 24 }, (_, i) => i - 5);
    const storage: TestStorage = {
      key: 'shared',
      type: STORAGE_TYPE[dtype],
      bytes: encodeF32(values, dtype),
    };
    const views: TestTensor[] = [
      { name: 'offset', storage, shape: [2, 3], stride: [3, 1], offset: 5 },
      { name: 'transposed', storage, shape: [6, 4], stride: [1, 6] },
      { name: 'sliced', storage, shape: [3, 2], stride: [8, 3], offset: 1 },
      { name: 'expanded', storage, shape: [3, 4], stride: [0, 1], offset: 4 },
      { name: 'scalar', storage, shape: [], stride: [], offset: 23 },
      { name: 'empty', storage, shape: [0, 5], stride: [5, 1], offset: 3 },
      { name: 'unit-dim', storage, shape: [1, 4], stride: [99, 1], offset: 2 },
      { name: 'four-d', storage, shape: [2, 1, 3, 2], stride: [12, 7, 1, 3] },
      { name: 'whole', storage, shape: [24], stride: [1] },
    ];
    const c = await openMemory({}, views);
    try {
      for (const t of views) {
        const e = c.tensors.get(t.name)!;
        assert.equal(e.dtype, dtype);
        assert.deepEqual([...(await e.readF32())], expectedView(values, t), t.name);
        assert.equal((await e.readBytes()).length, e.numel * (dtype === 'f32' ? 4 : 2), t.name);
      }
    } finally {
      await c.close();
    }
  });
}

test('zip64: tensors stored beyond 4 GiB in a sparse file read correctly', async () => {
  const path = join(dir, 'big.pth');
  const hole = 4.5 * 2 ** 30;
  await writeZipLayout(path, torchZip(MIXED, { holeBeforeStorages: hole, folder: 'big' }));
  assert.ok((await stat(path)).size > hole);
  const c = await openCheckpoint(path);
  try {
    await assertHolds(c, MIXED, 'beyond 4 GiB');
  } finally {
    await c.close();
  }
});
