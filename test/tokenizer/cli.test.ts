import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { vocabPath } from '../helpers/fixtures.js';
import { worldCases } from './world-cases.js';

const scratch = mkdtempSync(join(tmpdir(), 'rwkv-tokenize-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('rwkv tokenize / detokenize', () => {
  const sample = worldCases.cases.find((c) => c.text.startsWith('User: hi'))!;

  it('tokenize --text prints the ids as a JSON array', async () => {
    const r = await runCli(['tokenize', '--vocab', vocabPath, '--text', sample.text]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.toString()), sample.ids);
  });

  it('tokenize --file reads raw bytes; detokenize --file prints them back exactly', async () => {
    const textFile = join(scratch, 'in.txt');
    writeFileSync(textFile, sample.text);
    const r = await runCli(['tokenize', '--vocab', vocabPath, '--file', textFile]);
    assert.equal(r.code, 0, r.stderr);
    const idsFile = join(scratch, 'ids.json');
    writeFileSync(idsFile, r.stdout);
    const back = await runCli(['detokenize', '--vocab', vocabPath, '--file', idsFile]);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout.toString('utf8'), sample.text);
  });

  it('detokenize --ids --hex prints the bytes as hex', async () => {
    const c = worldCases.byte_cases[0];
    const r = await runCli([
      'detokenize',
      '--vocab',
      vocabPath,
      '--ids',
      JSON.stringify(c.ids),
      '--hex',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString().trim(), c.hex);
  });

  it('fails with a message naming where it looked when no vocab is beside --model', async () => {
    const model = join(scratch, 'model.pth');
    const r = await runCli(['tokenize', '--model', model, '--text', 'hi']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /no vocab file beside model .*model\.pth: looked for .*rwkv_vocab_v20230424\.txt/,
    );
  });
});
