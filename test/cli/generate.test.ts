import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { modelFixtures } from '../helpers/fixtures.js';

const world = modelFixtures().find((f) => f.name === 'tiny-world')!;
// Relative paths, as a user in the checkout would type them (runCli runs in the repo root).
const model = '../shared/fixtures/rwkv7/tiny-world/model.pth';
const vocab = '../shared/vocab/rwkv_vocab_v20230424.txt';

describe('rwkv generate', () => {
  it('greedy output on stdout is byte-identical to the reference continuation', async () => {
    const ref = world.reference;
    const r = await runCli([
      'generate',
      '--model',
      model,
      '--vocab',
      vocab,
      '--prompt',
      ref.prompt!,
      '--temperature',
      '0',
      '--max-tokens',
      String(ref.greedy.length),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString('hex'), ref.greedy_bytes_hex);
    assert.match(r.stderr, /\[length\] 31 prompt \+ 24 generated tokens/);
    assert.match(r.stderr, /^running on cpu$/m);
  });

  it('--stop ends the output before the stop string, which is not printed', async () => {
    const ref = world.reference;
    const full = Buffer.from(ref.greedy_bytes_hex!, 'hex').toString('utf8');
    // Spans the tokens " Pump", " Ft", " trous" and " humiliation", ending inside the last.
    const stop = 'Pump Ft trous hum';
    const r = await runCli([
      'generate',
      '--model',
      model,
      '--vocab',
      vocab,
      '--prompt',
      ref.prompt!,
      '--temperature',
      '0',
      '--max-tokens',
      String(ref.greedy.length),
      '--stop',
      stop,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString('utf8'), full.slice(0, full.indexOf(stop)));
    assert.match(r.stderr, /\[stop\]/);
  });

  it('explains a bad option', async () => {
    const r = await runCli(['generate', '--model', model, '--prompt', 'x', '--top-p', 'lots']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /"lots" is not a number/);
  });
});
