import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RwkvConfig } from '../../src/model/config.js';
import { detectGeneration, inferConfig } from '../../src/model/detect.js';
import { describeModel } from '../../src/model/model-file.js';
import { standardConfig, syntheticCheckpoint } from '../../src/model/synthetic.js';
import type { Checkpoint, TensorEntry } from '../../src/io/tensor.js';
import { expectedTensors } from '../../src/model/weight-names.js';

const small: RwkvConfig = {
  version: 'x070',
  nLayer: 3,
  nEmbd: 128,
  headSize: 32,
  nHead: 4,
  vocabSize: 300,
  ffnDim: 448,
  lora: { decay: 16, iclr: 24, valueResidual: 8, gate: 40 },
};

function edit(ck: Checkpoint, fn: (m: Map<string, TensorEntry>) => void): Checkpoint {
  const m = new Map(ck.tensors);
  fn(m);
  return { ...ck, path: 'edited.pth', tensors: m };
}

describe('model shape inference and validation', () => {
  it('infers every dimension and LoRA rank from tensor shapes', async () => {
    const model = await describeModel(syntheticCheckpoint(small));
    assert.deepEqual(model.config, small);
    const big = standardConfig('1.5B', 1000);
    assert.deepEqual(inferConfig('x', syntheticShapes(big)), big);
  });

  it('names a missing tensor and its expected shape', async () => {
    const ck = edit(syntheticCheckpoint(small), (m) => m.delete('blocks.2.att.k_a'));
    await assert.rejects(
      describeModel(ck),
      /edited\.pth: .*missing tensor blocks\.2\.att\.k_a \(expected shape \[1, 1, 128\]\)/s,
    );
  });

  it('names a tensor with a wrong shape and the expected one', async () => {
    const ck = edit(syntheticCheckpoint(small), (m) => {
      const t = m.get('blocks.1.ffn.value.weight')!;
      m.set(t.name, { ...t, shape: [128, 447] });
    });
    await assert.rejects(
      describeModel(ck),
      /tensor blocks\.1\.ffn\.value\.weight has shape \[128, 447\], expected \[128, 448\]/,
    );
  });

  it('reports unexpected extra tensors', async () => {
    const ck = edit(syntheticCheckpoint(small), (m) => {
      const t = m.get('ln_out.bias')!;
      m.set('blocks.0.att.v0', { ...t, name: 'blocks.0.att.v0', shape: [1, 1, 128] });
    });
    await assert.rejects(describeModel(ck), /unexpected tensors for RWKV-7: blocks\.0\.att\.v0/);
  });

  it('recognises older RWKV generations and says they are not supported yet', () => {
    const v = (names: string[]) => new Map(names.map((n) => [n, [1]] as const));
    const cases: [string[], string, RegExp][] = [
      [['blocks.0.att.time_maa_x', 'blocks.0.att.time_faaaa'], 'v6', /RWKV-6 \(Finch\)/],
      [['blocks.0.att.time_faaaa', 'blocks.0.att.time_mix_k'], 'v5', /RWKV-5 \(Eagle\)/],
      [['blocks.0.att.time_first', 'blocks.0.att.time_decay'], 'v4', /RWKV-4/],
      [['model.layers.0.self_attn.q_proj.weight'], 'unknown', /not an RWKV checkpoint/],
    ];
    for (const [names, gen, message] of cases) {
      assert.equal(detectGeneration(v(names)), gen);
      assert.throws(
        () => inferConfig('old.pth', v(names)),
        (err: Error) => {
          assert.match(err.message, /^old\.pth: /);
          assert.match(err.message, message);
          return true;
        },
      );
    }
  });
});

/** Shapes only: a 1.5B model's weights are not materialised in a unit test. */
function syntheticShapes(c: RwkvConfig): Map<string, readonly number[]> {
  return new Map(expectedTensors(c).map(({ name, shape }) => [name, shape] as const));
}
