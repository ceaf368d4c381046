// Every kind of bad input gives a CheckpointError naming the file and the problem.
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MemoryByteSource } from '../../src/io/byte-source.js';
import { encodeF32 } from '../../src/io/dtype.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { PickleError } from '../../src/io/pickle.js';
import { openCheckpointSource } from '../../src/io/read-checkpoint.js';
import { CheckpointError } from '../../src/io/tensor.js';
import { readTorchStateDict } from '../../src/io/torch-pickle.js';
import { FIXTURES, tempDir, tempFile } from './helpers/files.js';
import { PickleWriter } from './helpers/pickle-writer.js';
import {
  stateDictPickle,
  torchZip,
  type TestTensor,
  type TorchZipOptions,
} from './helpers/torch-checkpoint.js';
import { layoutZip, zipBytes } from './helpers/zip-writer.js';

const { dir, cleanup } = await tempDir();
after(cleanup);

async function expectError(
  bytes: Uint8Array,
  pattern: RegExp,
  name = 'model.pth',
): Promise<CheckpointError> {
  const path = await tempFile(dir, bytes, name);
  let caught: CheckpointError | undefined;
  await assert.rejects(openCheckpoint(path), (err: unknown) => {
    assert.ok(err instanceof CheckpointError, `not a CheckpointError: ${String(err)}`);
    assert.equal(err.file, path);
    assert.ok(err.message.startsWith(`${path}: `));
    assert.match(err.message, pattern);
    caught = err;
    return true;
  });
  return caught!;
}

const f32Storage = (key: string, n: number) => ({
  key,
  type: 'FloatStorage',
  bytes: encodeF32(
    Float32Array.from({ length: n }, (_, i) => i),
    'f32',
  ),
});
const GOOD: TestTensor[] = [
  { name: 'a.weight', storage: f32Storage('0', 16), shape: [4, 4] },
  { name: 'b.bias', storage: f32Storage('1', 4), shape: [4] },
];
const pth = (tensors: TestTensor[], opts: TorchZipOptions = {}) =>
  zipBytes(torchZip(tensors, opts));

test('files that are no checkpoint at all say which formats are supported', async () => {
  const text = new TextEncoder().encode('hello, this is not a model file at all\n');
  await expectError(
    text,
    /not a recognised checkpoint; supported formats are PyTorch \.pth .* and \.safetensors/,
  );
  await expectError(new Uint8Array(0), /only 0 bytes; supported formats/);
  await expectError(new Uint8Array([0x50, 0x4b, 3, 4]), /only 4 bytes/);
  const legacy = new PickleWriter()
    .proto(2)
    .int(0x1950a86a)
    .stop()
    .proto(2)
    .int(1001)
    .stop()
    .bytes(); // torch's legacy magic number, then the protocol version
  await expectError(legacy, /legacy \(pre-1\.6\) torch\.save format/);
  await assert.rejects(openCheckpoint(join(dir, 'missing.pth')), (err: unknown) => {
    assert.ok(
      err instanceof CheckpointError && /missing\.pth: cannot open: ENOENT/.test(err.message),
    );
    return true;
  });
  await mkdir(join(dir, 'a-folder.pth'));
  await assert.rejects(openCheckpoint(join(dir, 'a-folder.pth')), CheckpointError);
});

test('truncated copies of a real torch checkpoint are reported as damaged', async () => {
  const whole = new Uint8Array(await readFile(join(FIXTURES, 'tiny-a', 'model.pth')));
  for (const keep of [10, 4000, whole.length >> 1, whole.length - 30, whole.length - 1]) {
    await expectError(whole.slice(0, keep), /damaged zip archive|only \d+ bytes/);
  }
});

test('a zip that is not a torch checkpoint', async () => {
  const zip = zipBytes(
    layoutZip([{ name: 'docs/readme.txt', data: new TextEncoder().encode('hi') }]),
  );
  await expectError(zip, /no <folder>\/data\.pkl, so it is not a PyTorch checkpoint/);
  await expectError(zipBytes(layoutZip([])), /no <folder>\/data\.pkl/);
});

test('a pickle asking for any other global is refused before anything runs', async () => {
  const evil = new PickleWriter()
    .proto(2)
    .global('os', 'system')
    .str('echo pwned')
    .tupleN(1)
    .reduce()
    .stop();
  await expectError(
    pth(GOOD, { pickle: evil.bytes() }),
    /pickle asks for global os\.system; only tensor state dicts are supported/,
  );
  const stack = new PickleWriter().proto(4).str('builtins').str('eval').raw(0x93).stop();
  await expectError(pth(GOOD, { pickle: stack.bytes() }), /global builtins\.eval/);
  const newobj = new PickleWriter()
    .proto(2)
    .global('collections', 'OrderedDict')
    .emptyTuple()
    .raw(0x81)
    .stop();
  await expectError(
    pth(GOOD, { pickle: newobj.bytes() }),
    /unsupported pickle opcode 0x81 at byte \d+/,
  );
});

test('a truncated data.pkl is reported, at every cut point of a real one', async () => {
  const good = stateDictPickle(GOOD);
  await expectError(pth(GOOD, { pickle: good.slice(0, good.length >> 1) }), /truncated/);
  // Every prefix of the fixture's own pickle fails cleanly (and the whole one parses).
  const fixture = await openCheckpoint(join(FIXTURES, 'tiny-a', 'model.pth'));
  await fixture.close();
  const { readZipDirectory } = await import('../../src/io/zip.js');
  const src = new MemoryByteSource(
    new Uint8Array(await readFile(join(FIXTURES, 'tiny-a', 'model.pth'))),
  );
  const zip = await readZipDirectory(src);
  const pkl = zip.entries.find((e) => e.name.endsWith('data.pkl'))!;
  const bytes = await src.read(await zip.dataOffset(pkl), pkl.size);
  assert.equal(readTorchStateDict(bytes).size, 69);
  for (let cut = 0; cut < bytes.length; cut += 5) {
    assert.throws(() => readTorchStateDict(bytes.subarray(0, cut)), PickleError, `cut at ${cut}`);
  }
});

test('tensor-level problems name the tensor', async () => {
  const short: TestTensor = { name: 'a.weight', storage: f32Storage('0', 10), shape: [4, 4] };
  await expectError(
    pth([short]),
    /tensor a\.weight \(shape \[4, 4\], f32\) needs 16 elements of storage data\/0, which holds 10/,
  );
  const offsetPast: TestTensor = { ...GOOD[1], offset: 2 };
  await expectError(pth([offsetPast]), /tensor b\.bias .* needs 6 elements/);
  const overclaimed: TestTensor = { ...GOOD[0], declaredNumel: 8 };
  await expectError(pth([overclaimed]), /tensor a\.weight .* holds 8 \(64 bytes; 8 declared\)/);
  await expectError(
    pth(GOOD, { omitStorages: ['1'] }),
    /tensor b\.bias: its storage data\/1 is missing/,
  );
  const long: TestTensor = {
    name: 'step',
    storage: { key: '0', type: 'LongStorage', bytes: new Uint8Array(8) },
    shape: [],
  };
  await expectError(
    pth([long]),
    /tensor step has dtype int64 \(torch\.LongStorage\); supported dtypes are bf16, fp16, fp32/,
  );
  const f64: TestTensor = {
    name: 'w',
    storage: { key: '0', type: 'DoubleStorage', bytes: new Uint8Array(32) },
    shape: [4],
  };
  await expectError(pth([f64]), /tensor w has dtype float64/);
});

test('archive-level problems: big-endian byteorder, non-tensor entries, data.pkl compressed by an unknown method', async () => {
  await expectError(pth(GOOD, { byteorder: 'big' }), /byteorder is 'big'; only little-endian/);
  const w = new PickleWriter()
    .proto(2)
    .emptyDict()
    .mark()
    .str('epoch')
    .int(3)
    .str('opt')
    .emptyDict()
    .setitems()
    .stop();
  await expectError(
    pth(GOOD, { pickle: w.bytes() }),
    /state dict entry epoch is a number, not a tensor/,
  );
  const list = new PickleWriter().proto(2).emptyList().stop();
  await expectError(pth(GOOD, { pickle: list.bytes() }), /pickle holds a list, not a state dict/);
  const bzip2Pickle = layoutZip([
    { name: 'archive/data.pkl', data: stateDictPickle(GOOD), method: 12 },
  ]);
  await expectError(
    zipBytes(bzip2Pickle),
    /data\.pkl \(archive\/data\.pkl\) uses zip compression method 12; only stored \(0\) and deflate \(8\)/,
  );
});

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('random corruption of a real checkpoint never escapes as anything but CheckpointError', async () => {
  const whole = new Uint8Array(await readFile(join(FIXTURES, 'tiny-a', 'model.pth')));
  const random = rng(7);
  // Corrupt the pickle (start of file) and the directory (end of file), a few bytes at a time.
  const regions = [
    [0, 6600],
    [whole.length - 9000, whole.length],
  ];
  let opened = 0;
  for (let trial = 0; trial < 200; trial++) {
    const bytes = whole.slice();
    const [lo, hi] = regions[trial % 2];
    for (let k = 0; k < 1 + (trial % 4); k++)
      bytes[lo + Math.floor(random() * (hi - lo))] = Math.floor(random() * 256);
    try {
      const c = await openCheckpointSource(new MemoryByteSource(bytes), 'fuzz.pth');
      opened++;
      for (const t of c.tensors.values())
        await t.readBytes().catch((err) => assert.ok(err instanceof CheckpointError));
      await c.close();
    } catch (err) {
      assert.ok(err instanceof CheckpointError, `trial ${trial}: ${String(err)}`);
      assert.ok(err.message.startsWith('fuzz.pth: '));
    }
  }
  assert.ok(opened < 200, 'some corruptions must be detected');
});
