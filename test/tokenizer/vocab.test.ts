import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TokenizerError } from '../../src/tokenizer/tokenizer.js';
import { loadWorldTokenizer, readWorldVocab } from '../../src/tokenizer/vocab-file.js';
import { parseWorldVocab } from '../../src/tokenizer/world-vocab.js';
import { vocabPath } from '../helpers/fixtures.js';
import { hex } from './world-cases.js';

const scratch = mkdtempSync(join(tmpdir(), 'rwkv-vocab-test-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function writeVocab(name: string, content: string | Uint8Array): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

const tokenHex = (vocab: ReturnType<typeof parseWorldVocab>, id: number): string =>
  hex(vocab.pool.subarray(vocab.start[id], vocab.start[id] + vocab.length[id]));

describe('World vocab file', () => {
  it('parses lines in every literal style, with spaces inside tokens', () => {
    const text = [
      String.raw`1 '\x00' 1`,
      String.raw`2 b'\x80' 1`,
      `3 ' a b ' 5`,
      String.raw`4 "'" 1`,
      String.raw`5 '\u200b' 3`,
      String.raw`6 '\\' 1`,
      `7 '中文' 6`,
      String.raw`8 '\n\n' 2`,
      String.raw`9 b"\xe4\xb8" 2`,
      '',
    ].join('\n');
    const vocab = parseWorldVocab(text, 'mini.txt', { vocabSize: 16 });
    assert.equal(vocab.vocabSize, 16);
    assert.deepEqual([...vocab.idsInFileOrder], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(tokenHex(vocab, 1), '00');
    assert.equal(tokenHex(vocab, 2), '80');
    assert.equal(tokenHex(vocab, 3), hex(Buffer.from(' a b ')));
    assert.equal(tokenHex(vocab, 4), '27');
    assert.equal(tokenHex(vocab, 5), 'e2808b');
    assert.equal(tokenHex(vocab, 6), '5c');
    assert.equal(tokenHex(vocab, 7), hex(Buffer.from('中文')));
    assert.equal(tokenHex(vocab, 8), '0a0a');
    assert.equal(tokenHex(vocab, 9), 'e4b8');
    assert.equal(vocab.length[10], 0);
  });

  it('accepts CRLF line ends', () => {
    const vocab = parseWorldVocab("1 'a' 1\r\n2 'ab' 2\r\n", 'crlf.txt', { vocabSize: 4 });
    assert.equal(tokenHex(vocab, 2), '6162');
  });

  it('names the file and line of a malformed line', () => {
    const bad: [string, RegExp][] = [
      [
        "1 'a' 1\n2 'bc' 3\n",
        /^bad\.txt:2: token 2 is 2 bytes long once decoded, but the line says 3$/,
      ],
      ["1 'a' 1\n\n3'b'1\n", /^bad\.txt:3: expected "id repr length"/],
      ["x 'a' 1\n", /^bad\.txt:1: token id is not a number in "x 'a' 1"/],
      ["1 'a' one\n", /^bad\.txt:1: token length is not a number in "1 'a' one"/],
      ["0 'a' 1\n", /^bad\.txt:1: token id 0 is outside 1\.\.15 \(id 0 is reserved/],
      ["16 'a' 1\n", /^bad\.txt:1: token id 16 is outside/],
      ["1 'a' 1\n1 'b' 1\n", /^bad\.txt:2: token id 1 was already defined on line 1/],
      [
        "1 'a' 1\n2 'b 1\n",
        /^bad\.txt:2: literal does not end with its opening quote \(byte 4 of the line\)/,
      ],
      ["1 'a' 1\n2 '\\x4' 1\n", /^bad\.txt:2: truncated \\x escape/],
      ["1 '' 0\n", /^bad\.txt:1: empty token/],
      ['', /^bad\.txt: vocab file has no tokens/],
    ];
    for (const [text, message] of bad) {
      assert.throws(
        () => parseWorldVocab(text, 'bad.txt', { vocabSize: 16 }),
        (err: unknown) => err instanceof TokenizerError && message.test(err.message),
        `${JSON.stringify(text)} should fail with ${message}`,
      );
    }
  });

  it('names the file path when reading fails or a line is bad', () => {
    const missing = join(scratch, 'missing.txt');
    assert.throws(() => readWorldVocab(missing), new RegExp(`cannot read vocab file ${missing}`));
    const path = writeVocab('bad-length.txt', "1 'a' 1\n2 'b' 1\n3 'cd' 1\n");
    assert.throws(() => readWorldVocab(path), new RegExp(`${path}:3: token 3 is 2 bytes`));
    const notUtf8 = writeVocab(
      'not-utf8.txt',
      Buffer.concat([Buffer.from("1 'a' 1\n2 '"), Buffer.from([0xff]), Buffer.from("' 1\n")]),
    );
    assert.throws(() => readWorldVocab(notUtf8), new RegExp(`${notUtf8}:2: not valid UTF-8`));
  });

  it('encodes with the later of two ids that have the same bytes, as the official trie does', () => {
    const path = writeVocab('dup.txt', "1 'a' 1\n2 'b' 1\n3 'ab' 2\n4 b'ab' 2\n");
    const tok = loadWorldTokenizer(path, { vocabSize: 8 });
    assert.deepEqual(tok.encode('abab'), [4, 4]);
    assert.equal(tok.decode([3, 4]), 'abab');
  });

  it('takes the longest match, backing off to the last complete token on the path', () => {
    const path = writeVocab('longest.txt', "1 'a' 1\n2 'b' 1\n3 'c' 1\n4 'abc' 3\n5 'abcab' 5\n");
    const tok = loadWorldTokenizer(path, { vocabSize: 8 });
    // "abca" + "b...": 'abcab' is a token, 'abca' is only a prefix; 'abcac' falls back to 'abc'.
    assert.deepEqual(tok.encode('abcab'), [5]);
    assert.deepEqual(tok.encode('abcac'), [4, 1, 3]);
    assert.deepEqual(tok.encode('ab'), [1, 2]);
    assert.throws(() => tok.encode('abz'), /no token matches the bytes at offset 2 \(0x7a\)/);
  });

  it('loads the published vocab: ids 1..65529, every declared length verified', () => {
    const vocab = readWorldVocab(vocabPath);
    assert.equal(vocab.idsInFileOrder.length, 65529);
    assert.equal(tokenHex(vocab, 1), '00');
    assert.equal(tokenHex(vocab, 129), '80'); // b'\x80'
    assert.equal(tokenHex(vocab, 9808), 'e2808b'); // '\u200b'
    assert.equal(vocab.length[65529], 128);
  });
});

describe('findVocabBeside / openTokenizer', async () => {
  const { findVocabBeside } = await import('../../src/tokenizer/find-vocab.js');
  const { openTokenizer } = await import('../../src/tokenizer/load.js');

  it('prefers rwkv_vocab_v20230424.txt in the model folder', () => {
    const dir = join(scratch, 'exact');
    mkdirSync(dir);
    writeFileSync(join(dir, 'rwkv_vocab_v20230424.txt'), "1 'a' 1\n");
    writeFileSync(join(dir, 'other_vocab.txt'), "1 'a' 1\n");
    assert.equal(findVocabBeside(join(dir, 'model.pth')), join(dir, 'rwkv_vocab_v20230424.txt'));
    assert.equal(findVocabBeside(dir), join(dir, 'rwkv_vocab_v20230424.txt'));
  });

  it('takes the only *vocab*.txt file, and refuses to guess between several', () => {
    const dir = join(scratch, 'one');
    mkdirSync(dir);
    writeFileSync(join(dir, 'World_Vocab.TXT'), "1 'a' 1\n");
    writeFileSync(join(dir, 'notes.txt'), '');
    assert.equal(findVocabBeside(join(dir, 'm.pth')), join(dir, 'World_Vocab.TXT'));
    writeFileSync(join(dir, 'vocab2.txt'), "1 'a' 1\n");
    assert.throws(
      () => findVocabBeside(join(dir, 'm.pth')),
      /several vocab files .*World_Vocab\.TXT.*vocab2\.txt/,
    );
  });

  it('says where it looked when there is none', () => {
    const dir = join(scratch, 'none');
    mkdirSync(dir);
    assert.throws(
      () => findVocabBeside(join(dir, 'model.pth')),
      (err: unknown) =>
        err instanceof TokenizerError &&
        err.message.includes(join(dir, 'rwkv_vocab_v20230424.txt')) &&
        err.message.includes(`*vocab*.txt in ${dir}`) &&
        err.message.includes('--vocab'),
    );
  });

  it('opens a World tokenizer from --vocab or --model, and the byte tokenizer', () => {
    const dir = join(scratch, 'open');
    mkdirSync(dir);
    writeFileSync(join(dir, 'rwkv_vocab_v20230424.txt'), "1 'a' 1\n2 'b' 1\n3 'ab' 2\n");
    const byModel = openTokenizer({ model: join(dir, 'model.pth') });
    assert.equal(byModel.kind, 'world');
    assert.deepEqual(byModel.encode('abb'), [3, 2]);
    assert.equal(openTokenizer({ kind: 'bytes' }).kind, 'bytes');
    assert.throws(() => openTokenizer({}), /needs its vocab file .*--vocab PATH/);
  });
});
