// The `rwkv` command line. Each subcommand lives in its own file under commands/ and registers
// itself on the program; this file only wires them together and turns errors into messages.
import { Command } from 'commander';
import { registerChat } from './commands/chat.js';
import { registerGenerate } from './commands/generate.js';
import { registerInfo } from './commands/info.js';
import { registerLogits } from './commands/logits.js';
import { registerServe } from './commands/serve.js';
import { registerTokenize } from './commands/tokenize.js';

const program = new Command();
program
  .name('rwkv')
  .description('RWKV-7 language models in TypeScript (CPU and WebGPU)')
  .showHelpAfterError();

// subcommand registrations (one line each)
registerInfo(program);
registerGenerate(program);
registerChat(program);
registerLogits(program);
registerServe(program);
registerTokenize(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`rwkv: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
