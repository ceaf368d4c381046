// Public surface of the tokenizer package.

export { ByteTokenizer } from './byte.js';
export { findVocabBeside, WORLD_VOCAB_FILE } from './find-vocab.js';
export { openTokenizer, type TokenizerKind, type TokenizerOptions } from './load.js';
export { parsePythonLiteral, LiteralError } from './python-literal.js';
export { TokenizerError, type IncrementalDecoder, type Tokenizer } from './tokenizer.js';
export { Utf8StreamDecoder } from './utf8-stream.js';
export { WorldTokenizer } from './world.js';
export { loadWorldTokenizer, readWorldVocab } from './vocab-file.js';
export {
  parseWorldVocab,
  WORLD_VOCAB_SIZE,
  type VocabOptions,
  type WorldVocab,
} from './world-vocab.js';
