// The activation buffer's sizing: bytes per row of step capacity, and the default capacity
// that keeps them within an eighth of the weights (act-layout.ts defaultMaxRows).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actFloatsPerRow, defaultMaxRows } from '../../src/backends/webgpu/act-layout.js';
import { standardConfig, type StandardSize } from '../../src/model/synthetic.js';

// GPU bytes of the bf16 weights as the benchmark's models upload them (bench/RESULTS.md,
// `memory.weights` of the eleventh session's rows).
const WEIGHTS: Record<StandardSize, number> = {
  '0.1B': 382_427_136,
  '0.4B': 0, // not measured; skipped below
  '1.5B': 3_050_405_888,
  '2.9B': 5_888_122_880,
  '7.2B': 14_319_943_680,
};

describe('activation sizing', () => {
  it('defaults to 256 rows, more where an eighth of the weights holds them, at most 2048', () => {
    const rows: Record<string, number> = {};
    for (const [size, bytes] of Object.entries(WEIGHTS)) {
      if (bytes === 0) continue;
      const perRow = actFloatsPerRow(standardConfig(size as StandardSize, 65536)) * 4;
      const r = defaultMaxRows(bytes, perRow);
      rows[size] = r;
      assert.ok([256, 512, 1024, 2048].includes(r), `${size}: ${r}`);
      // The rule: doubling once more would pass an eighth of the weights (or the 2048 cap).
      if (r > 256) assert.ok(r * perRow <= bytes / 8, `${size}: ${r} rows over budget`);
      if (r < 2048) assert.ok(2 * r * perRow > bytes / 8, `${size}: ${r} rows could double`);
    }
    // What the benchmark's models get (its prefill figures use these chunks by default).
    assert.deepEqual(rows, { '0.1B': 256, '1.5B': 1024, '2.9B': 2048, '7.2B': 2048 });
  });

  it('never goes below 256 rows, however small the model', () => {
    assert.equal(defaultMaxRows(1_000_000, 500_000), 256);
    assert.equal(defaultMaxRows(0, 1), 256);
  });
});
