// States advanced by the WebGPU backend stay on the GPU between calls and come back only when
// the CPU asks: the results must be those of the CPU backend whatever the CPU does in between
// (reads, writes, resets, other backends, eviction, disposal).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { loadStateFile, saveStateFile } from '../../src/runtime/state-file.js';
import { StateOnDeviceError } from '../../src/runtime/state.js';
import { modelFixtures } from '../helpers/fixtures.js';
import { backendsFor, gpu, relDiff } from './gpu-test-helpers.js';

const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;
const prompt = fx.reference.tokens;

async function pair(maxResidentStates?: number) {
  const ck = await openCheckpoint(fx.files[0]);
  const both = await backendsFor(ck, { maxRows: 16, initialSlots: 1, maxResidentStates });
  await ck.close();
  return both;
}

after(async () => (await gpu()).destroy());

describe('WebGPU resident states', () => {
  it('stay on the GPU after a call, come back on sync, and follow CPU-side changes', async () => {
    const { cpu, gpu: g } = await pair();
    const sg = g.createState();
    const sc = cpu.createState();
    await g.forward(sg, prompt.slice(0, 6));
    await cpu.forward(sc, prompt.slice(0, 6));
    assert.equal(sg.onDevice, true);
    assert.throws(() => sg.data, StateOnDeviceError);
    assert.throws(() => sg.clone(), StateOnDeviceError);
    // A new state is all zeros: its slot is cleared on the GPU, no floats uploaded.
    assert.equal(g.memory().stateUploads, 0, 'a new state was uploaded');
    const snap = await sg.snapshot();
    assert.equal(sg.onDevice, false);
    assert.ok(relDiff(snap.data, sc.data) <= 1e-4, 'synced state');

    // Later calls reuse the slot while the CPU only reads (sync, snapshot): no upload.
    for (const t of prompt.slice(6, 9)) {
      const a = await g.forward(sg, [t]);
      const b = await cpu.forward(sc, [t]);
      assert.ok(relDiff(a, b) <= 1e-4, 'logits after a reused slot');
    }
    assert.equal(g.memory().stateUploads, 0, 'a resident state was uploaded');

    // CPU-side writes between calls reach the GPU: reset, copyFrom, a direct write.
    sg.reset();
    sc.reset();
    assert.ok(relDiff(await g.forward(sg, [5]), await cpu.forward(sc, [5])) <= 1e-4, 'reset');
    assert.equal(g.memory().stateUploads, 0, 'a reset state was uploaded, not cleared');
    const other = cpu.createState();
    await cpu.forward(other, prompt.slice(0, 4));
    sg.copyFrom(other);
    sc.copyFrom(other);
    assert.ok(relDiff(await g.forward(sg, [7]), await cpu.forward(sc, [7])) <= 1e-4, 'copyFrom');
    assert.equal(g.memory().stateUploads, 1, 'copied data must be uploaded');
    await sg.sync();
    sg.data[3] += 0.5;
    sc.data[3] += 0.5;
    assert.ok(relDiff(await g.forward(sg, [9]), await cpu.forward(sc, [9])) <= 1e-4, 'write');

    // The CPU backend takes a state that the GPU advanced last (it syncs it first).
    const onCpu = await cpu.forward(sg, [11]);
    assert.ok(relDiff(onCpu, await cpu.forward(sc, [11])) <= 1e-4, 'handed to the CPU');
    assert.equal(sg.onDevice, false);
    await g.dispose();
    await cpu.dispose();
  });

  it('evicts the least recently used past the limit without losing data; dispose copies back', async () => {
    const { cpu, gpu: g } = await pair(2);
    const gs = [0, 1, 2].map(() => g.createState());
    const cs = [0, 1, 2].map(() => cpu.createState());
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++) {
        const tok = prompt[(round * 3 + i) % prompt.length];
        const got = await g.forward(gs[i], [tok]);
        const want = await cpu.forward(cs[i], [tok]);
        assert.ok(relDiff(got, want) <= 1e-4, `round ${round} state ${i}`);
        assert.ok(g.memory().residentStates <= 2, 'resident count over the limit');
      }
    }
    // A batch larger than the limit: all its states stay for the call.
    const rows = await g.forwardBatch(gs, [1, 2, 3]);
    const want = await cpu.forwardBatch(cs, [1, 2, 3]);
    rows.forEach((r, i) => assert.ok(relDiff(r, want[i]) <= 1e-4, `batch row ${i}`));
    await assert.rejects(g.forwardBatch([gs[0], gs[0]], [1, 2]), /appears twice/);

    const dir = await mkdtemp(join(tmpdir(), 'rwkv-resident-'));
    try {
      // Saving syncs by itself.
      await saveStateFile(join(dir, 'a.state'), gs[0]);
      const loaded = await loadStateFile(join(dir, 'a.state'), g.model);
      assert.ok(relDiff(loaded.state.data, cs[0].data) <= 1e-4, 'saved state');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    await g.dispose();
    gs.forEach((s, i) => {
      assert.equal(s.onDevice, false, `state ${i} still on the GPU after dispose`);
      assert.ok(relDiff(s.data, cs[i].data) <= 1e-4, `state ${i} after dispose`);
    });
    await cpu.dispose();
  });
});
