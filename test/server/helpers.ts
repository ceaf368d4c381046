// Shared setup for the server tests: the tiny-world fixture model on CPU with the World vocab,
// loaded once per test file and shared by the servers the file starts (on 127.0.0.1, port 0).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import type { Backend } from '../../src/backends/backend.js';
import { loadModel } from '../../src/runtime/load.js';
import { startServer, type RunningServer, type ServeOptions } from '../../src/server/app.js';
import { openTokenizer } from '../../src/tokenizer/load.js';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.js';

const shared = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const MODEL_PATH = join(shared, 'fixtures/rwkv7/tiny-world/model.pth');
export const VOCAB_PATH = join(shared, 'vocab/rwkv_vocab_v20230424.txt');
export const MODEL_NAME = 'tiny-world';

let loaded: Promise<{ backend: Backend; tokenizer: Tokenizer }> | null = null;

export function tinyWorld(): Promise<{ backend: Backend; tokenizer: Tokenizer }> {
  loaded ??= (async () => {
    const backend = await loadModel(MODEL_PATH, { device: 'cpu' });
    const tokenizer = openTokenizer({ vocab: VOCAB_PATH, vocabSize: backend.config.vocabSize });
    return { backend, tokenizer };
  })();
  return loaded;
}

export interface TestServer extends RunningServer {
  stateDir: string;
  client: OpenAI;
  /** Stops the server and removes its state folder (unless keepStateDir). */
  stop(opts?: { keepStateDir?: boolean }): Promise<void>;
}

/** A server on 127.0.0.1; the shared CPU tiny-world model unless `opts` brings a backend. */
export async function startTestServer(opts: Partial<ServeOptions> = {}): Promise<TestServer> {
  const { backend, tokenizer } =
    opts.backend && opts.tokenizer
      ? { backend: opts.backend, tokenizer: opts.tokenizer }
      : await tinyWorld();
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'rwkv-serve-test-'));
  const server = await startServer({
    backend,
    tokenizer,
    modelName: MODEL_NAME,
    host: '127.0.0.1',
    port: 0,
    logger: false,
    ...opts,
    stateDir,
  });
  const client = new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: opts.apiKey ?? 'unused',
    maxRetries: 0,
  });
  return {
    ...server,
    stateDir,
    client,
    async stop({ keepStateDir = false } = {}) {
      await server.close();
      if (!keepStateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** POSTs raw JSON (or a raw string body) and returns status, headers and parsed body. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Reads one metric value from /metrics (sum over label sets that contain `labels`). */
export async function metric(url: string, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name || (labels && !(m[2] ?? '').includes(labels))) continue;
    sum += Number(m[3]);
    found = true;
  }
  if (!found && !labels) throw new Error(`metric ${name} not in /metrics`);
  return sum;
}
