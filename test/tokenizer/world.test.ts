import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fixturesDir } from '../helpers/fixtures.js';
import { fromHex, hex, worldCases, worldTokenizer } from './world-cases.js';

const describeText = (text: string): string => JSON.stringify(text).slice(0, 60);

describe('World tokenizer against the official one (world-cases.json)', () => {
  const tok = worldTokenizer();

  it('has the World vocab size and end-of-text id', () => {
    assert.equal(tok.vocabSize, worldCases.vocab_size);
    assert.equal(tok.endOfText, 0);
  });

  it('encodes every text case to exactly the listed ids and decodes it back', () => {
    assert.ok(worldCases.cases.length > 50);
    for (const c of worldCases.cases) {
      assert.deepEqual(tok.encode(c.text), c.ids, `encode ${describeText(c.text)}`);
      assert.equal(tok.decode(c.ids), c.text, `decode ${describeText(c.text)}`);
      assert.deepEqual(
        tok.decodeBytes(c.ids),
        new Uint8Array(Buffer.from(c.text, 'utf8')),
        `decodeBytes ${describeText(c.text)}`,
      );
    }
  });

  it('encodes every byte case (not valid UTF-8) to the listed ids and back to the bytes', () => {
    assert.ok(worldCases.byte_cases.length > 0);
    for (const c of worldCases.byte_cases) {
      assert.deepEqual(tok.encodeBytes(fromHex(c.hex)), c.ids, `encodeBytes ${c.hex}`);
      assert.equal(hex(tok.decodeBytes(c.ids)), c.hex, `decodeBytes ${c.hex}`);
    }
  });

  it('encodes the long text (all case texts x40) to the listed token count', () => {
    const text = worldCases.cases
      .map((c) => c.text)
      .join('')
      .repeat(40);
    const bytes = new TextEncoder().encode(text);
    assert.equal([...text].length, worldCases.long.chars); // Python counts code points
    assert.equal(bytes.length, worldCases.long.utf8_bytes);
    const ids = tok.encodeBytes(bytes);
    assert.equal(ids.length, worldCases.long.n_tokens);
    assert.equal(tok.decode(ids), text);
  });

  it('tokenizes the tiny-world prompt and decodes its greedy ids to the official bytes', () => {
    const ref = JSON.parse(
      readFileSync(join(fixturesDir, 'rwkv7', 'tiny-world', 'reference.json'), 'utf8'),
    ) as { prompt: string; tokens: number[]; greedy: number[]; greedy_bytes_hex: string };
    assert.deepEqual(tok.encode(ref.prompt), ref.tokens);
    assert.equal(hex(tok.decodeBytes(ref.greedy)), ref.greedy_bytes_hex);
  });

  it('gives end of text and unassigned ids no bytes, and rejects ids outside 0..65535', () => {
    assert.equal(tok.tokenBytes(0).length, 0);
    assert.equal(tok.decode([0, 33155, 0]), 'Hello');
    // rwkv_vocab_v20230424 defines ids 1..65529; the model's 65536 rows include 6 more.
    assert.equal(tok.tokenBytes(65529).length, 128);
    assert.equal(tok.tokenBytes(65535).length, 0);
    assert.throws(() => tok.decode([65536]), /outside the world tokenizer's range 0\.\.65535/);
    assert.throws(() => tok.decodeBytes([-1]), /outside/);
    assert.throws(() => tok.tokenBytes(1.5), /outside/);
  });

  it('encodes a text with lone surrogates as TextEncoder does (U+FFFD)', () => {
    assert.deepEqual(tok.encode('a\ud800b'), tok.encode('a\ufffdb'));
  });

  it('keeps a leading byte-order mark when decoding', () => {
    const text = '\ufeffhello';
    assert.equal(tok.decode(tok.encode(text)), text);
  });
});
