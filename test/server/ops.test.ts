// `rwkv serve` from the command line, the static chat page, /health and /metrics.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { MODEL_PATH, VOCAB_PATH } from './helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

test('rwkv serve listens on the given host only and serves page, health, models, metrics', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'rwkv-serve-cli-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'serve', '--model', MODEL_PATH, '--vocab', VOCAB_PATH]
      .concat(['--host', '127.0.0.1', '--port', '0', '--state-dir', stateDir, '--threads', '1'])
      .concat(['--api-key', 'sk-cli', '--quiet']),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /listening on (http:\/\/\S+?) /.exec(err);
        if (m) resolve(m[1]);
      });
      child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
    });
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);

    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /^text\/html/);
    assert.match(page.headers.get('content-security-policy')!, /default-src 'self'/);
    const html = await page.text();
    assert.match(html, /<label for="prompt">/);
    for (const asset of ['/app.js', '/style.css']) {
      assert.equal((await fetch(`${url}${asset}`)).status, 200, asset);
    }

    const health = await (await fetch(`${url}/health`)).json();
    assert.deepEqual(health, {
      status: 'ok',
      model: 'model',
      device: 'cpu',
      active_slots: 0,
      queued: 0,
    });

    // The API needs the key; the page, health and metrics do not.
    assert.equal((await fetch(`${url}/v1/models`)).status, 401);
    const models = await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer sk-cli' } });
    assert.equal((await models.json()).data[0].id, 'model');

    const metrics = await fetch(`${url}/metrics`);
    assert.match(metrics.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    for (const line of text.trimEnd().split('\n')) {
      assert.match(
        line,
        /^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [-+0-9.eInfNa]+)$/,
        line,
      );
    }
    for (const name of [
      'rwkv_http_requests_total',
      'rwkv_generations_total',
      'rwkv_prompt_tokens_total',
      'rwkv_completion_tokens_total',
      'rwkv_batch_size',
      'rwkv_queue_length',
      'rwkv_active_slots',
      'rwkv_state_cache_hits_total',
    ]) {
      assert.ok(text.includes(`# TYPE ${name} `), name);
    }
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(stateDir, { recursive: true, force: true });
  }
});
