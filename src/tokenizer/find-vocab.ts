// Finding the World vocab file that goes with a model: the project may not ship the vocab, so a
// user keeps it beside the model (as the official RWKV releases are usually laid out).

import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { TokenizerError } from './tokenizer.js';

/** The published name of the World vocab file. */
export const WORLD_VOCAB_FILE = 'rwkv_vocab_v20230424.txt';

/**
 * The vocab file in the model's folder: rwkv_vocab_v20230424.txt if present, otherwise the only
 * *.txt file with "vocab" in its name. `modelPath` may be the model file or its folder.
 * Throws a TokenizerError that says where it looked (and what it found, if ambiguous).
 */
export function findVocabBeside(modelPath: string): string {
  const folder = isDirectory(modelPath) ? modelPath : dirname(modelPath);
  const exact = join(folder, WORLD_VOCAB_FILE);
  if (existsSync(exact)) return exact;

  let names: string[] = [];
  try {
    names = readdirSync(folder);
  } catch {
    throw new TokenizerError(
      `no vocab file beside model ${modelPath}: cannot list folder ${folder}; pass --vocab PATH`,
    );
  }
  const candidates = names
    .filter((name) => /vocab/i.test(name) && /\.txt$/i.test(name))
    .sort()
    .map((name) => join(folder, name));
  if (candidates.length === 1) return candidates[0];
  if (candidates.length > 1) {
    throw new TokenizerError(
      `several vocab files beside model ${modelPath}: ${candidates.join(', ')}; ` +
        'pass --vocab PATH to choose one',
    );
  }
  throw new TokenizerError(
    `no vocab file beside model ${modelPath}: looked for ${exact} and for *vocab*.txt in ` +
      `${folder}; put ${WORLD_VOCAB_FILE} there or pass --vocab PATH`,
  );
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
