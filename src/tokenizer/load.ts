// One entry point for the CLI, runtime and server to get a tokenizer from user options:
// a World tokenizer from --vocab (or the vocab found beside --model), or the byte tokenizer.

import { ByteTokenizer } from './byte.js';
import { findVocabBeside, WORLD_VOCAB_FILE } from './find-vocab.js';
import { TokenizerError, type Tokenizer } from './tokenizer.js';
import { loadWorldTokenizer } from './vocab-file.js';

export type TokenizerKind = 'world' | 'bytes';

export interface TokenizerOptions {
  /** 'world' (default) or 'bytes'. */
  kind?: TokenizerKind;
  /** Path of the World vocab file. */
  vocab?: string;
  /** Path of the model; when `vocab` is not given, the vocab is looked for beside it. */
  model?: string;
  /** Number of ids (the model's vocab size); defaults: 65536 for world, 256 for bytes. */
  vocabSize?: number;
}

export function openTokenizer(options: TokenizerOptions): Tokenizer {
  const kind = options.kind ?? 'world';
  if (kind === 'bytes') return new ByteTokenizer(options.vocabSize ?? 256);
  if (kind !== 'world') {
    throw new TokenizerError(`unknown tokenizer "${String(kind)}" (expected world or bytes)`);
  }
  const vocabPath = options.vocab ?? (options.model ? findVocabBeside(options.model) : undefined);
  if (vocabPath === undefined) {
    throw new TokenizerError(
      `the World tokenizer needs its vocab file (${WORLD_VOCAB_FILE}): ` +
        'pass --vocab PATH, or --model PATH with the vocab in the same folder',
    );
  }
  return loadWorldTokenizer(vocabPath, { vocabSize: options.vocabSize });
}
