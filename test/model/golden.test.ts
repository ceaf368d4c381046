// The definition of correct: the CPU backend against the official implementation's outputs.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/runtime/load.js';
import { greedyTokens, maxAbsDiff, modelFixtures, std } from '../helpers/fixtures.js';

const TOLERANCE = 1e-4; // max|Δ| / std(reference), from the issue

for (const fx of modelFixtures()) {
  describe(`fixture ${fx.name}`, () => {
    for (const file of fx.files) {
      it(`${basename(file)}: per-token logits, final state and greedy tokens match the reference`, async () => {
        const backend = await loadModel(file, { device: 'cpu' });
        const c = backend.config;
        const ref = fx.reference;
        assert.deepEqual(
          [c.nLayer, c.nEmbd, c.vocabSize, c.headSize, c.nHead],
          [ref.n_layer, ref.n_embd, ref.vocab_size, ref.head_size, ref.n_head],
        );
        const state = backend.createState();
        const rows: Float32Array[] = [];
        for (const tok of ref.tokens) rows.push(await backend.forward(state, [tok]));

        const expected = fx.logits();
        const V = c.vocabSize;
        const firstRow = ref.tokens.length - ref.logits_rows; // tiny-world stores the last row only
        const refStd = std(expected);
        for (let r = 0; r < ref.logits_rows; r++) {
          const got = rows[firstRow + r];
          const want = expected.subarray(r * V, (r + 1) * V);
          const rel = maxAbsDiff(got, want) / refStd;
          assert.ok(rel <= TOLERANCE, `row ${firstRow + r}: max|Δ|/std = ${rel}`);
        }

        const refState = fx.state();
        const stateRel = maxAbsDiff(state.data, refState) / std(refState);
        assert.ok(stateRel <= TOLERANCE, `state: max|Δ|/std = ${stateRel}`);

        const greedy = await greedyTokens(backend, state, rows[rows.length - 1], ref.greedy.length);
        assert.deepEqual(greedy, ref.greedy);
        await backend.dispose();
      });
    }

    it('sequence mode gives the same last logits and state as token-by-token', async () => {
      const backend = await loadModel(fx.files[0]);
      const stepState = backend.createState();
      let stepLogits: Float32Array = new Float32Array();
      for (const tok of fx.reference.tokens) stepLogits = await backend.forward(stepState, [tok]);
      const seqState = backend.createState();
      const seqLogits = await backend.forward(seqState, fx.reference.tokens);
      assert.ok(maxAbsDiff(seqLogits, stepLogits) / std(stepLogits) <= 1e-5);
      assert.ok(maxAbsDiff(seqState.data, stepState.data) / std(stepState.data) <= 1e-5);
      // forwardAll returns one row per token, the last equal to forward's result.
      const allRows = await backend.forwardAll(backend.createState(), fx.reference.tokens);
      assert.equal(allRows.length, fx.reference.tokens.length);
      assert.ok(maxAbsDiff(allRows[allRows.length - 1], stepLogits) / std(stepLogits) <= 1e-5);
    });
  });
}
