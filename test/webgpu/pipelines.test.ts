// Pipelines compile concurrently (runner.workFor asks for a step's pipelines at once): a kernel
// that fails must be reported under its own name, and the others must still compile.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Pipelines } from '../../src/backends/webgpu/pipelines.js';
import { SGM_TILE_RATE } from '../../src/backends/webgpu/sgm-gemm.js';
import { sgmDefines } from '../../src/backends/webgpu/sgm-source.js';
import { gpu } from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

describe('Pipelines', () => {
  it('reports a failed compile under its kernel while others compile beside it', async () => {
    const ctx = await gpu();
    const P = new Pipelines(ctx, 'bf16');
    const broken = {
      ...sgmDefines(SGM_TILE_RATE.split[0].tile, true, true),
      SG_M: 'not_a_number', // `const SG_M: u32 = not_a_numberu;`: an unresolved identifier
      X_ACT: false,
      TO_LOGITS: false,
      SCRATCH: 0,
    };
    const [first, bad, last] = await Promise.allSettled([
      P.get('argmax', 'argmax', { FINAL: true, FEEDBACK: false }),
      P.get('matmul-sgm', 'matmul', broken),
      P.get('topk', 'topk', { FEEDBACK: true }),
    ]);
    assert.equal(first.status, 'fulfilled', `argmax compiled: ${JSON.stringify(first)}`);
    assert.equal(last.status, 'fulfilled', `topk compiled: ${JSON.stringify(last)}`);
    assert.equal(bad.status, 'rejected', 'the broken kernel failed');
    const why = String((bad as PromiseRejectedResult).reason);
    assert.match(why, /matmul-sgm\.wgsl failed to compile/, why);
    assert.match(why, /not_a_number/, `the message quotes the offending line: ${why}`);
    // The device is still usable: no error was left in a scope for later work to find.
    ctx.throwIfFailed();
    await P.get('argmax', 'argmax', { FINAL: false, FEEDBACK: false });
  });
});
