// The weights' upload path (staged-upload.ts): writes of any size land where they were aimed,
// also when they span several fills of the two staging buffers, and unaligned ones are refused.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { StagedUpload } from '../../src/backends/webgpu/staged-upload.js';
import { gpu, submitAndRead } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

describe('StagedUpload', () => {
  it('delivers writes that span staging fills to two buffers, byte for byte', async () => {
    const ctx = await gpu();
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
    const dsts = [4096, 2048].map((size) => ctx.device.createBuffer({ size, usage }));
    const want = dsts.map((d) => new Uint8Array(d.size));
    // 256-byte staging buffers: most writes below cross one or several fills.
    const up = new StagedUpload(ctx, 256);
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    const writes: [number, number, number][] = [
      [0, 0, 1000],
      [1, 100, 4],
      [0, 1000, 256],
      [1, 104, 1900],
      [0, 1256, 2840],
      [1, 0, 100],
    ];
    for (const [d, at, n] of writes) {
      const data = new Uint8Array(n).map(() => next() >>> 24);
      want[d].set(data, at);
      // Also from a view that does not start at its buffer's beginning (as relayout's views).
      const padded = new Uint8Array(n + 8);
      padded.set(data, 8);
      await up.write(dsts[d], at, padded.subarray(8));
    }
    await up.finish();
    for (const [i, d] of dsts.entries()) {
      const got = new Uint8Array(await submitAndRead(ctx, ctx.device.createCommandEncoder(), d));
      assert.deepEqual(got, want[i], `destination ${i} holds what was written`);
      d.destroy();
    }
  });

  it('can be dropped part-way (a bad tensor further on) without an unhandled rejection', async () => {
    const ctx = await gpu();
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const dst = ctx.device.createBuffer({ size: 1024, usage: GPUBufferUsage.COPY_DST });
      const up = new StagedUpload(ctx, 256);
      // 512 bytes: the first buffer's copies submitted and its mapping back still pending
      // (the write went on into the second buffer without waiting for it).
      await up.write(dst, 0, new Uint8Array(512));
      up.destroy();
      dst.destroy();
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(unhandled, [], 'no rejection left unhandled');
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('refuses writes whose size or offset is not a multiple of 4 bytes', async () => {
    const ctx = await gpu();
    const dst = ctx.device.createBuffer({ size: 64, usage: GPUBufferUsage.COPY_DST });
    const up = new StagedUpload(ctx, 256);
    await assert.rejects(up.write(dst, 0, new Uint8Array(6)), /not 4-aligned/);
    await assert.rejects(up.write(dst, 2, new Uint8Array(8)), /not 4-aligned/);
    up.destroy();
    dst.destroy();
  });
});
