// `rwkv logits`: the logits after each token as little-endian float32 rows — a verification
// tool that every backend answers the same way.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadModel, type DeviceChoice } from '../../runtime/load.js';
import type { GemmChoice } from '../../backends/webgpu/device.js';
import {
  GEMM_HELP,
  parseDevice,
  parseGemm,
  parseInteger,
  parseStepTokens,
  parseTokenList,
  STEP_TOKENS_HELP,
} from '../options.js';

interface LogitsOptions {
  model: string;
  tokens: string;
  out: string;
  device: DeviceChoice;
  threads?: number;
  gemm?: GemmChoice;
  stepTokens?: number;
}

export function registerLogits(program: Command): void {
  program
    .command('logits')
    .description('write the logits after each token as little-endian float32 rows')
    .requiredOption('--model <path>', 'checkpoint (.pth or .safetensors)')
    .requiredOption('--tokens <ids>', 'comma-separated token ids, e.g. 1,2,3')
    .requiredOption('--out <file>', 'output file (tokens × vocab float32)')
    .option('--device <device>', 'cpu | webgpu | auto', parseDevice, 'cpu' as DeviceChoice)
    .option('--threads <n>', 'CPU threads for matrix products (default: all cores)', parseInteger)
    .option('--gemm <kernel>', GEMM_HELP, parseGemm)
    .option('--step-tokens <n>', STEP_TOKENS_HELP, parseStepTokens)
    .action(async (opts: LogitsOptions) => {
      const tokens = parseTokenList(opts.tokens);
      const backend = await loadModel(opts.model, {
        device: opts.device,
        threads: opts.threads,
        gemm: opts.gemm,
        stepTokens: opts.stepTokens,
      });
      try {
        const rows = await backend.forwardAll(backend.createState(), tokens);
        const V = backend.config.vocabSize;
        const out = new Uint8Array(rows.length * V * 4);
        const view = new DataView(out.buffer);
        rows.forEach((row, t) => {
          for (let i = 0; i < V; i++) view.setFloat32((t * V + i) * 4, row[i], true);
        });
        await writeFile(opts.out, out);
        process.stderr.write(`wrote ${rows.length} rows × ${V} logits to ${opts.out}\n`);
      } finally {
        await backend.dispose();
      }
    });
}
