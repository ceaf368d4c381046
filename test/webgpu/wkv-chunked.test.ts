// The chunked prefill scan (kernels/wkv-chunk-mats.wgsl + wkv-chunk-scan.wgsl) against the
// serial one and against token-by-token steps: chunk boundaries inside and at the end of a
// step, a last chunk shorter than 16 tokens, several sequences of different lengths in one step.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  chooseWkvScan,
  CHUNKED_SCAN_WORKGROUP_BYTES,
  scanShape,
} from '../../src/backends/webgpu/wkv-scan-form.js';
import { decodeF32, decodeF32Into, encodeF32 } from '../../src/io/dtype.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import type { Checkpoint } from '../../src/io/tensor.js';
import { syntheticCheckpoint } from '../../src/model/synthetic.js';
import { argmax, modelFixtures } from '../helpers/fixtures.js';
import {
  backendsFor,
  gpu,
  HEAD64_CONFIG,
  oneStepMatchesSeparateRuns,
  relDiff,
} from './gpu-test-helpers.js';

after(async () => (await gpu()).destroy());

async function load(name: string, maxRows: number, wkvScan: 'serial' | 'chunked') {
  const fx = modelFixtures().find((f) => f.name === name)!;
  const ck = await openCheckpoint(fx.files[0]);
  const { gpu: g } = await backendsFor(ck, { maxRows, initialSlots: 4, wkvScan });
  await ck.close();
  return { g, tokens: fx.reference.tokens };
}

/** `ck` with every layer's `leaf` vector (att.w0, …) shifted by `add`. */
function shifted(ck: Checkpoint, shifts: Record<string, number>): Checkpoint {
  const tensors = new Map(ck.tensors);
  for (const [name, t] of ck.tensors) {
    const add = shifts[name.replace(/^blocks\.\d+\./, '')];
    if (add === undefined) continue;
    const bytes = (async () => {
      const v = decodeF32(await t.readBytes(), t.dtype).map((x) => x + add);
      return encodeF32(v, t.dtype);
    })();
    tensors.set(name, {
      ...t,
      readBytes: () => bytes,
      readF32: async () => decodeF32(await bytes, t.dtype),
      readF32Into: async (out) => decodeF32Into(await bytes, t.dtype, out),
    });
  }
  return { ...ck, tensors };
}

const wide = HEAD64_CONFIG;

/**
 * `ck` through the chunked scan in steps of `maxRows` against the CPU backend: every row's logits
 * and the final state within 1e-4 of their std, the same argmax on every row.
 */
async function chunkedMatchesCpu(
  what: string,
  ck: Checkpoint,
  maxRows: number,
  tokens: number[],
): Promise<void> {
  const { cpu, gpu: g } = await backendsFor(ck, { maxRows, wkvScan: 'chunked' });
  const sc = cpu.createState();
  const sg = g.createState();
  const want = await cpu.forwardAll(sc, tokens);
  const got = await g.forwardAll(sg, tokens);
  let worst = 0;
  got.forEach((row, t) => {
    worst = Math.max(worst, relDiff(row, want[t]));
    assert.equal(argmax(row), argmax(want[t]), `token ${t}: argmax differs`);
  });
  await sg.sync();
  const st = relDiff(sg.data, sc.data);
  if (process.env.SHOW) console.log(what, 'logits', worst, 'state', st);
  assert.ok(worst <= 1e-4, `logits: max|Δ|/std = ${worst}`);
  assert.ok(st <= 1e-4, `state: max|Δ|/std = ${st}`);
  await g.dispose();
}

describe('chunked wkv scan', () => {
  // The extremes of the recurrence over 100 tokens (steps of 64 + 36: chunks of 16 and a last
  // one of 4): decays at their floor exp(−e^{−1/2}) ≈ 0.545 (the smallest products Γ over a
  // chunk) with in-context rates near 1 (the largest rank-1 removal), and decays near 1.
  for (const [what, shifts] of [
    ['strongest decay, iclr near 1', { 'att.w0': 8, 'att.a0': 8 }],
    ['decay near 1', { 'att.w0': -12 }],
  ] as const) {
    it(`synthetic model, ${what}: matches the CPU backend`, async () => {
      const ck = shifted(syntheticCheckpoint(wide, { seed: 5 }), shifts);
      const tokens = Array.from({ length: 100 }, (_, i) => (i * 37 + 11) % wide.vocabSize);
      await chunkedMatchesCpu(what, ck, 64, tokens);
    });
  }

  // More than 32 heads take the scan's other shape (wkv-scan-form.ts scanShape: 32 value rows
  // per workgroup, two rows per dot-product thread); the fixtures have 2 to 4 heads.
  it('synthetic model with 40 heads (the 32-row scan): matches the CPU backend', async () => {
    const manyHeads = { ...wide, nLayer: 1, nEmbd: 40 * 64, nHead: 40, ffnDim: 256 };
    assert.deepEqual(scanShape(manyHeads.nHead), { rows: 32, dotRows: 2 });
    const ck = shifted(syntheticCheckpoint(manyHeads, { seed: 7 }), { 'att.a0': 4 });
    // 70 tokens in steps of 48 + 22: whole chunks, then one of 6 tokens.
    const tokens = Array.from({ length: 70 }, (_, i) => (i * 53 + 5) % manyHeads.vocabSize);
    await chunkedMatchesCpu('40 heads', ck, 48, tokens);
  });

  for (const name of ['tiny-a', 'tiny-fp16']) {
    it(`${name}: equals the serial scan and single steps (steps of 64, 23 and 16 tokens)`, async () => {
      for (const maxRows of [64, 23, 16]) {
        const chunked = await load(name, maxRows, 'chunked');
        const serial = await load(name, maxRows, 'serial');
        const tokens = chunked.tokens;
        const sc = chunked.g.createState();
        const ss = serial.g.createState();
        const a = await chunked.g.forwardAll(sc, tokens);
        const b = await serial.g.forwardAll(ss, tokens);
        const worst = Math.max(...a.map((row, t) => relDiff(row, b[t])));
        if (process.env.SHOW) console.log(name, maxRows, 'logits', worst);
        assert.ok(worst <= 1e-4, `maxRows ${maxRows}: logits ${worst}`);
        await Promise.all([sc.sync(), ss.sync()]);
        const d = relDiff(sc.data, ss.data);
        if (process.env.SHOW) console.log(name, maxRows, 'state', d);
        assert.ok(d <= 1e-4, `maxRows ${maxRows}: state ${d}`);
        // Single steps (the decode kernels) as a third opinion on the last row.
        const one = chunked.g.createState();
        let last: Float32Array = new Float32Array();
        for (const t of tokens) last = await chunked.g.forward(one, [t]);
        assert.ok(relDiff(a[a.length - 1], last) <= 1e-4, `maxRows ${maxRows}: vs single steps`);
        await chunked.g.dispose();
        await serial.g.dispose();
      }
    });
  }

  it('several sequences of different lengths in one step equal separate runs', async () => {
    const { g, tokens } = await load('tiny-a', 64, 'chunked');
    await oneStepMatchesSeparateRuns(g, [
      tokens.slice(0, 17),
      tokens.slice(17, 22),
      tokens.slice(3, 36),
    ]);
    await g.dispose();
  });

  it('auto takes the chunked form only where the workgroup memory allows it', () => {
    const saved = process.env.RWKV_WEBGPU_WKV_SCAN;
    delete process.env.RWKV_WEBGPU_WKV_SCAN;
    try {
      assert.equal(chooseWkvScan(undefined, CHUNKED_SCAN_WORKGROUP_BYTES), 'chunked');
      assert.equal(chooseWkvScan('auto', 16384), 'serial');
      // The scan's 32-row workgroups (30 208 bytes) need more than the matrices pass (25 664).
      assert.equal(CHUNKED_SCAN_WORKGROUP_BYTES, 30208);
      assert.equal(chooseWkvScan('auto', 28 * 1024), 'serial');
      // 16 rows up to 32 heads (4 workgroups a head fill the H100 without doubling up).
      assert.deepEqual(scanShape(32), { rows: 16, dotRows: 1 });
      assert.deepEqual(scanShape(64), { rows: 32, dotRows: 2 });
      assert.equal(chooseWkvScan('serial', 1 << 16), 'serial');
      assert.throws(() => chooseWkvScan('chunked', 16384), /needs \d+ bytes of workgroup memory/);
      process.env.RWKV_WEBGPU_WKV_SCAN = 'serial';
      assert.equal(chooseWkvScan(undefined, 1 << 16), 'serial');
      process.env.RWKV_WEBGPU_WKV_SCAN = 'sideways';
      assert.throws(() => chooseWkvScan(undefined, 1 << 16), /unknown wkv scan form 'sideways'/);
    } finally {
      if (saved === undefined) delete process.env.RWKV_WEBGPU_WKV_SCAN;
      else process.env.RWKV_WEBGPU_WKV_SCAN = saved;
    }
  });
});
