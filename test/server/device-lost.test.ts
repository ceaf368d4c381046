// A server whose WebGPU device is lost: /health says so with 503 (so that a supervisor restarts
// the process) and requests fail with a 503 that names the cause, instead of a bare 500.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { loadModel } from '../../src/runtime/load.js';
import { openTokenizer } from '../../src/tokenizer/load.js';
import { MODEL_NAME, MODEL_PATH, postJson, startTestServer, VOCAB_PATH } from './helpers.js';

test('a lost GPU device turns /health and requests into 503s that name it', async () => {
  const backend = await loadModel(MODEL_PATH, { device: 'webgpu' });
  assert.equal(backend.device, 'webgpu');
  const tokenizer = openTokenizer({ vocab: VOCAB_PATH, vocabSize: backend.config.vocabSize });
  const server = await startTestServer({ backend, tokenizer });
  try {
    const chat = {
      model: MODEL_NAME,
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 2,
    };
    const ok = await postJson(`${server.url}/v1/chat/completions`, chat);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal((await fetch(`${server.url}/health`)).status, 200);

    (backend as WebGpuBackend).ctx.device.destroy(); // what a driver reset does to it

    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 503);
    const h = await health.json();
    assert.equal(h.status, 'unavailable');
    assert.match(h.error, /WebGPU device was destroyed/);

    const failed = await postJson(`${server.url}/v1/chat/completions`, chat);
    assert.equal(failed.status, 503, JSON.stringify(failed.body));
    assert.equal(failed.body.error.code, 'backend_unavailable');
    assert.match(failed.body.error.message, /WebGPU device was destroyed.*restarted/);
  } finally {
    await server.stop();
    await backend.dispose(); // a backend passed in is the caller's to release
  }
});
