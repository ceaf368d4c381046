// The worker-thread CPU backend must give bit-identical logits and states to the single-threaded
// one: every output element is the same dot product in the same order, only computed elsewhere.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CpuBackend } from '../../src/backends/cpu/cpu-backend.js';
import type { RwkvConfig } from '../../src/model/config.js';
import { describeModel, type ModelFile } from '../../src/model/model-file.js';
import { syntheticCheckpoint } from '../../src/model/synthetic.js';
import { openModel } from '../../src/runtime/load.js';
import { modelFixtures, repoRoot } from '../helpers/fixtures.js';

/** Every product goes to the pool (tiny models are below the default size threshold). */
const ALL_PARALLEL = { threads: 2, minParallelWork: 0 };

/** Index of the first element whose bits differ (-0 vs 0 and NaN payloads count), or -1. */
function firstBitDifference(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}

function assertBitIdentical(got: Float32Array, want: Float32Array, what: string): void {
  const i = firstBitDifference(got, want);
  assert.equal(i, -1, `${what}: element ${i} differs (${got[i]} vs ${want[i]})`);
}

/** Sequence, per-token decode and batch runs; returns every logits row and final state. */
async function runAll(
  backend: CpuBackend,
  tokens: number[],
  batch: number[],
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  const seq = backend.createState();
  out.push(...(await backend.forwardAll(seq, tokens)), seq.data);
  const step = backend.createState();
  for (const tok of tokens.slice(0, 3)) out.push(await backend.forward(step, [tok]));
  out.push(step.data);
  const states = batch.map(() => backend.createState());
  out.push(...(await backend.forwardBatch(states, batch)), ...states.map((s) => s.data));
  return out;
}

async function compareThreads(model: ModelFile, tokens: number[], batch: number[]) {
  const single = await CpuBackend.load(model, { threads: 1 });
  const pooled = await CpuBackend.load(model, ALL_PARALLEL);
  try {
    assert.equal(single.threads, 1);
    assert.equal(pooled.threads, 2);
    const want = await runAll(single, tokens, batch);
    const got = await runAll(pooled, tokens, batch);
    assert.equal(got.length, want.length);
    got.forEach((g, i) => assertBitIdentical(g, want[i], `output ${i}`));
    assert.equal(single.workerBlocks, 0);
    assert.ok(pooled.workerBlocks > 0, 'the worker thread computed no block at all');
  } finally {
    await single.dispose();
    await pooled.dispose();
  }
}

describe('CPU backend with worker threads', () => {
  it('tiny-fp16 fixture: threads=2 gives bit-identical logits and states to threads=1', async () => {
    const fx = modelFixtures().find((f) => f.name === 'tiny-fp16')!;
    const model = await openModel(fx.files[0]);
    try {
      const tokens = fx.reference.tokens.slice(0, 24);
      await compareThreads(model, tokens, tokens.slice(0, 8));
    } finally {
      await model.checkpoint.close();
    }
  });

  it('synthetic model of odd sizes: threads=2 gives bit-identical logits and states', async () => {
    const config: RwkvConfig = {
      version: 'x070',
      nLayer: 2,
      nEmbd: 192,
      headSize: 64,
      nHead: 3,
      vocabSize: 1001,
      ffnDim: 700,
      lora: { decay: 32, iclr: 32, valueResidual: 32, gate: 64 },
    };
    const model = await describeModel(syntheticCheckpoint(config, { seed: 11 }));
    // 67 tokens: one full 64-token chunk and a partial one. A batch of 66 states is one
    // 66-token product, wider than a pool job (64 tokens), so the pool splits it in two.
    const tokens = Array.from({ length: 67 }, (_, i) => (i * 389) % config.vocabSize);
    await compareThreads(model, tokens, tokens.slice(1));
  });

  it('after dispose() products run on the calling thread with the same results', async () => {
    const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;
    const model = await openModel(fx.files[0]);
    const backend = await CpuBackend.load(model, ALL_PARALLEL);
    await model.checkpoint.close();
    const before = await backend.forward(backend.createState(), fx.reference.tokens);
    await backend.dispose();
    const blocks = backend.workerBlocks;
    const after = await backend.forward(backend.createState(), fx.reference.tokens);
    assertBitIdentical(after, before, 'logits after dispose');
    assert.equal(backend.workerBlocks, blocks);
  });

  it('rejects a thread count that is not a whole number ≥ 1', async () => {
    const fx = modelFixtures().find((f) => f.name === 'tiny-a')!;
    const model = await openModel(fx.files[0]);
    try {
      for (const threads of [0, -1, 1.5]) {
        await assert.rejects(CpuBackend.load(model, { threads }), /whole number ≥ 1/);
      }
    } finally {
      await model.checkpoint.close();
    }
  });

  it("runs through tsx's register() API and lets the process exit without dispose()", async () => {
    // What bin/rwkv.js does: no --import flag, tsx registered from code.
    const backendUrl = pathToFileURL(join(repoRoot, 'src/backends/cpu/cpu-backend.ts')).href;
    const loadUrl = pathToFileURL(join(repoRoot, 'src/runtime/load.ts')).href;
    const fixture = join(repoRoot, '../shared/fixtures/rwkv7/tiny-a/model.pth');
    const script = `
      import { register } from 'tsx/esm/api';
      register();
      const { CpuBackend } = await import(${JSON.stringify(backendUrl)});
      const { openModel } = await import(${JSON.stringify(loadUrl)});
      const model = await openModel(${JSON.stringify(fixture)});
      const backend = await CpuBackend.load(model, ${JSON.stringify(ALL_PARALLEL)});
      await backend.forward(backend.createState(), Array.from({ length: 32 }, (_, i) => i));
      console.log(JSON.stringify({ threads: backend.threads, workerBlocks: backend.workerBlocks }));
      // no dispose(): the unreferenced worker must not keep the process alive`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: repoRoot,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((ok) => child.on('close', ok));
    clearTimeout(timer);
    assert.equal(code, 0, `child exited with ${code}; stderr: ${stderr}`);
    const report = JSON.parse(stdout) as { threads: number; workerBlocks: number };
    assert.equal(report.threads, 2);
    assert.ok(report.workerBlocks > 0, 'the worker thread computed no block at all');
  });
});
