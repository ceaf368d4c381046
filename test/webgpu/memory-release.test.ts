// Unloading a model gives its GPU memory back, and the state pool costs the same fixed amount per
// session that `rwkv info` reports. Every buffer the backend creates is counted through the
// device it is given; after dispose none may be left alive.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { createGpuContext, type GpuContext } from '../../src/backends/webgpu/device.js';
import { GpuSessions } from '../../src/backends/webgpu/sessions.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { stateFloats } from '../../src/model/config.js';
import { describeModel } from '../../src/model/model-file.js';
import { modelFixtures } from '../helpers/fixtures.js';
import { runCli } from '../helpers/cli.js';

const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;

/** Counts the live buffers (and their bytes) created through `ctx.device`. */
function trackBuffers(ctx: GpuContext): { count: () => number; bytes: () => number } {
  const live = new Map<GPUBuffer, number>();
  const device = ctx.device as GPUDevice & { createBuffer: GPUDevice['createBuffer'] };
  const create = device.createBuffer.bind(device);
  device.createBuffer = (desc: GPUBufferDescriptor): GPUBuffer => {
    const buffer = create(desc);
    const destroy = buffer.destroy.bind(buffer);
    buffer.destroy = () => {
      live.delete(buffer);
      destroy();
    };
    live.set(buffer, desc.size);
    return buffer;
  };
  return {
    count: () => live.size,
    bytes: () => [...live.values()].reduce((a, b) => a + b, 0),
  };
}

describe('WebGPU memory', () => {
  it('every buffer is destroyed when a model is unloaded, again and again', async () => {
    const ctx = await createGpuContext();
    const live = trackBuffers(ctx);
    const ck = await openCheckpoint(fx.files[0]);
    const model = await describeModel(ck);
    try {
      for (let round = 0; round < 3; round++) {
        const g = await WebGpuBackend.load(model, { context: ctx, maxRows: 8, initialSlots: 1 });
        // Exercise every allocating path: states and the pool's growth, prefill, batches,
        // GPU top-k, forks and the greedy loop, readbacks.
        const states = [0, 1, 2, 3].map(() => g.createState());
        await g.forward(states[0], fx.reference.tokens.slice(0, 12));
        await g.forwardBatch(states, [1, 2, 3, 4]);
        await states[1].sync();
        const sessions = new GpuSessions(g);
        const a = sessions.open();
        await sessions.step([{ slot: a, tokens: [5, 6] }], { topK: 4 });
        await sessions.step([{ slot: a, tokens: [9] }]);
        const b = await sessions.fork(a);
        await sessions.greedy([a, b], [7, 8], 3);
        await sessions.read(b);
        sessions.dispose();

        assert.ok(live.count() > 0 && live.bytes() >= g.memory().weights, 'buffers were counted');
        await g.dispose();
        assert.equal(live.count(), 0, `round ${round}: ${live.bytes()} bytes left alive`);
      }
    } finally {
      await ck.close();
      ctx.destroy();
    }
  });

  it('the state pool costs what `rwkv info` reports per session', async () => {
    const ctx = await createGpuContext();
    const ck = await openCheckpoint(fx.files[0]);
    const model = await describeModel(ck);
    const g = await WebGpuBackend.load(model, { context: ctx, maxRows: 8, initialSlots: 1 });
    try {
      const info = await runCli(['info', '--json', fx.files[0]]);
      assert.equal(info.code, 0, info.stderr);
      const reported = JSON.parse(info.stdout.toString()).state_bytes_per_session as number;
      assert.equal(reported, stateFloats(model.config) * 4);
      assert.equal(g.memory().perSession, reported);

      // Growing the pool to hold more sessions adds exactly that much per session.
      const before = g.memory().pooled;
      const states = Array.from({ length: 6 }, () => g.createState());
      await g.forwardBatch(
        states,
        states.map((_, i) => i + 1),
      );
      const after = g.memory().pooled;
      assert.ok(after > before, 'the pool grew');
      assert.equal(after % reported, 0, 'pool bytes are a whole number of sessions');
      assert.ok(after / reported >= 6, 'every session of the batch has a slot');
    } finally {
      await g.dispose();
      await ck.close();
      ctx.destroy();
    }
  });
});
