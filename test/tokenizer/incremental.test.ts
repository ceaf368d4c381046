import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Utf8StreamDecoder } from '../../src/tokenizer/utf8-stream.js';
import { fromHex, worldCases, worldTokenizer } from './world-cases.js';

// The reference: a whole, non-fatal decode (ignoreBOM so U+FEFF stays text, as in the decoder).
const wholeDecode = (bytes: Uint8Array): string =>
  new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);

/** Streams ids one at a time; checks every emitted piece extends a prefix of `expected`. */
function streamIds(ids: number[], expected: string, label: string): string {
  const decoder = worldTokenizer().createDecoder();
  let out = '';
  for (const id of ids) {
    out += decoder.push(id);
    assert.ok(expected.startsWith(out), `${label}: emitted ${JSON.stringify(out)} too early`);
  }
  out += decoder.flush();
  assert.equal(decoder.pendingBytes, 0);
  return out;
}

// A small deterministic PRNG (mulberry32) so failures reproduce.
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Byte pieces that exercise the decoder: valid characters of every length, their truncations,
// and the sequences WHATWG treats specially (overlong, surrogates, above U+10FFFF, bad leads).
const PIECES = [
  '41',
  '0a',
  'c3a9',
  'e4b8ad',
  'f09f9880',
  'efbbbf',
  'c3',
  'e4b8',
  'f09f98',
  'f09f',
  'e0',
  'f0',
  'e080af',
  'e0a080',
  'eda080',
  'ed9fbf',
  'f48fbfbf',
  'f4908080',
  'f5',
  'ff',
  'c0af',
  'c1bf',
  '80',
  'bf',
  'f8888080',
  'ee8080',
].map(fromHex);

describe('incremental decoder', () => {
  it('streams every text case id by id to exactly its text', () => {
    for (const c of worldCases.cases) {
      assert.equal(streamIds(c.ids, c.text, c.text.slice(0, 30)), c.text);
    }
  });

  it('streams every byte case to exactly what a whole decode gives (U+FFFD included)', () => {
    for (const c of worldCases.byte_cases) {
      const expected = wholeDecode(fromHex(c.hex));
      assert.equal(streamIds(c.ids, expected, c.hex), expected, c.hex);
    }
  });

  it('holds the bytes of a character split across tokens until it completes', () => {
    const tok = worldTokenizer();
    // '😀' is 3 tokens in the World vocab (see world-cases.json: [3319, 153, 129]).
    const ids = tok.encode('😀');
    assert.ok(ids.length > 1);
    const decoder = tok.createDecoder();
    for (const id of ids.slice(0, -1)) assert.equal(decoder.push(id), '');
    assert.ok(decoder.pendingBytes > 0);
    assert.equal(decoder.push(ids[ids.length - 1]), '😀');
    assert.equal(decoder.pendingBytes, 0);
  });

  it('flushes an unfinished character as one U+FFFD, like a whole decode', () => {
    const tok = worldTokenizer();
    const ids = tok.encode('😀').slice(0, -1);
    const decoder = tok.createDecoder();
    assert.equal(decoder.pushAll(ids), '');
    assert.equal(decoder.flush(), '\ufffd');
    assert.equal(tok.decode(ids), '\ufffd');
    decoder.reset();
    assert.equal(decoder.pushAll(tok.encode('ok')), 'ok');
  });

  it('matches TextDecoder on random byte soup, chunked at random', () => {
    const random = rng(20230424);
    for (let round = 0; round < 3000; round++) {
      const parts: Uint8Array[] = [];
      const count = 1 + Math.floor(random() * 12);
      for (let i = 0; i < count; i++) parts.push(PIECES[Math.floor(random() * PIECES.length)]);
      const bytes = new Uint8Array(Buffer.concat(parts));
      const expected = wholeDecode(bytes);
      const decoder = new Utf8StreamDecoder();
      let out = '';
      for (let at = 0; at < bytes.length;) {
        const size = 1 + Math.floor(random() * 4);
        out += decoder.write(bytes.subarray(at, at + size));
        assert.ok(
          expected.startsWith(out),
          `round ${round}: early output for ${Buffer.from(bytes).toString('hex')}`,
        );
        at += size;
      }
      out += decoder.end();
      assert.equal(out, expected, `round ${round}: ${Buffer.from(bytes).toString('hex')}`);
    }
  });
});
