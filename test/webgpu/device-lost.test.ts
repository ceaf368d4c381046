// A backend whose GPU device is gone fails with an error that says so. Dawn rejects a mapAsync
// on a destroyed or lost device with an AbortError that has no message; a user (or a server
// log) would see an empty error and no hint that the model must be loaded again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { createGpuContext } from '../../src/backends/webgpu/device.js';
// From the public entry: applications tell this failure apart by these classes.
import { BackendUnusableError, GpuDeviceLostError } from '../../src/index.js';
import { GpuSessions } from '../../src/backends/webgpu/sessions.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { describeModel } from '../../src/model/model-file.js';
import { modelFixtures } from '../helpers/fixtures.js';

const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;

async function loaded() {
  const ctx = await createGpuContext();
  const ck = await openCheckpoint(fx.files[0]);
  const be = await WebGpuBackend.load(await describeModel(ck), { context: ctx });
  await ck.close();
  return { ctx, be };
}

describe('WebGPU device lost', () => {
  it('forward after the device is destroyed throws GpuDeviceLostError, not a bare AbortError', async () => {
    const { ctx, be } = await loaded();
    const state = be.createState();
    const first = await be.forward(state, fx.reference.tokens.slice(0, 4));
    assert.equal(first.length, fx.reference.vocab_size);
    assert.equal(be.unusable(), null);
    ctx.device.destroy();
    await assert.rejects(be.forward(state, [1, 2]), (err: unknown) => {
      assert.ok(err instanceof GpuDeviceLostError, String(err));
      assert.ok(err instanceof BackendUnusableError);
      assert.equal(err.reason, 'destroyed');
      assert.match(err.message, /WebGPU device was destroyed/);
      return true;
    });
    assert.ok(be.unusable() instanceof GpuDeviceLostError);
    await be.dispose(); // nothing to copy back: the states went with the device
  });

  it('batched greedy steps after the device is destroyed throw GpuDeviceLostError', async () => {
    const { ctx, be } = await loaded();
    const sessions = new GpuSessions(be);
    const slots = [sessions.open(), sessions.open()];
    await sessions.greedy(slots, [1, 2], 2);
    ctx.device.destroy();
    await assert.rejects(sessions.greedy(slots, [3, 4], 2), GpuDeviceLostError);
  });
});
