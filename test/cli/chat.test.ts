// `rwkv chat` end to end with piped stdin (the REPL also works without a terminal).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/fixtures.js';

const base = [
  'chat',
  '--model',
  '../shared/fixtures/rwkv7/tiny-world/model.pth',
  '--vocab',
  '../shared/vocab/rwkv_vocab_v20230424.txt',
  '--temperature',
  '0',
  '--max-tokens',
  '12',
];

/** The assistant replies in a transcript "User: …\n\nAssistant: …\n\nUser: …". */
function replies(stdout: string): string[] {
  return stdout
    .split('\n\nAssistant:')
    .slice(1)
    .map((part) => part.slice(0, part.indexOf('\n\nUser: ')));
}

describe('rwkv chat', () => {
  it('continues a /save-d conversation after a restart and /load exactly', async () => {
    const full = await runCli(base, 'Hello!\nWhat is RWKV?\nAnd why?\n/quit\n');
    assert.equal(full.code, 0, full.stderr);
    const straight = replies(full.stdout.toString());
    assert.equal(straight.length, 3, full.stdout.toString());
    assert.ok(straight.every((r) => r.length > 0));
    assert.ok(full.stdout.toString().startsWith('User: Hello!\n\nAssistant:'));

    const file = join(await mkdtemp(join(tmpdir(), 'rwkv-chat-cli-')), 'talk.state');
    const part1 = await runCli(base, `Hello!\nWhat is RWKV?\n/save ${file}\n/quit\n`);
    assert.equal(part1.code, 0, part1.stderr);
    assert.deepEqual(replies(part1.stdout.toString()), straight.slice(0, 2));
    assert.match(part1.stderr, /saved 2 turns/);

    const part2 = await runCli(base, `/load ${file}\nAnd why?\n/quit\n`);
    assert.equal(part2.code, 0, part2.stderr);
    assert.match(part2.stderr, /loaded 2 turns/);
    assert.deepEqual(replies(part2.stdout.toString()), [straight[2]]);
  });

  it('/reset starts over; bad commands are reported without ending the chat', async () => {
    const r = await runCli(
      base,
      'Hello!\n/reset\n/load /nonexistent/x.state\n/frobnicate\nHello!\n',
    );
    assert.equal(r.code, 0, r.stderr);
    const [a, b] = replies(r.stdout.toString());
    assert.equal(a, b);
    assert.match(r.stderr, /conversation reset/);
    assert.match(r.stderr, /error: .*nonexistent/);
    assert.match(r.stderr, /unknown command \/frobnicate/);
  });

  it('Ctrl-C stops a reply but keeps the session; the chat goes on', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...base, '--max-tokens', '100000'],
      { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    const waiters: (() => void)[] = [];
    const onOutput = () => waiters.forEach((w) => w());
    child.stdout.on('data', (d: Buffer) => ((stdout += d.toString()), onOutput()));
    child.stderr.on('data', (d: Buffer) => ((stderr += d.toString()), onOutput()));
    const seen = (pattern: RegExp, text: () => string) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${pattern}`)),
          60_000,
        );
        const check = () => {
          if (!pattern.test(text())) return;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve();
        };
        waiters.push(check);
        check();
      });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));

    try {
      child.stdin.write('Hello!\n');
      await seen(/Assistant:.{20}/s, () => stdout); // the reply is streaming
      child.kill('SIGINT');
      await seen(/reply stopped/, () => stderr);
      await seen(/\n\nUser: $/, () => stdout); // back at the prompt
      const file = join(await mkdtemp(join(tmpdir(), 'rwkv-chat-cli-')), 'stopped.state');
      child.stdin.write(`/save ${file}\n`); // the stopped turn is in the conversation
      await seen(/saved 1 turns/, () => stderr);
      child.stdin.write('/quit\n');
      assert.equal(await exited, 0, stderr);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
