// `rwkv generate`: continue a prompt, streaming only the generated text to stdout (so the output
// can be piped or compared byte for byte); loading progress and a summary go to stderr.
// Ctrl-C stops generation between tokens (the summary is still printed); a second one exits.
//
// Default sampling follows the example in the rwkv pip package README (temperature 1.0,
// top_p 0.7, alpha_presence 0.25, alpha_frequency 0.25) with ChatRWKV's penalty decay 0.996.
import type { Command } from 'commander';
import { generate } from '../../runtime/generate.js';
import { Session } from '../../runtime/session.js';
import { addModelFlags, loadModelAndTokenizer, type ModelFlags } from '../load-with-progress.js';
import {
  addSamplingFlags,
  samplingFromFlags,
  unescapeStop,
  type SamplingFlags,
} from '../sampling-flags.js';

interface GenerateFlags extends SamplingFlags, ModelFlags {
  prompt: string;
  stop: string[];
}

export function registerGenerate(program: Command): void {
  const cmd = addModelFlags(
    program
      .command('generate')
      .description('continue a prompt and stream the generated text to stdout'),
  )
    .requiredOption('--prompt <text>', 'text to continue')
    .option(
      '--stop <text>',
      'stop when this text appears; not printed (repeatable; \\n and \\t are understood)',
      (v: string, prev: string[]) => [...prev, unescapeStop(v)],
      [] as string[],
    );
  addSamplingFlags(cmd, {
    temperature: 1.0,
    topP: 0.7,
    presencePenalty: 0.25,
    frequencyPenalty: 0.25,
    maxTokens: 200,
  });
  cmd.action(async (flags: GenerateFlags) => {
    const { backend, tokenizer } = await loadModelAndTokenizer(flags);
    const controller = new AbortController();
    const onInterrupt = () => {
      if (controller.signal.aborted) process.exit(130);
      controller.abort();
    };
    process.on('SIGINT', onInterrupt);
    try {
      const started = Date.now();
      const gen = generate(new Session(backend), tokenizer, {
        ...samplingFromFlags(flags),
        prompt: flags.prompt,
        maxTokens: flags.maxTokens,
        stop: flags.stop,
        signal: controller.signal,
      });
      for await (const piece of gen) {
        if (piece.text) process.stdout.write(piece.text);
      }
      const r = gen.result!;
      const seconds = (Date.now() - started) / 1000;
      process.stderr.write(
        `\n[${r.finishReason}] ${r.usage.promptTokens} prompt + ${r.usage.completionTokens} ` +
          `generated tokens in ${seconds.toFixed(2)}s, seed ${String(r.seed)}\n`,
      );
    } finally {
      process.off('SIGINT', onInterrupt);
      await backend.dispose();
    }
  });
}
