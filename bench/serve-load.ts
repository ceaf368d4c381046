// Load test of `rwkv serve`: starts the server as a child process on 127.0.0.1, drives it with
// autocannon (C concurrent clients for D seconds, each sending chat completions back to back),
// and prints JSON: requests/s, latency percentiles, status counts, tokens/s and mean batch size
// (from /metrics). Not part of the unit tests.
//   node --import tsx bench/serve-load.ts [--connections 64] [--duration 30] [--max-tokens 8]
//        [--model PATH] [--vocab PATH] [--max-batch 16] [--stream]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';

const shared = fileURLToPath(new URL('../../shared/', import.meta.url));
const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '64' },
    duration: { type: 'string', default: '30' },
    'max-tokens': { type: 'string', default: '8' },
    'max-batch': { type: 'string', default: '16' },
    model: { type: 'string', default: `${shared}fixtures/rwkv7/tiny-world/model.pth` },
    vocab: { type: 'string', default: `${shared}vocab/rwkv_vocab_v20230424.txt` },
    stream: { type: 'boolean', default: false },
  },
});
const connections = Number(values.connections);
const stateDir = mkdtempSync(join(tmpdir(), 'rwkv-bench-states-'));

// Every client must fit in a batch slot or the queue, so that no request is turned away (429).
const server = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    fileURLToPath(new URL('../src/cli/main.ts', import.meta.url)),
    'serve',
    '--model',
    values.model!,
    '--vocab',
    values.vocab!,
    '--name',
    'bench',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--max-batch',
    values['max-batch']!,
    '--max-queue',
    String(connections),
    '--state-dir',
    stateDir,
    '--quiet',
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
);
const url = await new Promise<string>((resolve, reject) => {
  let err = '';
  server.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    const m = /listening on (http:\/\/\S+?) /.exec(err);
    if (m) resolve(m[1]);
  });
  server.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
});

async function metrics(): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m) out.set(m[1], (out.get(m[1]) ?? 0) + Number(m[2]));
  }
  return out;
}

try {
  const before = await metrics();
  const result = await autocannon({
    url: `${url}/v1/chat/completions`,
    connections,
    duration: Number(values.duration),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'bench',
      messages: [{ role: 'user', content: 'Write one line about the sea.' }],
      max_tokens: Number(values['max-tokens']),
      stream: values.stream,
    }),
    timeout: 120,
  });
  const after = await metrics();
  const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  const seconds = result.duration;
  console.log(
    JSON.stringify(
      {
        connections,
        duration_s: seconds,
        max_tokens: Number(values['max-tokens']),
        stream: values.stream,
        requests: result.requests.total,
        requests_per_s: Number(result.requests.average.toFixed(2)),
        latency_ms: {
          p50: result.latency.p50,
          p90: result.latency.p90,
          p99: result.latency.p99,
          mean: Number(result.latency.mean.toFixed(1)),
          max: result.latency.max,
        },
        status: {
          '2xx': result['2xx'],
          '4xx': result['4xx'],
          '5xx': result['5xx'],
          errors: result.errors,
          timeouts: result.timeouts,
        },
        completion_tokens_per_s: Number(
          (delta('rwkv_completion_tokens_total') / seconds).toFixed(1),
        ),
        mean_decode_batch: Number(
          (
            delta('rwkv_decode_batch_size_sum') / Math.max(1, delta('rwkv_decode_steps_total'))
          ).toFixed(2),
        ),
      },
      null,
      2,
    ),
  );
} finally {
  server.kill('SIGTERM');
  rmSync(stateDir, { recursive: true, force: true });
}
