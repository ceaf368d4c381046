// Every reference fixture through the WebGPU backend against the CPU backend (and the official
// outputs): per-token logits within 1e-3 of the logits' std, identical greedy continuation,
// final state within 1e-3 (max|Δ| / std).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { greedyTokens, modelFixtures, std, maxAbsDiff } from '../helpers/fixtures.js';
import { backendsFor, gpu, relDiff } from './gpu-test-helpers.js';

const TOLERANCE = 1e-3;

after(async () => (await gpu()).destroy());

describe('WebGPU backend on the reference fixtures', () => {
  for (const fx of modelFixtures()) {
    it(`${fx.name}: logits per token, greedy tokens and final state match the CPU backend`, async () => {
      const ck = await openCheckpoint(fx.files[0]);
      const { cpu, gpu: g } = await backendsFor(ck);
      await ck.close();
      const ref = fx.reference;
      const sc = cpu.createState();
      const sg = g.createState();
      // Prefill returns the logits after every token (the same rows as token-by-token steps;
      // prefill-batch.test.ts checks that equivalence separately).
      const want = await cpu.forwardAll(sc, ref.tokens);
      const got = await g.forwardAll(sg, ref.tokens);
      got.forEach((row, t) => {
        const rel = relDiff(row, want[t]);
        assert.ok(rel <= TOLERANCE, `token ${t}: max|Δ|/std vs CPU = ${rel}`);
      });
      // Against the official float64 outputs too (the CPU backend meets 1e-4 there).
      const expected = fx.logits();
      const V = g.config.vocabSize;
      const firstRow = ref.tokens.length - ref.logits_rows;
      const refStd = std(expected);
      for (let r = 0; r < ref.logits_rows; r++) {
        const rel = maxAbsDiff(got[firstRow + r], expected.subarray(r * V, (r + 1) * V)) / refStd;
        assert.ok(rel <= TOLERANCE, `row ${firstRow + r}: max|Δ|/std vs reference = ${rel}`);
      }
      await sg.sync();
      assert.ok(
        relDiff(sg.data, sc.data) <= TOLERANCE,
        `state vs CPU: ${relDiff(sg.data, sc.data)}`,
      );
      assert.ok(relDiff(sg.data, fx.state()) <= TOLERANCE, `state vs reference`);

      const greedy = await greedyTokens(g, sg, got[got.length - 1], ref.greedy.length);
      assert.deepEqual(greedy, ref.greedy);
      await g.dispose();
    });
  }
});
