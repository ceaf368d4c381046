// Deflated zip entries (a checkpoint re-zipped by another tool; torch.load reads those too):
// they load to the same tensors as the stored original, and damaged or unknown ones are refused
// with the file and the entry named.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { MemoryByteSource } from '../../src/io/byte-source.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { CheckpointError } from '../../src/io/tensor.js';
import { readZipDirectory } from '../../src/io/zip.js';
import { crc32 } from '../../src/io/zip-inflate.js';
import { FIXTURES, tempDir, tempFile } from './helpers/files.js';
import { assertSameTensors } from './helpers/same-tensors.js';
import { layoutZip, zipBytes, type ZipInput } from './helpers/zip-writer.js';

const { dir, cleanup } = await tempDir();
after(cleanup);

/** The fixture's entries, each with its stored bytes. */
async function fixtureEntries(): Promise<ZipInput[]> {
  const bytes = new Uint8Array(await readFile(join(FIXTURES, 'tiny-a', 'model.pth')));
  const source = new MemoryByteSource(bytes);
  const zip = await readZipDirectory(source);
  const out: ZipInput[] = [];
  for (const e of zip.entries) {
    assert.equal(e.method, 0, 'torch.save stores entries');
    out.push({ name: e.name, data: await source.read(await zip.dataOffset(e), e.size) });
  }
  return out;
}

test('crc32 equals zlib’s', () => {
  const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251);
  for (const n of [0, 1, 7, 4096, 5000]) {
    assert.equal(crc32(data.subarray(0, n)), zlibCrc32(data.subarray(0, n)));
  }
});

test('a fixture re-zipped with every entry deflated gives the same tensors', async () => {
  const entries = await fixtureEntries();
  const original = await openCheckpoint(join(FIXTURES, 'tiny-a', 'model.pth'));
  const path = await tempFile(
    dir,
    zipBytes(layoutZip(entries.map((e) => ({ ...e, deflate: true })))),
    'deflated.pth',
  );
  const deflated = await openCheckpoint(path);
  try {
    await assertSameTensors(deflated, original);
  } finally {
    await deflated.close();
    await original.close();
  }
});

async function expectRefused(entries: ZipInput[], pattern: RegExp): Promise<void> {
  const path = await tempFile(dir, zipBytes(layoutZip(entries)), 'bad.pth');
  await assert.rejects(
    async () => {
      const ck = await openCheckpoint(path);
      try {
        for (const t of ck.tensors.values()) await t.readBytes();
      } finally {
        await ck.close();
      }
    },
    (err: unknown) => {
      assert.ok(err instanceof CheckpointError, `not a CheckpointError: ${String(err)}`);
      assert.ok(err.message.startsWith(`${path}: `));
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test('damaged deflate data, a wrong CRC-32 or an unknown method are refused by name', async () => {
  const entries = await fixtureEntries();
  const storage = entries.findIndex((e) => /\/data\/\d+$/.test(e.name));
  const name = entries[storage].name.replace(/[/.]/g, (c) => '\\' + c);
  const withStorage = (e: Partial<ZipInput>) =>
    entries.map((x, i) => (i === storage ? { ...x, ...e } : x));

  await expectRefused(
    withStorage({ deflate: true, truncateDeflate: true }),
    new RegExp(`entry ${name}: (deflate data is damaged|inflates to \\d+ bytes)`),
  );
  await expectRefused(
    withStorage({ deflate: true, badCrc: true }),
    new RegExp(`entry ${name}: CRC-32 0x[0-9a-f]{8} of the inflated data, the directory says`),
  );
  await expectRefused(
    withStorage({ method: 14 }),
    new RegExp(
      `\\(${name}\\) uses zip compression method 14; only stored \\(0\\) and deflate \\(8\\)`,
    ),
  );
});
