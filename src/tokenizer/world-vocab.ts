// Reader for the RWKV World vocab file as published (rwkv_vocab_v20230424.txt): one token a line,
// `id repr length`, where repr is a Python str or bytes literal (str tokens stand for their UTF-8
// bytes) and length is the token's byte length. The official tokenizer asserts that length, so a
// mismatch here is an error too. Every problem names the file and the 1-based line.
// Pure parsing, no file system, so it also runs in a browser; vocab-file.ts reads files.

import { ByteWriter, LiteralError, parsePythonLiteralInto } from './python-literal.js';
import { TokenizerError } from './tokenizer.js';

/** The World vocabulary: 65536 ids, id 0 = end of text (it has no line in the file). */
export const WORLD_VOCAB_SIZE = 65536;

export interface WorldVocab {
  /** Where the vocab came from (file path or a label), for messages. */
  readonly source: string;
  /** Ids are 0..vocabSize-1; the file may use 1..vocabSize-1. */
  readonly vocabSize: number;
  /** All token bytes back to back, in file order. */
  readonly pool: Uint8Array;
  /** Per id: where its bytes start in `pool`, and how many there are (0 = no token). */
  readonly start: Uint32Array;
  readonly length: Uint32Array;
  /** Ids in file order (the order the official tokenizer inserts them into its trie). */
  readonly idsInFileOrder: Int32Array;
}

export interface VocabOptions {
  /** Number of ids (default 65536, the World vocab); ids in the file must be 1..vocabSize-1. */
  vocabSize?: number;
}

const NEWLINE = 0x0a;
const SPACE = 0x20;

/**
 * Parses the content of a vocab file (UTF-8 bytes, or text); `source` names it in errors.
 * Like Python's open(encoding='utf-8'), bytes that are not valid UTF-8 are an error.
 */
export function parseWorldVocab(
  content: Uint8Array | string,
  source: string,
  options: VocabOptions = {},
): WorldVocab {
  let src = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  if (!isUtf8(src)) throw new TokenizerError(`${source}:${firstInvalidLine(src)}: not valid UTF-8`);
  if (src[0] === 0xef && src[1] === 0xbb && src[2] === 0xbf) src = src.subarray(3); // BOM

  const vocabSize = options.vocabSize ?? WORLD_VOCAB_SIZE;
  const start = new Uint32Array(vocabSize);
  const length = new Uint32Array(vocabSize);
  const lineOfId = new Uint32Array(vocabSize);
  const order: number[] = [];
  // A token's bytes are never more than its literal's, so the file size bounds the pool.
  const pool = new ByteWriter(src.length);

  let lineNo = 0;
  let pos = 0;
  while (pos < src.length) {
    lineNo++;
    let eol = src.indexOf(NEWLINE, pos);
    if (eol < 0) eol = src.length;
    const next = eol + 1;
    if (eol > pos && src[eol - 1] === 0x0d) eol--; // CRLF files
    if (eol === pos) {
      pos = next; // blank line (e.g. the end of the file)
      continue;
    }
    const firstSpace = src.indexOf(SPACE, pos);
    const lastSpace = src.lastIndexOf(SPACE, eol - 1);
    if (firstSpace < 0 || firstSpace >= eol || lastSpace <= firstSpace) {
      fail(source, lineNo, `expected "id repr length", got ${quoteLine(src, pos, eol)}`);
    }
    const id = parseDecimal(src, pos, firstSpace);
    if (id < 0) fail(source, lineNo, `token id is not a number in ${quoteLine(src, pos, eol)}`);
    if (id === 0 || id >= vocabSize) {
      const why = `token id ${id} is outside 1..${vocabSize - 1}`;
      fail(source, lineNo, `${why} (id 0 is reserved for end of text)`);
    }
    if (lineOfId[id] !== 0) {
      fail(source, lineNo, `token id ${id} was already defined on line ${lineOfId[id]}`);
    }
    const declared = parseDecimal(src, lastSpace + 1, eol);
    if (declared < 0)
      fail(source, lineNo, `token length is not a number in ${quoteLine(src, pos, eol)}`);

    const tokenStart = pool.length;
    try {
      parsePythonLiteralInto(src, firstSpace + 1, lastSpace, pool);
    } catch (err) {
      if (!(err instanceof LiteralError)) throw err;
      fail(source, lineNo, `${err.message} (byte ${err.offset - pos + 1} of the line)`);
    }
    const actual = pool.length - tokenStart;
    if (actual === 0) fail(source, lineNo, 'empty token');
    if (actual !== declared) {
      const why = `token ${id} is ${actual} bytes long once decoded`;
      fail(source, lineNo, `${why}, but the line says ${declared}`);
    }
    start[id] = tokenStart;
    length[id] = actual;
    lineOfId[id] = lineNo;
    order.push(id);
    pos = next;
  }
  if (order.length === 0) throw new TokenizerError(`${source}: vocab file has no tokens`);
  return {
    source,
    vocabSize,
    pool: pool.toBytes(),
    start,
    length,
    idsInFileOrder: Int32Array.from(order),
  };
}

function fail(source: string, lineNo: number, problem: string): never {
  throw new TokenizerError(`${source}:${lineNo}: ${problem}`);
}

/** src[from, to) as a non-negative decimal integer, or -1 if it is not one. */
function parseDecimal(src: Uint8Array, from: number, to: number): number {
  if (to <= from || to - from > 15) return -1;
  let value = 0;
  for (let i = from; i < to; i++) {
    const d = src[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

// Only for messages (the line as JSON text), so the loop above allocates nothing per line.
function quoteLine(src: Uint8Array, from: number, to: number): string {
  return JSON.stringify(new TextDecoder().decode(src.subarray(from, to)));
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The 1-based line of the first bytes that are not UTF-8 (only called once that is known). */
function firstInvalidLine(src: Uint8Array): number {
  let lineStart = 0;
  for (let line = 1; lineStart < src.length; line++) {
    let end = src.indexOf(NEWLINE, lineStart);
    if (end < 0) end = src.length;
    if (!isUtf8(src.subarray(lineStart, end))) return line;
    lineStart = end + 1;
  }
  return 1;
}
