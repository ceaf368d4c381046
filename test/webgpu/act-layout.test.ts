// The activation buffer's sizing: bytes per row of step capacity, and the default capacity
// that keeps them within an eighth of the weights or 256 MiB (act-layout.ts defaultMaxRows).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACT_BYTES_FLOOR,
  actFloatsPerRow,
  defaultMaxRows,
} from '../../src/backends/webgpu/act-layout.js';
import { standardConfig, type StandardSize } from '../../src/model/synthetic.js';

// GPU bytes of the bf16 weights as the benchmark's models upload them (bench/RESULTS.md,
// `memory.weights` of the eleventh and thirteenth sessions' rows).
const WEIGHTS: Record<StandardSize, number> = {
  '0.1B': 382_427_136,
  '0.4B': 905_625_600,
  '1.5B': 3_050_405_888,
  '2.9B': 5_888_122_880,
  '7.2B': 14_319_943_680,
};

describe('activation sizing', () => {
  it('defaults to 256 rows, more where an eighth of the weights or 256 MiB holds them, at most 2048', () => {
    const rows: Record<string, number> = {};
    for (const [size, bytes] of Object.entries(WEIGHTS)) {
      const budget = Math.max(bytes / 8, ACT_BYTES_FLOOR);
      const perRow = actFloatsPerRow(standardConfig(size as StandardSize, 65536)) * 4;
      const r = defaultMaxRows(bytes, perRow);
      rows[size] = r;
      assert.ok([256, 512, 1024, 2048].includes(r), `${size}: ${r}`);
      // The rule: doubling once more would pass the budget (or the 2048 cap).
      if (r > 256) assert.ok(r * perRow <= budget, `${size}: ${r} rows over budget`);
      if (r < 2048) assert.ok(2 * r * perRow > budget, `${size}: ${r} rows could double`);
    }
    // What the benchmark's models get (its prefill figures use these chunks by default).
    assert.deepEqual(rows, {
      '0.1B': 2048,
      '0.4B': 1024,
      '1.5B': 1024,
      '2.9B': 2048,
      '7.2B': 2048,
    });
  });

  it('never goes below 256 rows, however large a row', () => {
    assert.equal(defaultMaxRows(1_000_000, 500_000_000), 256);
    assert.equal(defaultMaxRows(0, 2 ** 20), 256);
  });

  it('gives the smallest models up to 256 MiB of activations', () => {
    // 0.1B-like rows (~0.1 MB): 2048 rows fit 256 MiB whatever the weights weigh.
    assert.equal(defaultMaxRows(0, 100_000), 2048);
    assert.equal(defaultMaxRows(0, 200_000), 1024); // 2048 rows would be 410 MB
  });
});
