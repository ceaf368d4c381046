import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ByteTokenizer } from '../../src/tokenizer/byte.js';

describe('byte tokenizer', () => {
  it('maps every byte to its own id and back', () => {
    const tok = new ByteTokenizer();
    const all = Uint8Array.from({ length: 256 }, (_, i) => 255 - i);
    const ids = tok.encodeBytes(all);
    assert.deepEqual(ids, [...all]);
    assert.deepEqual(tok.decodeBytes(ids), all);
    assert.equal(tok.vocabSize, 256);
    assert.equal(tok.endOfText, 0);
  });

  it('round-trips text through UTF-8 bytes', () => {
    const tok = new ByteTokenizer();
    const text = 'héllo 中文 😀\n\0end';
    const ids = tok.encode(text);
    assert.deepEqual(ids, [...Buffer.from(text, 'utf8')]);
    assert.equal(tok.decode(ids), text);
  });

  it('streams multi-byte characters only once complete', () => {
    const tok = new ByteTokenizer();
    const decoder = tok.createDecoder();
    const pieces = tok.encode('é😀').map((id) => decoder.push(id));
    assert.deepEqual(pieces, ['', 'é', '', '', '', '😀']);
    assert.equal(decoder.push(0xe4), '');
    assert.equal(decoder.flush(), '\ufffd');
  });

  it('gives ids 256..vocabSize-1 no bytes and rejects ids beyond', () => {
    const tok = new ByteTokenizer(1024);
    assert.equal(tok.vocabSize, 1024);
    assert.equal(tok.decode([104, 300, 105, 1023]), 'hi');
    assert.equal(tok.tokenBytes(500).length, 0);
    assert.throws(() => tok.decode([1024]), /outside the bytes tokenizer's range 0\.\.1023/);
    assert.throws(() => new ByteTokenizer(100), /vocabSize >= 256/);
  });
});
