// Loading the World vocab from a file (Node only; the parsing itself is in world-vocab.ts).

import { readFileSync } from 'node:fs';
import { TokenizerError } from './tokenizer.js';
import { WorldTokenizer } from './world.js';
import { parseWorldVocab, type VocabOptions, type WorldVocab } from './world-vocab.js';

/** Reads and parses a vocab file; errors name the file (and line). */
export function readWorldVocab(file: string, options: VocabOptions = {}): WorldVocab {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new TokenizerError(`cannot read vocab file ${file}: ${why}`);
  }
  return parseWorldVocab(raw, file, options);
}

/** A World tokenizer from a vocab file (e.g. rwkv_vocab_v20230424.txt). */
export function loadWorldTokenizer(file: string, options: VocabOptions = {}): WorldTokenizer {
  return new WorldTokenizer(readWorldVocab(file, options));
}
