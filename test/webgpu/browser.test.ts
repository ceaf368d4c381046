// The same engine in a browser: the bundle from scripts/build-browser.mjs, loaded by Debian's
// chromium (headless; its WebGPU adapter is SwiftShader on a machine without a GPU), reads the
// tiny-world checkpoint and the World vocab from Blobs, runs the prompt through navigator.gpu and
// must reproduce the official reference: tokens, last logits, final state, greedy continuation.
// A saved state travels as bytes (no file system in a browser) and continues identically.
// Needs /usr/bin/chromium (scripts/install-chromium.sh); RWKV_SKIP_BROWSER_TEST=1 skips it.
import assert from 'node:assert/strict';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { chromium, type Browser } from 'playwright-core';
import { maxAbsDiff, modelFixtures, repoRoot, std, vocabPath } from '../helpers/fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = process.env.RWKV_SKIP_BROWSER_TEST === '1' && 'RWKV_SKIP_BROWSER_TEST=1';
const GREEDY_STEPS = 3;
const world = modelFixtures().find((f) => f.name === 'tiny-world')!;

let dir: string;
let server: Server;
let origin: string;
let browser: Browser;

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.wgsl': 'text/plain',
  '.html': 'text/html',
};

before(async () => {
  if (skip) return;
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: run scripts/install-chromium.sh (as root), or set RWKV_SKIP_BROWSER_TEST=1`,
    );
  }
  dir = mkdtempSync(join(tmpdir(), 'rwkv-browser-'));
  execFileSync(process.execPath, [join(repoRoot, 'scripts/build-browser.mjs'), dir]);
  // The bundle and its kernels, plus the fixture model and vocab read in place (never copied).
  const files: Record<string, string> = {
    '/model.pth': world.files[0],
    '/vocab.txt': vocabPath,
  };
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = files[path] ?? join(dir, normalize(path));
    if (!file.startsWith(dir) && !Object.values(files).includes(file)) {
      res.writeHead(403).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>t</title>');
      return;
    }
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // localhost, not 127.0.0.1: navigator.gpu exists only in secure contexts.
  origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface PageResult {
  adapter: string;
  tokens: number[];
  logits: number[];
  state: number[];
  greedy: number[];
  greedyText: string;
  resumed: number[];
  fromBytesError: string;
}

test(
  'WebGPU in chromium reproduces the reference (prompt, logits, state, greedy)',
  { skip },
  async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(origin + '/');
    const ref = world.reference;
    const r = (await page.evaluate(
      async ({ prompt, n }) => {
        const lib = await import('/rwkv.js' as string);
        const adapter = await navigator.gpu.requestAdapter();
        const model = await lib.loadModelFromBlob(
          await (await fetch('/model.pth')).blob(),
          'model.pth',
          {
            maxRows: 16,
          },
        );
        const vocab = new Uint8Array(await (await fetch('/vocab.txt')).arrayBuffer());
        const tokenizer = lib.worldTokenizerFrom(vocab, 'vocab.txt');
        const tokens: number[] = tokenizer.encode(prompt);

        // All but the last prompt token, saved as bytes; then the last one.
        const session = new lib.Session(model);
        await session.feed(tokens.slice(0, -1));
        const saved: Uint8Array = await session.toBytes();
        const logits: Float32Array = await session.feed(tokens.slice(-1));
        await session.state.sync();
        const state = Array.from(session.state.data as Float32Array);

        const greedy = { temperature: 0, maxTokens: n };
        const gen = await lib.generate(session, tokenizer, greedy).complete();

        // The saved bytes continue exactly like the live session did.
        const { session: restored } = lib.Session.fromBytes(model, saved, 'saved');
        await restored.feed(tokens.slice(-1));
        const again = await lib.generate(restored, tokenizer, greedy).complete();

        let fromBytesError = '';
        try {
          lib.Session.fromBytes(model, saved.subarray(0, 10), 'cut.state');
        } catch (e) {
          fromBytesError = String(e);
        }
        await model.dispose();
        return {
          adapter: `${adapter?.info.vendor}/${adapter?.info.architecture}`,
          tokens,
          logits: Array.from(logits),
          state,
          greedy: gen.tokens,
          greedyText: gen.text,
          resumed: again.tokens,
          fromBytesError,
        };
      },
      // A few greedy tokens only: chromium's software adapter (SwiftShader) takes seconds per
      // step on the 65 536-row head; the full continuation is checked in Node (test/runtime).
      { prompt: ref.prompt!, n: GREEDY_STEPS },
    )) as PageResult;
    assert.deepEqual(errors, []);
    assert.ok(r.adapter.length > 0, 'an adapter');
    assert.deepEqual(r.tokens, ref.tokens);

    const want = world.logits();
    const wantState = world.state();
    assert.ok(relDiff(r.logits, want) <= 1e-3, `logits ${relDiff(r.logits, want)}`);
    assert.ok(relDiff(r.state, wantState) <= 1e-3, `state ${relDiff(r.state, wantState)}`);
    const wantGreedy = ref.greedy.slice(0, GREEDY_STEPS);
    assert.deepEqual(r.greedy, wantGreedy);
    const hex = Buffer.from(r.greedyText, 'utf8').toString('hex');
    assert.ok(hex.length > 0 && ref.greedy_bytes_hex!.startsWith(hex), `greedy text ${hex}`);
    assert.deepEqual(r.resumed, wantGreedy);
    assert.match(r.fromBytesError, /cut\.state: .*too short/);
  },
);

const relDiff = (a: ArrayLike<number>, b: Float32Array): number => maxAbsDiff(a, b) / std(b);
