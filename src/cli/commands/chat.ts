// `rwkv chat`: an interactive conversation (runtime/chat.ts) in a read-eval-print loop.
//   - the transcript goes to stdout in the prompt format itself ("User: …\n\nAssistant: …");
//     status lines go to stderr;
//   - Ctrl-C during a reply stops the reply and keeps the conversation; Ctrl-C at the prompt
//     asks for confirmation, a second one exits;
//   - /reset, /save FILE, /load FILE, /quit, /help;
//   - works with piped (non-terminal) input too: lines are then echoed after the prompt so the
//     transcript reads the same.
//
// Default sampling is ChatRWKV's API_DEMO_CHAT.py: temperature 1.0, top_p 0.3,
// alpha_presence 0.5, alpha_frequency 0.5, penalty decay 0.996.
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { Chat } from '../../runtime/chat.js';
import type { ThinkMode } from '../../runtime/chat-format.js';
import { Session } from '../../runtime/session.js';
import { addModelFlags, loadModelAndTokenizer, type ModelFlags } from '../load-with-progress.js';
import { addSamplingFlags, samplingFromFlags, type SamplingFlags } from '../sampling-flags.js';

interface ChatFlags extends SamplingFlags, ModelFlags {
  system?: string;
  think?: boolean;
}

const HELP = 'commands: /reset, /save FILE, /load FILE, /quit (Ctrl-C stops a reply)';

export function registerChat(program: Command): void {
  const cmd = addModelFlags(
    program
      .command('chat')
      .description('chat with a model in the terminal (RWKV World / G1 chat format)'),
  )
    .option('--system <text>', 'system prompt, fed once at the start')
    .option('--think', 'G1 reasoning: the reply starts with a <think> block')
    .option('--no-think', 'G1 models: skip reasoning (an empty <think> block)');
  addSamplingFlags(cmd, {
    temperature: 1.0,
    topP: 0.3,
    presencePenalty: 0.5,
    frequencyPenalty: 0.5,
    maxTokens: 1024,
  });
  cmd.action(async (flags: ChatFlags) => {
    const { backend, tokenizer } = await loadModelAndTokenizer(flags);
    const think: ThinkMode =
      flags.think === true ? 'enabled' : flags.think === false ? 'disabled' : 'none';
    const chat = new Chat(new Session(backend), tokenizer, {
      system: flags.system,
      think,
      sampling: samplingFromFlags(flags),
      maxTokens: flags.maxTokens,
    });
    try {
      await repl(chat);
    } finally {
      await backend.dispose();
    }
  });
}

/** What the transcript shows before a reply: the prefix, minus an empty think block. */
function shownPrefix(think: ThinkMode): string {
  return think === 'enabled' ? 'Assistant: <think' : 'Assistant:';
}

async function repl(chat: Chat): Promise<void> {
  const out = process.stdout;
  const err = process.stderr;
  const interactive = Boolean(process.stdin.isTTY && out.isTTY);
  const rl = createInterface({ input: process.stdin, output: out, terminal: interactive });
  let replying: AbortController | null = null;
  let warned = false;
  let exiting = false;

  const onInterrupt = () => {
    if (replying) {
      replying.abort();
    } else if (warned) {
      exiting = true;
      rl.close();
    } else {
      warned = true;
      err.write('\n(Ctrl-C again or /quit to exit)\n');
      rl.prompt();
    }
  };
  rl.on('SIGINT', onInterrupt); // terminal input: readline turns Ctrl-C into this event
  process.on('SIGINT', onInterrupt); // piped input: the real signal

  const reply = async (text: string) => {
    replying = new AbortController();
    out.write(`\n${shownPrefix(chat.think)}`);
    try {
      const r = chat.reply(text, { signal: replying.signal });
      for await (const piece of r) if (piece.text) out.write(piece.text);
      out.write('\n\n');
      if (r.result?.finishReason === 'abort') err.write('(reply stopped)\n');
    } finally {
      replying = null;
    }
  };

  const command = async (line: string): Promise<boolean> => {
    const [name, ...rest] = line.split(/\s+/);
    const arg = rest.join(' ');
    switch (name) {
      case '/quit':
      case '/exit':
        return true;
      case '/reset':
        chat.reset();
        err.write('(conversation reset)\n');
        return false;
      case '/save':
        if (!arg) throw new Error('usage: /save FILE');
        await chat.save(arg);
        err.write(
          `(saved ${chat.turns.length} turns, ${chat.session.tokenCount} tokens to ${arg})\n`,
        );
        return false;
      case '/load':
        if (!arg) throw new Error('usage: /load FILE');
        await chat.load(arg);
        err.write(
          `(loaded ${chat.turns.length} turns, ${chat.session.tokenCount} tokens from ${arg})\n`,
        );
        return false;
      case '/help':
        err.write(`${HELP}\n`);
        return false;
      default:
        throw new Error(`unknown command ${name}; ${HELP}`);
    }
  };

  err.write(`${HELP}\n`);
  rl.setPrompt('User: ');
  rl.prompt();
  try {
    for await (const line of rl) {
      warned = false;
      if (!interactive) out.write(`${line}\n`);
      const trimmed = line.trim();
      try {
        if (trimmed.startsWith('/')) {
          if (await command(trimmed)) break;
        } else if (trimmed) {
          await reply(line);
        }
      } catch (e) {
        err.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      }
      if (exiting) break;
      rl.prompt();
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    rl.close();
  }
  if (!interactive) out.write('\n');
}
