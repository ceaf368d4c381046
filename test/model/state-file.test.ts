import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CpuBackend } from '../../src/backends/cpu/cpu-backend.js';
import { describeModel } from '../../src/model/model-file.js';
import { syntheticCheckpoint } from '../../src/model/synthetic.js';
import { loadModel } from '../../src/runtime/load.js';
import { loadStateFile, saveStateFile } from '../../src/runtime/state-file.js';
import { modelFixtures } from '../helpers/fixtures.js';

const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;

describe('saved states', () => {
  it('save, load and continue gives bit-identical logits to the uninterrupted run', async () => {
    const backend = await loadModel(fx.files[0]);
    const tokens = fx.reference.tokens;
    const half = Math.floor(tokens.length / 2);

    const straight = backend.createState();
    const straightLogits = await backend.forwardAll(straight, tokens);

    const first = backend.createState();
    await backend.forward(first, tokens.slice(0, half));
    const dir = await mkdtemp(join(tmpdir(), 'rwkv-state-'));
    const file = join(dir, 'conv.state');
    await saveStateFile(file, first, { tokens: half });

    const { state: resumed, meta } = await loadStateFile(file, backend.model);
    assert.deepEqual(meta, { tokens: half });
    const resumedLogits = await backend.forwardAll(resumed, tokens.slice(half));
    for (let i = 0; i < resumedLogits.length; i++) {
      assert.deepEqual(resumedLogits[i], straightLogits[half + i], `row ${half + i}`);
    }
    assert.deepEqual(resumed.data, straight.data);
  });

  it('a forked state evolves independently of its origin', async () => {
    const backend = await loadModel(fx.files[0]);
    const a = backend.createState();
    await backend.forward(a, [1, 2, 3]);
    const b = a.clone();
    const la = await backend.forward(a, [4]);
    const lb = await backend.forward(b, [4]);
    assert.deepEqual(la, lb);
    await backend.forward(b, [5]);
    assert.notDeepEqual(a.data, b.data);
  });

  it('a state for a model of another shape is rejected with a clear message', async () => {
    const tiny = await loadModel(fx.files[0]);
    const other = await CpuBackend.load(
      await describeModel(
        syntheticCheckpoint({
          ...tiny.config,
          nLayer: 1,
          lora: { ...tiny.config.lora, valueResidual: 0 },
        }),
      ),
    );
    const dir = await mkdtemp(join(tmpdir(), 'rwkv-state-'));
    const file = join(dir, 'other.state');
    await saveStateFile(file, other.createState());
    await assert.rejects(loadStateFile(file, tiny.model), (err: Error) => {
      assert.match(err.message, /other\.state: state is for a model of shape RWKV x070 L1 C128/);
      assert.match(err.message, /this model is RWKV x070 L2 C128/);
      return true;
    });
  });

  it('a state saved with other weights of the same shape is rejected unless allowed', async () => {
    const tiny = await loadModel(fx.files[0]);
    const twin = await CpuBackend.load(await describeModel(syntheticCheckpoint(tiny.config)));
    const dir = await mkdtemp(join(tmpdir(), 'rwkv-state-'));
    const file = join(dir, 'twin.state');
    await saveStateFile(file, twin.createState());
    await assert.rejects(loadStateFile(file, tiny.model), /saved with other weights/);
    const { state } = await loadStateFile(file, tiny.model, { allowOtherWeights: true });
    assert.equal(state.data.length, tiny.createState().data.length);
  });

  it('corrupt and truncated state files give errors naming the file', async () => {
    const backend = await loadModel(fx.files[0]);
    const dir = await mkdtemp(join(tmpdir(), 'rwkv-state-'));
    const good = join(dir, 'good.state');
    await saveStateFile(good, backend.createState());
    const bytes = await readFile(good);
    const cases: [string, Uint8Array, RegExp][] = [
      ['empty.state', new Uint8Array(0), /too short/],
      ['magic.state', new TextEncoder().encode('NOTASTATEFILE...'), /bad magic/],
      ['cut.state', bytes.subarray(0, bytes.length - 100), /expected \d+ bytes of state data/],
      ['header.state', bytes.subarray(0, 40), /truncated header/],
    ];
    for (const [name, data, why] of cases) {
      const file = join(dir, name);
      await writeFile(file, data);
      await assert.rejects(loadStateFile(file, backend.model), (err: Error) => {
        assert.ok(err.message.startsWith(file), err.message);
        assert.match(err.message, why);
        return true;
      });
    }
  });
});
