// Tokenizer speed: encodes the shared fixture's `long` text (every case text of
// world-cases.json concatenated, repeated 40 times) with the World tokenizer and prints JSON.
// Usage: node --import tsx bench/tokenizer.ts [--vocab PATH] [--runs N]
// The token count is checked against the fixture, so a fast but wrong encoder fails here.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadWorldTokenizer } from '../src/tokenizer/vocab-file.js';

interface LongCase {
  chars: number;
  utf8_bytes: number;
  n_tokens: number;
}
interface WorldCases {
  cases: { text: string; ids: number[] }[];
  long: LongCase;
}

const shared = fileURLToPath(new URL('../../shared/', import.meta.url));
const { values } = parseArgs({
  options: {
    vocab: { type: 'string', default: `${shared}vocab/rwkv_vocab_v20230424.txt` },
    runs: { type: 'string', default: '20' },
  },
});
const runs = Math.max(1, Number(values.runs));

const loadStart = performance.now();
const tokenizer = loadWorldTokenizer(values.vocab!);
const loadMs = performance.now() - loadStart;

const fixture = JSON.parse(
  readFileSync(`${shared}fixtures/tokenizer/world-cases.json`, 'utf8'),
) as WorldCases;
const text = fixture.cases
  .map((c) => c.text)
  .join('')
  .repeat(40);
const bytes = new TextEncoder().encode(text);
// The fixture counts characters as Python does: code points, not UTF-16 units.
let codePoints = 0;
for (const _ of text) codePoints++;
if (codePoints !== fixture.long.chars || bytes.length !== fixture.long.utf8_bytes) {
  throw new Error(
    `long text is ${codePoints} chars / ${bytes.length} bytes, fixture says ` +
      `${fixture.long.chars} / ${fixture.long.utf8_bytes}`,
  );
}

// Timed runs of `fn`, after a few untimed ones so the JIT has optimized the code.
function time(fn: () => void): number[] {
  for (let i = 0; i < 3; i++) fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b);
}

let ids: number[] = [];
const firstStart = performance.now();
ids = tokenizer.encodeBytes(bytes);
const firstMs = performance.now() - firstStart;
const encodeMs = time(() => {
  ids = tokenizer.encodeBytes(bytes);
});
if (ids.length !== fixture.long.n_tokens) {
  throw new Error(`encoded ${ids.length} tokens, fixture says ${fixture.long.n_tokens}`);
}
let decoded = '';
const decodeMs = time(() => {
  decoded = tokenizer.decode(ids);
});
if (decoded !== text) throw new Error('decode(encode(long)) is not the original text');

const median = (ms: number[]): number => ms[Math.floor(ms.length / 2)];
const mbPerS = (ms: number): number => bytes.length / 1e6 / (ms / 1e3);
console.log(
  JSON.stringify(
    {
      mb_per_s: +mbPerS(median(encodeMs)).toFixed(1),
      mb_per_s_best: +mbPerS(encodeMs[0]).toFixed(1),
      mb_per_s_first_call: +mbPerS(firstMs).toFixed(1),
      tokens_per_s: Math.round(ids.length / (median(encodeMs) / 1e3)),
      bytes: bytes.length,
      tokens: ids.length,
      expected_tokens: fixture.long.n_tokens,
      decode_mb_per_s: +mbPerS(median(decodeMs)).toFixed(1),
      vocab_load_ms: +loadMs.toFixed(1),
      runs,
      node: process.version,
    },
    null,
    2,
  ),
);
