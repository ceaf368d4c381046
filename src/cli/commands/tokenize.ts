// `rwkv tokenize` (text → ids as a JSON array) and `rwkv detokenize` (ids → text, or hex).
// The World vocab comes from --vocab, or is looked for beside --model.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseTokenizerKind } from '../options.js';
import { openTokenizer, type TokenizerKind } from '../../tokenizer/load.js';

interface TokenizerFlags {
  vocab?: string;
  model?: string;
  tokenizer: TokenizerKind;
}

function addTokenizerOptions(command: Command): Command {
  return command
    .option('--vocab <path>', 'World vocab file (rwkv_vocab_v20230424.txt)')
    .option('--model <path>', 'model file; without --vocab, the vocab is looked for beside it')
    .option('--tokenizer <kind>', 'world or bytes', parseTokenizerKind, 'world' as TokenizerKind);
}

function readFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Parses a JSON array of token ids; `source` names where it came from in the error. */
function parseIds(json: string, source: string): number[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`${source} is not JSON (expected an array of token ids like [33155, 45])`);
  }
  if (!Array.isArray(value) || !value.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new Error(`${source} must be a JSON array of non-negative integer token ids`);
  }
  return value as number[];
}

export function registerTokenize(program: Command): void {
  addTokenizerOptions(
    program
      .command('tokenize')
      .description('print the token ids of a text as a JSON array')
      .option('--text <text>', 'the text to tokenize')
      .option('--file <path>', 'tokenize the raw bytes of this file'),
  ).action((opts: TokenizerFlags & { text?: string; file?: string }) => {
    if ((opts.text === undefined) === (opts.file === undefined)) {
      throw new Error('tokenize needs exactly one of --text TEXT or --file PATH');
    }
    const tokenizer = openTokenizer({ kind: opts.tokenizer, vocab: opts.vocab, model: opts.model });
    const ids =
      opts.file !== undefined
        ? tokenizer.encodeBytes(readFile(opts.file))
        : tokenizer.encode(opts.text!);
    process.stdout.write(JSON.stringify(ids) + '\n');
  });

  addTokenizerOptions(
    program
      .command('detokenize')
      .description('print the text of token ids (exact bytes; --hex to print them as hex)')
      .option('--ids <json>', 'JSON array of token ids, e.g. "[33155, 45]"')
      .option('--file <path>', 'file holding a JSON array of token ids')
      .option('--hex', 'print the bytes as hex instead of text'),
  ).action((opts: TokenizerFlags & { ids?: string; file?: string; hex?: boolean }) => {
    if ((opts.ids === undefined) === (opts.file === undefined)) {
      throw new Error('detokenize needs exactly one of --ids JSON or --file PATH');
    }
    const ids =
      opts.file !== undefined
        ? parseIds(readFile(opts.file).toString('utf8'), opts.file)
        : parseIds(opts.ids!, '--ids');
    const tokenizer = openTokenizer({ kind: opts.tokenizer, vocab: opts.vocab, model: opts.model });
    const bytes = tokenizer.decodeBytes(ids);
    // The bytes as they are (not re-encoded text), so ids that split a character still print
    // exactly what the tokenizer stands for.
    if (opts.hex) process.stdout.write(Buffer.from(bytes).toString('hex') + '\n');
    else process.stdout.write(bytes);
  });
}
