// The greedy pick on the GPU (TopK with k = 1: the two-pass argmax of kernels/argmax.wgsl)
// equals the CPU argmax — largest logit, lowest token id among equals — however the row is
// split into chunks, and with feedback it writes the pick into the row's input token.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Pipelines } from '../../src/backends/webgpu/pipelines.js';
import { TopK } from '../../src/backends/webgpu/topk.js';
import { argmax } from '../helpers/fixtures.js';
import { gpu } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

async function readU32(device: GPUDevice, src: GPUBuffer, bytes: number): Promise<Uint32Array> {
  const ctx = await gpu();
  const read = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(src, 0, read, 0, bytes);
  device.queue.submit([enc.finish()]);
  await ctx.wait(read.mapAsync(GPUMapMode.READ));
  const out = new Uint32Array(read.getMappedRange().slice(0));
  read.destroy();
  return out;
}

describe('GPU greedy pick', () => {
  it('equals the CPU argmax with ties across chunk boundaries; feedback writes the input token', async () => {
    const ctx = await gpu();
    const device = ctx.device;
    // 5000 entries: four full chunks of 1024 and a partial one.
    const V = 5000;
    const rowsN = 6;
    const logits = new Float32Array(rowsN * V);
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 10 - 5;
    for (let i = 0; i < logits.length; i++) logits[i] = rand();
    const row = (r: number) => logits.subarray(r * V, (r + 1) * V);
    row(0)[V - 1] = 99; // the very last entry, in the partial chunk
    row(1).set([50, 50], 1023); // equal maxima on both sides of a chunk boundary
    row(1)[3000] = 50;
    row(2).fill(-1.5); // all equal: token 0
    row(3).fill(-Infinity);
    row(3)[4096] = -1e30; // the only finite entry, first of the last chunk
    row(4)[2047] = 7; // equal maxima at the ends of two chunks
    row(4)[4095] = 7;
    row(5)[17] = 0; // -0 and +0 rank equal: the lower id wins
    row(5).fill(-9, 0, 17);
    row(5).fill(-9, 18);
    row(5)[16] = -0;

    const logitsBuf = device.createBuffer({
      size: logits.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(logitsBuf, 0, logits);
    // Step rows: [token, slot, first, last] per row; feedback overwrites the token only.
    const rowsBuf = device.createBuffer({
      size: rowsN * 16,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    });
    const rowWords = new Uint32Array(rowsN * 4).map((_, i) => 1000 + i);
    device.queue.writeBuffer(rowsBuf, 0, rowWords);
    const topk = new TopK(ctx, V, new Pipelines(ctx, 'bf16'), logitsBuf, rowsBuf);

    const enc = device.createCommandEncoder();
    await topk.encode(enc, rowsN, 1, true);
    device.queue.submit([enc.finish()]);
    const picks = await readU32(device, topk.picksBuffer!, rowsN * 8);
    const f = new Float32Array(picks.buffer);
    const want = Array.from({ length: rowsN }, (_, r) => argmax(row(r)));
    assert.deepEqual(want.slice(0, 6), [V - 1, 1023, 0, 4096, 2047, 16]);
    for (let r = 0; r < rowsN; r++) {
      assert.equal(picks[2 * r], want[r], `row ${r}: token`);
      assert.equal(f[2 * r + 1], row(r)[want[r]], `row ${r}: logit`);
    }
    const fed = await readU32(device, rowsBuf, rowsN * 16);
    for (let r = 0; r < rowsN; r++) {
      assert.equal(fed[4 * r], want[r], `row ${r}: fed-back token`);
      assert.deepEqual(
        [...fed.subarray(4 * r + 1, 4 * r + 4)],
        [...rowWords.subarray(4 * r + 1, 4 * r + 4)],
      );
    }

    // k > 1 still ranks by the one-workgroup selection: its first pick is the same token.
    const enc2 = device.createCommandEncoder();
    await topk.encode(enc2, rowsN, 3, false);
    device.queue.submit([enc2.finish()]);
    const top3 = await readU32(device, topk.picksBuffer!, rowsN * 3 * 8);
    for (let r = 0; r < rowsN; r++) assert.equal(top3[r * 6], want[r], `row ${r}: top-3 first`);
    topk.destroy();
    logitsBuf.destroy();
    rowsBuf.destroy();
  });
});
