// Chunked prefill and batched decode on the GPU give what single token steps give; sessions
// kept on the GPU join and leave between steps and can be read, written and forked alone.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GpuSessions } from '../../src/backends/webgpu/sessions.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import type { RwkvState } from '../../src/runtime/state.js';
import { argmax, modelFixtures } from '../helpers/fixtures.js';
import { stepShape } from '../../src/backends/webgpu/step-shape.js';
import {
  backendsFor,
  gpu,
  HEAD64_CONFIG,
  oneStepMatchesSeparateRuns,
  relDiff,
} from './gpu-test-helpers.js';

const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;
const prompt = fx.reference.tokens;

async function tinyA(maxRows: number) {
  const ck = await openCheckpoint(fx.files[0]);
  const { gpu: g } = await backendsFor(ck, { maxRows, initialSlots: 2 });
  await ck.close();
  return g;
}

after(async () => (await gpu()).destroy());

describe('WebGPU prefill and batched decode', () => {
  it('chunked prefill gives the same state and logits as token-by-token steps', async () => {
    // 7 rows per step: 40 tokens in 6 chunks, through both the matvec (≤ 8 rows) and the tiled
    // kernels (the 5-token last chunk uses matvec, full chunks of 7 too; 12-row chunks tile).
    for (const maxRows of [7, 12]) {
      const g = await tinyA(maxRows);
      const step = g.createState();
      const stepRows: Float32Array[] = [];
      for (const t of prompt) stepRows.push(await g.forward(step, [t]));
      const chunked = g.createState();
      const last = await g.forward(chunked, prompt);
      assert.ok(relDiff(last, stepRows[stepRows.length - 1]) <= 1e-4, `maxRows ${maxRows}: logits`);
      await Promise.all([chunked.sync(), step.sync()]);
      assert.ok(relDiff(chunked.data, step.data) <= 1e-4, `maxRows ${maxRows}: state`);
      const all = await g.forwardAll(g.createState(), prompt);
      all.forEach((row, t) => assert.ok(relDiff(row, stepRows[t]) <= 1e-4, `row ${t}`));
      await g.dispose();
    }
  });

  it('batches of 3 and 8 sessions (matvec with 2 output rows per thread) equal separate runs', async () => {
    const g = await tinyA(64);
    for (const n of [3, 8]) {
      // Session i feeds prompt[i + s] at step s: every row of the batch has its own input.
      const inputs = Array.from({ length: n }, (_, i) => prompt.slice(i, i + 3));
      const batched = inputs.map(() => g.createState());
      let rows: Float32Array[] = [];
      for (let s = 0; s < 3; s++) {
        rows = await g.forwardBatch(
          batched,
          inputs.map((p) => p[s]),
        );
      }
      for (let i = 0; i < n; i++) {
        const alone = g.createState();
        let logits: Float32Array = new Float32Array();
        for (const t of inputs[i]) logits = await g.forward(alone, [t]);
        assert.ok(relDiff(rows[i], logits) <= 1e-4, `batch ${n}, session ${i}: logits`);
        await Promise.all([alone.sync(), batched[i].sync()]);
        assert.ok(relDiff(batched[i].data, alone.data) <= 1e-4, `batch ${n}, session ${i}: state`);
      }
    }
    await g.dispose();
  });

  it('batched decode of 5 different prompts equals 5 separate runs, sessions joining and leaving', async () => {
    const g = await tinyA(64);
    const prompts = [
      prompt.slice(0, 9),
      prompt.slice(5, 11),
      prompt.slice(20, 40),
      [7],
      prompt.slice(3, 15),
    ];
    const separate: { state: RwkvState; logits: Float32Array }[] = [];
    for (const p of prompts) {
      const s = g.createState();
      let logits: Float32Array = new Float32Array();
      for (const t of p) logits = await g.forward(s, [t]);
      separate.push({ state: s, logits });
    }
    // One token per session per step; a session joins at a staggered step and leaves when its
    // prompt is done, so batch membership changes between steps.
    const states = prompts.map(() => g.createState());
    const logits: Float32Array[] = prompts.map(() => new Float32Array());
    const start = [0, 2, 0, 5, 1];
    for (let step = 0; ; step++) {
      const members = prompts
        .map((p, i) => ({ i, pos: step - start[i] }))
        .filter(({ i, pos }) => pos >= 0 && pos < prompts[i].length);
      if (members.length === 0 && step > 5) break;
      if (members.length === 0) continue;
      const rows = await g.forwardBatch(
        members.map((m) => states[m.i]),
        members.map((m) => prompts[m.i][m.pos]),
      );
      members.forEach((m, j) => (logits[m.i] = rows[j]));
    }
    await Promise.all([...states, ...separate.map((s) => s.state)].map((s) => s.sync()));
    prompts.forEach((_, i) => {
      assert.ok(relDiff(logits[i], separate[i].logits) <= 1e-4, `session ${i}: logits`);
      assert.ok(relDiff(states[i].data, separate[i].state.data) <= 1e-4, `session ${i}: state`);
    });
    await g.dispose();
  });

  it('a chunk that reads no logits records no head pass; an empty step is refused', async () => {
    // The head and the final LayerNorm run only for rows whose logits are read (runner.ts).
    const g = await tinyA(12);
    const slot = new GpuSessions(g).open();
    const device = (await gpu()).device;
    for (const n of [5, 10]) {
      for (const logits of [[], [n - 1]]) {
        await g.runner.encodeStep(device.createCommandEncoder(), [
          { slot, tokens: prompt.slice(0, n), logits },
        ]);
        const labels = g.runner.lastLabels;
        assert.equal(labels.includes('head'), logits.length > 0, `${n} rows, logits ${logits}`);
        assert.ok(labels.length > 10, `${n} rows: ${labels.length} dispatches`);
      }
    }
    // No sequences: nothing to compute, and Dawn would warn about every zero-sized dispatch.
    await assert.rejects(
      g.runner.encodeStep(device.createCommandEncoder(), []),
      /at least one sequence/,
    );
    await g.dispose();
  });

  it('stepShape: the single form for one token of one sequence; gathered only in multi-row steps wanting some logits', () => {
    const shape = (rows: number, seqs: number, out: number) => {
      const { form, gather } = stepShape(HEAD64_CONFIG, rows, seqs, out, true);
      return `${form} ${gather}`;
    };
    assert.equal(shape(1, 1, 1), 'single false');
    assert.equal(shape(1, 1, 0), 'single false');
    assert.equal(shape(9, 1, 1), 'multi true');
    assert.equal(shape(9, 1, 0), 'multi true');
    assert.equal(shape(9, 1, 9), 'multi false'); // forwardAll: every row
    assert.equal(shape(4, 4, 4), 'multi false'); // batched decode
    assert.equal(shape(6, 4, 4), 'multi true'); // a prompt chunk among decode rows
  });

  it('the last channel mix runs over the rows that want logits only (none, one or all)', async () => {
    // step-program.ts Dispatch.gather: the other rows' last ffn output is never read. Its
    // results are checked against the CPU and single steps by the other tests of this folder.
    const g = await tinyA(12);
    const slot = new GpuSessions(g).open();
    const device = (await gpu()).device;
    const L = g.config.nLayer;
    const n = 9;
    const cases: [number[], number, boolean][] = [
      [[], L - 1, false], // no logits: the last layer's ffn is skipped
      [[n - 1], L, true], // one row: gathered
      [[2, n - 1], L, true],
      [[...Array(n).keys()], L, false], // every row: over all rows, as decode does
    ];
    for (const [logits, ffnKeys, gathered] of cases) {
      await g.runner.encodeStep(device.createCommandEncoder(), [
        { slot, tokens: prompt.slice(0, n), logits },
      ]);
      const labels = g.runner.lastLabels;
      const what = `logits of rows ${logits}`;
      assert.equal(labels.filter((l) => l === 'ffn-key').length, ffnKeys, what);
      assert.equal(labels.filter((l) => l === 'ffn-value').length, ffnKeys, what);
      assert.equal(labels.includes('ffn-gather'), gathered, what);
      assert.equal(labels.filter((l) => l === 'ln-out').length, logits.length > 0 ? 1 : 0, what);
    }
    await g.dispose();
  });

  it('ten sequences of three tokens in one step: the gathered last channel mix on 10 rows', async () => {
    // 30 rows, 10 wanting logits: more than the matvec's 8, so the gathered ffn takes the tiled
    // GEMM with its rows counted by the step's logit rows (mSel 1).
    const g = await tinyA(32);
    const parts = Array.from({ length: 10 }, (_, i) => prompt.slice(i * 3, i * 3 + 3));
    const labels = await oneStepMatchesSeparateRuns(g, parts);
    assert.ok(labels.includes('ffn-gather'));
    await g.dispose();
  });

  it('GPU-resident sessions: read/write/fork one without disturbing others; top-k and greedy on the GPU', async () => {
    const g = await tinyA(64);
    const sessions = new GpuSessions(g);
    const a = sessions.open();
    const b = sessions.open();
    const [ra, rb] = await sessions.step([
      { slot: a, tokens: prompt.slice(0, 10) },
      { slot: b, tokens: prompt.slice(10, 14) },
    ]);
    const stateB = await sessions.read(b);
    // Rewriting and forking a must leave b alone.
    const snapshotA = await sessions.read(a);
    await sessions.write(a, g.createState());
    const c = await sessions.fork(a);
    assert.ok(relDiff((await sessions.read(b)).data, stateB.data) === 0, 'b changed');
    assert.ok(
      (await sessions.read(c)).data.every((v) => v === 0),
      'fork of a zeroed state is not zero',
    );
    await sessions.write(a, snapshotA);

    // The CPU-object API on the same model gives the same logits.
    const check = g.createState();
    const want = await g.forward(check, prompt.slice(0, 10));
    assert.ok('logits' in ra && relDiff(ra.logits, want) <= 1e-5);
    assert.ok('logits' in rb);

    // Top-k on the GPU equals sorting the logits on the CPU.
    const [top] = await sessions.step([{ slot: a, tokens: [5] }], { topK: 8 });
    const full = await g.forward(check, [5]);
    const order = [...full.keys()].sort((x, y) => full[y] - full[x] || x - y).slice(0, 8);
    assert.ok('top' in top);
    assert.deepEqual(
      top.top.map((t) => t.token),
      order,
    );

    // Greedy decoding fed back on the GPU equals argmax steps through forward().
    const gen = await sessions.greedy([a, c], [9, 9], 6);
    const cpuSide: number[] = [];
    let tok = 9;
    for (let i = 0; i < 6; i++) {
      tok = argmax(await g.forward(check, [tok]));
      cpuSide.push(tok);
    }
    assert.deepEqual(gen[0], cpuSide);
    assert.equal(gen[1].length, 6);
    [a, b, c].forEach((s) => sessions.close(s));
    sessions.dispose();
    await g.dispose();
  });
});
