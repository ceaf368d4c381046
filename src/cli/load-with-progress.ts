// Model + tokenizer for the interactive commands, with a progress line on stderr while a large
// model loads (stdout stays clean for the generated text).
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { Backend } from '../backends/backend.js';
import { backendSummary } from './backend-summary.js';
import type { GemmChoice } from '../backends/webgpu/device.js';
import {
  GEMM_HELP,
  parseDevice,
  parseGemm,
  parseInteger,
  parseStepTokens,
  parseTokenizerKind,
  STEP_TOKENS_HELP,
} from './options.js';
import { loadModel, type DeviceChoice } from '../runtime/load.js';
import { openTokenizer, type Tokenizer } from '../tokenizer/index.js';
import type { TokenizerKind } from '../tokenizer/load.js';

export interface ModelFlags {
  model: string;
  vocab?: string;
  device: DeviceChoice;
  /** CPU threads for matrix products (default: every core). */
  threads?: number;
  /** WebGPU: the GEMM kernel (LoadOptions.gemm). */
  gemm?: GemmChoice;
  /** WebGPU: tokens per step (LoadOptions.stepTokens). */
  stepTokens?: number;
  /** world (default) or bytes, for byte-level models. */
  tokenizer?: TokenizerKind;
}

/** The options every model-loading interactive command shares (filling ModelFlags). */
export function addModelFlags(cmd: Command): Command {
  return cmd
    .requiredOption('--model <path>', 'checkpoint (.pth or .safetensors)')
    .option('--vocab <path>', 'World vocab file (default: the one beside the model)')
    .option('--device <device>', 'cpu | webgpu | auto', parseDevice, 'cpu' as DeviceChoice)
    .option(
      '--tokenizer <kind>',
      'world or bytes (byte-level models)',
      parseTokenizerKind,
      'world' as TokenizerKind,
    )
    .option('--threads <n>', 'CPU threads for matrix products (default: every core)', parseInteger)
    .option('--gemm <kernel>', GEMM_HELP, parseGemm)
    .option('--step-tokens <n>', STEP_TOKENS_HELP, parseStepTokens);
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${Math.ceil(n / 1024)} KiB`;
}

/** Runs `task`, showing "label … elapsed" on stderr (animated on a terminal). */
export async function withProgress<T>(label: string, task: () => Promise<T>): Promise<T> {
  const err = process.stderr;
  const start = Date.now();
  const elapsed = () => `${((Date.now() - start) / 1000).toFixed(1)}s`;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  if (err.isTTY) {
    const draw = () => err.write(`\r${SPINNER[frame++ % SPINNER.length]} ${label} ${elapsed()}`);
    draw();
    timer = setInterval(draw, 100);
  } else {
    err.write(`${label}…\n`);
  }
  try {
    const value = await task();
    if (err.isTTY) err.write(`\r\x1b[K`);
    err.write(`${label}: done in ${elapsed()}\n`);
    return value;
  } catch (e) {
    if (err.isTTY) err.write('\n');
    throw e;
  } finally {
    if (timer) clearInterval(timer);
  }
}

/** Opens the tokenizer first (fast, and a missing vocab fails before a long load), then the model. */
export async function loadModelAndTokenizer(
  f: ModelFlags,
): Promise<{ backend: Backend; tokenizer: Tokenizer }> {
  const tokenizer = openTokenizer({ kind: f.tokenizer, vocab: f.vocab, model: f.model });
  let size = '';
  try {
    size = ` (${formatBytes(statSync(f.model).size)})`;
  } catch {
    // loadModel reports a missing file with a better message
  }
  const backend = await withProgress(`loading ${basename(f.model)}${size} on ${f.device}`, () =>
    loadModel(f.model, {
      device: f.device,
      threads: f.threads,
      gemm: f.gemm,
      stepTokens: f.stepTokens,
    }),
  );
  process.stderr.write(`running on ${backendSummary(backend)}\n`);
  if (tokenizer.vocabSize > backend.config.vocabSize) {
    await backend.dispose();
    throw new Error(
      `${f.model} has ${backend.config.vocabSize} output tokens, but the ${tokenizer.kind} ` +
        `tokenizer has ${tokenizer.vocabSize}: this model does not use that vocabulary`,
    );
  }
  return { backend, tokenizer };
}
