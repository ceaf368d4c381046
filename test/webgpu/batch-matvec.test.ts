// Batched decode of 3..8 sequences runs the matrices on matvec.wgsl's STAGED form: X staged in
// workgroup memory a chunk at a time, K split over workgroups where the rows alone would not
// fill the GPU, the partial sums added by the next ln-mix or by a reduce pass. Each batch size
// and weight format (two and one X vec4 per weight vector) must give what the CPU gives for
// every sequence, logits and state, step after step.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { DType } from '../../src/io/tensor.js';
import type { RwkvConfig } from '../../src/model/config.js';
import { syntheticCheckpoint } from '../../src/model/synthetic.js';
import { argmax } from '../helpers/fixtures.js';
import { backendsFor, gpu, relDiff } from './gpu-test-helpers.js';

// C = 1152 and ffnDim 1216: rows of 144 and 152 weight vectors (bf16), several chunks each and
// two K splits for att.output and ffn.value (36 row tiles). Odd LoRA ranks: short rows too.
const wide: RwkvConfig = {
  version: 'x070',
  nLayer: 2,
  nEmbd: 1152,
  headSize: 64,
  nHead: 18,
  vocabSize: 300,
  ffnDim: 1216,
  lora: { decay: 12, iclr: 20, valueResidual: 6, gate: 36 },
};

after(async () => (await gpu()).destroy());

describe('WebGPU batched decode on the staged matvec', () => {
  const cases: [DType, number][] = [
    ['bf16', 3],
    ['bf16', 8],
    ['f32', 5],
    ['f16', 4],
  ];
  for (const [dtype, batch] of cases) {
    it(`${dtype} weights, ${batch} sequences: every row matches the CPU`, async () => {
      const { cpu, gpu: g } = await backendsFor(syntheticCheckpoint(wide, { dtype, seed: 12 }));
      // Each sequence starts from its own prompt (states apart), then three steps in lockstep.
      // (Prompts of ≤ 8 tokens: longer steps need LoRA ranks that are multiples of 32.)
      const prompts = Array.from({ length: batch }, (_, s) =>
        Array.from({ length: 2 + (s % 5) }, (_, t) => (s * 53 + t * 29 + 7) % wide.vocabSize),
      );
      const cs = prompts.map(() => cpu.createState());
      const gs = prompts.map(() => g.createState());
      for (let s = 0; s < batch; s++) {
        await cpu.forward(cs[s], prompts[s]);
        await g.forward(gs[s], prompts[s]);
      }
      for (let step = 0; step < 3; step++) {
        const tokens = prompts.map((_, s) => (s * 17 + step * 61 + 3) % wide.vocabSize);
        const got = await g.forwardBatch(gs, tokens);
        const labels = g.runner.lastLabels;
        // Layer 0's att.output and ffn.value and layer 1's att.output leave their partials to
        // the next ln-mix; layer 1's ffn.value (then the final LayerNorm) to a reduce pass.
        assert.ok(labels.includes('ln-mix+sum'), `step ${step}: no ln-mix adding partials`);
        assert.ok(labels.includes('ffn-value-reduce'), `step ${step}: no reduce pass`);
        for (let s = 0; s < batch; s++) {
          const want = await cpu.forward(cs[s], [tokens[s]]);
          const rel = relDiff(got[s], want);
          assert.ok(rel <= 1e-3, `step ${step}, sequence ${s}: logits max|Δ|/std = ${rel}`);
          assert.equal(argmax(got[s]), argmax(want), `step ${step}, sequence ${s}: argmax`);
        }
      }
      for (let s = 0; s < batch; s++) {
        await gs[s].sync();
        const rel = relDiff(gs[s].data, cs[s].data);
        assert.ok(rel <= 1e-3, `sequence ${s}: state max|Δ|/std = ${rel}`);
      }
      await g.dispose();
    });
  }
});
