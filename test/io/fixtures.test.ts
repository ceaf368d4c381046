// The reference models open from both formats, agree byte for byte, and are read lazily.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import type { ByteSource } from '../../src/io/byte-source.js';
import { NodeFileSource } from '../../src/io/node-file-source.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { openCheckpointSource } from '../../src/io/read-checkpoint.js';
import { CheckpointError, type Checkpoint } from '../../src/io/tensor.js';
import { readTorchStateDict } from '../../src/io/torch-pickle.js';
import { readZipDirectory } from '../../src/io/zip.js';
import { FIXTURE_MODELS, FIXTURES } from './helpers/files.js';
import { assertSameTensors } from './helpers/same-tensors.js';

const DTYPE_OF_REFERENCE: Record<string, string> = { bf16: 'bf16', fp16: 'f16', fp32: 'f32' };

async function withCheckpoint<T>(path: string, use: (c: Checkpoint) => Promise<T>): Promise<T> {
  const c = await openCheckpoint(path);
  try {
    return await use(c);
  } finally {
    await c.close();
  }
}

for (const model of FIXTURE_MODELS) {
  const dir = join(FIXTURES, model);

  test(`${model}: model.pth matches reference.json (dtype, shapes)`, async () => {
    const ref = JSON.parse(await readFile(join(dir, 'reference.json'), 'utf8'));
    await withCheckpoint(join(dir, 'model.pth'), async (c) => {
      assert.equal(c.format, 'pth');
      const names = [...c.tensors.keys()];
      assert.equal(names[0], 'emb.weight', 'state dict order kept');
      assert.deepEqual(c.tensors.get('emb.weight')?.shape, [ref.vocab_size, ref.n_embd]);
      assert.deepEqual(c.tensors.get('head.weight')?.shape, [ref.vocab_size, ref.n_embd]);
      const layers = new Set(
        names.filter((n) => n.startsWith('blocks.')).map((n) => n.split('.')[1]),
      );
      assert.equal(layers.size, ref.n_layer);
      for (const t of c.tensors.values()) {
        assert.equal(t.dtype, DTYPE_OF_REFERENCE[ref.dtype], t.name);
        assert.equal(
          t.numel,
          t.shape.reduce((a, b) => a * b, 1),
        );
      }
    });
  });

  test(`${model}: every tensor's bytes match the CRC-32 torch stored for its storage`, async () => {
    const path = join(dir, 'model.pth');
    const source = await NodeFileSource.open(path);
    try {
      const zip = await readZipDirectory(source);
      const pkl = zip.entries.find((e) => e.name.endsWith('/data.pkl'));
      assert.ok(pkl);
      const prefix = pkl.name.slice(0, -'data.pkl'.length);
      const records = readTorchStateDict(await source.read(await zip.dataOffset(pkl), pkl.size));
      await withCheckpoint(path, async (c) => {
        assert.deepEqual([...c.tensors.keys()], [...records.keys()]);
        for (const [name, rec] of records) {
          const entry = zip.entries.find((e) => e.name === `${prefix}data/${rec.storage.key}`);
          assert.ok(entry, name);
          const bytes = await c.tensors.get(name)!.readBytes();
          assert.equal(bytes.length, entry.size, `${name} covers its whole storage`);
          assert.equal(crc32(bytes), entry.crc32, `${name} bytes`);
        }
      });
    } finally {
      await source.close();
    }
  });

  const st = join(dir, 'model.safetensors');
  if (existsSync(st)) {
    test(`${model}: model.pth and model.safetensors hold identical tensors`, async () => {
      await withCheckpoint(join(dir, 'model.pth'), (pth) =>
        withCheckpoint(st, async (safe) => {
          assert.equal(safe.format, 'safetensors');
          await assertSameTensors(safe, pth, { f32: true });
        }),
      );
    });
  }
}

/** Counts what a reader asks for, to prove opening does not read tensor data. */
class CountingSource implements ByteSource {
  bytesRead = 0;
  constructor(private readonly inner: ByteSource) {}
  get size(): number {
    return this.inner.size;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    this.bytesRead += length;
    return this.inner.read(offset, length);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

for (const file of ['model.pth', 'model.safetensors']) {
  test(`opening tiny-fp16/${file} reads only its directory/header; a tensor read reads that tensor`, async () => {
    const path = join(FIXTURES, 'tiny-fp16', file);
    const source = new CountingSource(await NodeFileSource.open(path));
    const c = await openCheckpointSource(source, path);
    try {
      const atOpen = source.bytesRead;
      assert.ok(atOpen < 100_000, `read ${atOpen} of ${source.size} bytes to open`);
      const emb = c.tensors.get('emb.weight')!;
      const bytes = await emb.readBytes();
      assert.equal(bytes.length, emb.numel * 2);
      assert.ok(source.bytesRead - atOpen < bytes.length + 1024, 'one tensor read ≈ its size');
    } finally {
      await c.close();
    }
    await assert.rejects(c.tensors.get('emb.weight')!.readBytes(), (err: unknown) => {
      assert.ok(err instanceof CheckpointError);
      assert.match(err.message, /emb\.weight.*closed/);
      return true;
    });
  });
}
