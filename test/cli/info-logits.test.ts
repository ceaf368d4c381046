import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { maxAbsDiff, modelFixtures, readF32File, std } from '../helpers/fixtures.js';

const fx = modelFixtures().find((f) => f.name === 'tiny-fp16')!;

describe('rwkv info / logits', () => {
  it('info prints version, shape, parameters, dtype and state size', async () => {
    const r = await runCli(['info', fx.files[0], '--json']);
    assert.equal(r.code, 0, r.stderr);
    const info = JSON.parse(r.stdout.toString());
    const ref = fx.reference;
    assert.equal(info.version, 'RWKV-7 (x070)');
    assert.equal(info.n_layer, ref.n_layer);
    assert.equal(info.n_embd, ref.n_embd);
    assert.equal(info.dtype, 'f16');
    // Per layer: two token-shift vectors + H·N·N wkv floats, 4 bytes each.
    const C = ref.n_embd;
    assert.equal(info.state_bytes_per_session, ref.n_layer * (2 * C + C * ref.head_size) * 4);
    assert.ok(info.parameters > ref.vocab_size * C * 2);

    const text = await runCli(['info', fx.files[0]]);
    assert.match(text.stdout.toString(), /version\s+RWKV-7 \(x070\)/);
    assert.match(text.stdout.toString(), /state\s+[\d,]+ bytes per session/);
  });

  it('logits writes one float32 row per token, equal to the reference', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rwkv-cli-'));
    const out = join(dir, 'logits.f32');
    const tokens = fx.reference.tokens.slice(0, 6);
    const r = await runCli([
      'logits',
      '--model',
      fx.files[0],
      '--tokens',
      tokens.join(','),
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const got = readF32File(out);
    const V = fx.reference.vocab_size;
    assert.equal(got.length, tokens.length * V);
    const want = fx.logits().subarray(0, tokens.length * V);
    assert.ok(maxAbsDiff(got, want) / std(want) <= 1e-4);
  });

  it('bad input gives a message and a non-zero exit, not a crash', async () => {
    const missing = await runCli(['info', '/nonexistent/model.pth']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /^rwkv: .*\/nonexistent\/model\.pth/m);
    const badTokens = await runCli([
      'logits',
      '--model',
      fx.files[0],
      '--tokens',
      '1,x',
      '--out',
      '/tmp/x',
    ]);
    assert.notEqual(badTokens.code, 0);
    assert.match(badTokens.stderr, /not a comma-separated list of token ids/);
    const outOfVocab = await runCli([
      'logits',
      '--model',
      fx.files[0],
      '--tokens',
      '99999',
      '--out',
      '/tmp/x',
    ]);
    assert.notEqual(outOfVocab.code, 0);
    assert.match(outOfVocab.stderr, /token id 99999 is outside the vocabulary/);
  });

  it('--gemm names a bad kernel, and refuses a kernel choice for the CPU backend', async () => {
    const args = ['logits', '--model', fx.files[0], '--tokens', '1', '--out', '/tmp/x'];
    const bad = await runCli([...args, '--gemm', 'fp8']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown gemm kernel "fp8" \(expected auto, f16 or f32\)/);
    const cpu = await runCli([...args, '--device', 'cpu', '--gemm', 'f16']);
    assert.notEqual(cpu.code, 0);
    assert.match(cpu.stderr, /gemm 'f16' chooses the WebGPU backend's matrix kernel/);
  });

  it('--step-tokens takes a whole number ≥ 1, and only for the WebGPU backend', async () => {
    const args = ['logits', '--model', fx.files[0], '--tokens', '1', '--out', '/tmp/x'];
    const zero = await runCli([...args, '--step-tokens', '0']);
    assert.notEqual(zero.code, 0);
    assert.match(zero.stderr, /"0" is not a whole number of tokens ≥ 1/);
    const cpu = await runCli([...args, '--device', 'cpu', '--step-tokens', '64']);
    assert.notEqual(cpu.code, 0);
    assert.match(cpu.stderr, /step tokens \(64\) size the WebGPU backend's steps/);
  });
});
