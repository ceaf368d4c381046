// `rwkv serve`: the OpenAI-compatible HTTP server with the chat page at /.
import { InvalidArgumentError, type Command } from 'commander';
import { defaultStateDir, SERVE_DEFAULTS, startServer } from '../../server/app.js';
import type { DeviceChoice } from '../../runtime/load.js';
import type { GemmChoice } from '../../backends/webgpu/device.js';
import { backendSummary } from '../backend-summary.js';
import {
  GEMM_HELP,
  parseDevice,
  parseGemm,
  parseInteger,
  parseStepTokens,
  STEP_TOKENS_HELP,
} from '../options.js';

interface ServeFlags {
  model: string;
  vocab?: string;
  device: DeviceChoice;
  threads?: number;
  gemm?: GemmChoice;
  stepTokens?: number;
  name?: string;
  host: string;
  port: number;
  apiKey?: string;
  maxBatch: number;
  maxQueue: number;
  stateCacheMb: number;
  stateDir: string;
  maxTokens: number;
  maxPromptTokens: number;
  quiet?: boolean;
}

function atLeast(min: number) {
  return (value: string): number => {
    const n = parseInteger(value);
    if (n < min) throw new InvalidArgumentError(`"${value}" must be at least ${min}`);
    return n;
  };
}

export function registerServe(program: Command): void {
  const d = SERVE_DEFAULTS;
  program
    .command('serve')
    .description('serve a model over an OpenAI-compatible HTTP API, with a chat page at /')
    .requiredOption('--model <path>', 'checkpoint (.pth or .safetensors)')
    .option(
      '--vocab <path>',
      'World vocab file (default: rwkv_vocab_v20230424.txt beside the model)',
    )
    .option('--device <device>', 'cpu, webgpu or auto', parseDevice, 'cpu' as DeviceChoice)
    .option('--threads <n>', 'CPU threads for matrix products (default: every core)', atLeast(1))
    .option('--gemm <kernel>', GEMM_HELP, parseGemm)
    .option('--step-tokens <n>', STEP_TOKENS_HELP, parseStepTokens)
    .option('--name <id>', 'model id clients send (default: the file name without extension)')
    .option('--host <host>', 'address to listen on', d.host)
    .option('--port <port>', 'port to listen on (0 = any free port)', atLeast(0), d.port)
    .option(
      '--api-key <key>',
      'require "Authorization: Bearer <key>" on /v1/ requests (default: $RWKV_API_KEY)',
    )
    .option('--max-batch <n>', 'generations advanced together', atLeast(1), d.maxBatch)
    .option('--max-queue <n>', 'requests waiting for a slot before 429', atLeast(0), d.maxQueue)
    .option(
      '--state-cache-mb <n>',
      'memory for cached conversation states (0 = off)',
      atLeast(0),
      d.stateCacheMb,
    )
    .option('--state-dir <path>', 'folder of saved states (/v1/states)', defaultStateDir())
    .option(
      '--max-tokens <n>',
      'largest max_tokens a request may ask for',
      atLeast(1),
      d.maxTokensCap,
    )
    .option('--max-prompt-tokens <n>', 'longest prompt accepted', atLeast(1), d.maxPromptTokens)
    .option('--quiet', 'log warnings and errors only')
    .action(async (flags: ServeFlags) => {
      const server = await startServer({
        model: flags.model,
        vocab: flags.vocab,
        device: flags.device,
        threads: flags.threads,
        gemm: flags.gemm,
        stepTokens: flags.stepTokens,
        modelName: flags.name,
        host: flags.host,
        port: flags.port,
        apiKey: flags.apiKey ?? (process.env.RWKV_API_KEY || undefined),
        maxBatch: flags.maxBatch,
        maxQueue: flags.maxQueue,
        stateCacheMb: flags.stateCacheMb,
        stateDir: flags.stateDir,
        maxTokensCap: flags.maxTokens,
        maxPromptTokens: flags.maxPromptTokens,
        logger: { level: flags.quiet ? 'warn' : 'info' },
      });
      process.stderr.write(
        `rwkv serve: model "${server.ctx.modelName}" on ${backendSummary(server.ctx.backend)}, ` +
          `listening on ${server.url} (chat page: ${server.url}/, API: ${server.url}/v1)\n`,
      );
      const stop = () => void server.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
