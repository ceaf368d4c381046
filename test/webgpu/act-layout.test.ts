// The activation buffer's layout and sizing: which regions share memory (and only those), the
// default step capacity that keeps the buffer within an eighth of the weights or 256 MiB
// (act-layout.ts defaultMaxRows), and the most rows one binding holds (rowsWithin).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACT_BYTES_FLOOR,
  MAX_DEFAULT_ROWS,
  actBytes,
  actLayout,
  defaultMaxRows,
  rowsWithin,
} from '../../src/backends/webgpu/act-layout.js';
import type { RwkvConfig } from '../../src/model/config.js';
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

/** A model too wide for 256 default rows in 256 MiB (1.8 MB of activations per row). */
function wideConfig(): RwkvConfig {
  const c = standardConfig('7.2B', 65536);
  return { ...c, nEmbd: 32768, ffnDim: 4 * 32768, nHead: 512 };
}

describe('activation layout', () => {
  it('shares memory only between regions that are never live together', () => {
    const c = standardConfig('2.9B', 65536);
    const a = actLayout(c, 100);
    const C = c.nEmbd;
    // [start, end) in floats of every region.
    const regions: Record<string, [number, number]> = {
      x: [a.x, a.x + a.plane],
      mix: [a.mix, a.mix + 6 * a.plane],
      rkv: [a.rkv, a.rkv + 3 * a.plane],
      hid: [a.hid, a.hid + a.rows * a.hidStride],
      vFirst: [a.vFirst, a.vFirst + a.plane],
      y: [a.y, a.y + a.plane],
      ffnIn: [a.ffnIn, a.ffnIn + a.plane],
      normed: [a.normed, a.normed + a.plane],
      bonus: [a.bonus, a.bonus + a.rows * c.nHead],
      scratch: [a.scratch, a.scratch + a.scratchFloats],
    };
    const names = Object.keys(regions);
    for (const p of names) {
      const [s, e] = regions[p];
      assert.ok(s >= 0 && e <= a.totalFloats, `${p} lies outside the buffer`);
      for (const q of names) {
        if (p >= q) continue;
        const [s2, e2] = regions[q];
        assert.ok(e <= s2 || e2 <= s, `${p} and ${q} overlap`);
      }
    }
    // The two shared regions: relu(key)² over the time mix's planes (F = 4·C ≤ 6·C), and the
    // chunked scan's ṽ, ŷ over the k and v projections.
    assert.equal(c.ffnDim, 4 * C);
    assert.equal(a.ffnHid, a.mix);
    assert.equal(a.wkvChunkVecs, a.rkv + a.plane);
    assert.ok(a.wkvChunkVecs + 2 * a.plane <= a.rkv + 3 * a.plane);
  });

  it('gives an FFN wider than the six mix planes a region of its own', () => {
    const c = { ...standardConfig('0.1B', 65536) };
    c.ffnDim = 7 * c.nEmbd;
    const a = actLayout(c, 10);
    assert.ok(a.ffnHid >= a.mix + 6 * a.plane || a.ffnHid + 10 * c.ffnDim <= a.mix);
    assert.ok(a.ffnHid + 10 * c.ffnDim <= a.totalFloats);
  });
});

describe('activation sizing', () => {
  it('defaults to 256 rows, more where an eighth of the weights or 256 MiB holds them, at most 4096', () => {
    const rows: Record<string, number> = {};
    for (const [size, bytes] of Object.entries(WEIGHTS)) {
      const c = standardConfig(size as StandardSize, 65536);
      const budget = Math.max(bytes / 8, ACT_BYTES_FLOOR);
      const r = defaultMaxRows(c, bytes);
      rows[size] = r;
      assert.ok([256, 512, 1024, 2048, 4096].includes(r), `${size}: ${r}`);
      // The rule: doubling once more would pass the budget (or the cap).
      if (r > 256) assert.ok(actBytes(c, r) <= budget, `${size}: ${r} rows over budget`);
      if (r < MAX_DEFAULT_ROWS)
        assert.ok(actBytes(c, 2 * r) > budget, `${size}: ${r} could double`);
    }
    // What the benchmark's models get (its prefill figures use these chunks by default).
    assert.deepEqual(rows, {
      '0.1B': 4096,
      '0.4B': 2048,
      '1.5B': 2048,
      '2.9B': 4096,
      '7.2B': 4096,
    });
  });

  it('never goes below 256 rows, however large a row', () => {
    const c = wideConfig();
    assert.ok(actBytes(c, 256) > ACT_BYTES_FLOOR);
    assert.equal(defaultMaxRows(c, 0), 256);
  });

  it('gives small models up to 256 MiB of activations whatever their weights weigh', () => {
    const c = standardConfig('0.4B', 65536);
    // 2048 rows of 0.4B: ~187 MB, within 256 MiB though an eighth of nothing is nothing.
    assert.ok(actBytes(c, 2048) <= ACT_BYTES_FLOOR && actBytes(c, 4096) > ACT_BYTES_FLOOR);
    assert.equal(defaultMaxRows(c, 0), 2048);
  });

  it('finds the most rows one binding holds', () => {
    for (const size of ['0.1B', '2.9B'] as const) {
      const c = standardConfig(size, 65536);
      for (const bytes of [2 ** 27, 2 ** 31, actBytes(c, 777)]) {
        const r = rowsWithin(c, bytes);
        assert.ok(actBytes(c, r) <= bytes, `${size}, ${bytes} B: ${r} rows do not fit`);
        assert.ok(actBytes(c, r + 1) > bytes, `${size}, ${bytes} B: ${r + 1} rows fit too`);
      }
      assert.equal(rowsWithin(c, actBytes(c, 777)), 777);
    }
    assert.equal(rowsWithin(wideConfig(), 1000), 1); // nothing fits: one row, as before
  });
});
