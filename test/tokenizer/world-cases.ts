// The World tokenizer fixtures (read in place from ../shared) and one shared tokenizer instance.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadWorldTokenizer } from '../../src/tokenizer/vocab-file.js';
import type { WorldTokenizer } from '../../src/tokenizer/world.js';
import { fixturesDir, vocabPath } from '../helpers/fixtures.js';

export interface WorldCases {
  vocab_size: number;
  cases: { text: string; ids: number[] }[];
  byte_cases: { hex: string; ids: number[] }[];
  long: { chars: number; utf8_bytes: number; n_tokens: number };
}

export const worldCases = JSON.parse(
  readFileSync(join(fixturesDir, 'tokenizer', 'world-cases.json'), 'utf8'),
) as WorldCases;

let shared: WorldTokenizer | undefined;
export function worldTokenizer(): WorldTokenizer {
  shared ??= loadWorldTokenizer(vocabPath);
  return shared;
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
