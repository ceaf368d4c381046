// Every class of bad input gets its documented status and an OpenAI-style error body
// {error: {message, type, param, code}}, and the server keeps serving afterwards.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { MODEL_NAME, metric, startTestServer, type TestServer } from './helpers.js';

const KEY = 'sk-test-key';
let server: TestServer;
before(async () => {
  server = await startTestServer({
    apiKey: KEY,
    maxPromptTokens: 200,
    maxTokensCap: 100,
    maxBodyBytes: 64 * 1024,
    maxBatch: 1,
    maxQueue: 1,
  });
});
after(async () => server.stop());

const auth = { authorization: `Bearer ${KEY}` };
const chat = (extra: Record<string, unknown>) => ({
  model: MODEL_NAME,
  messages: [{ role: 'user', content: 'Hi' }],
  max_tokens: 2,
  ...extra,
});

interface Case {
  name: string;
  path?: string;
  body: unknown;
  headers?: Record<string, string>;
  status: number;
  type: string;
  param?: string | null;
  code?: string | null;
}

const cases: Case[] = [
  {
    name: 'malformed JSON',
    body: '{"model": "tiny-world", "messages": [',
    status: 400,
    type: 'invalid_request_error',
  },
  { name: 'empty body', body: '', status: 400, type: 'invalid_request_error' },
  { name: 'body not an object', body: '[1, 2]', status: 400, type: 'invalid_request_error' },
  {
    name: 'missing messages',
    body: { model: MODEL_NAME },
    status: 400,
    type: 'invalid_request_error',
    param: 'messages',
  },
  {
    name: 'wrong type: temperature',
    body: chat({ temperature: 'hot' }),
    status: 400,
    type: 'invalid_request_error',
    param: 'temperature',
  },
  {
    name: 'wrong type: messages',
    body: chat({ messages: 'Hi' }),
    status: 400,
    type: 'invalid_request_error',
    param: 'messages',
  },
  {
    name: 'wrong type: max_tokens',
    body: chat({ max_tokens: 1.5 }),
    status: 400,
    type: 'invalid_request_error',
    param: 'max_tokens',
  },
  {
    name: 'wrong type: message content',
    body: chat({ messages: [{ role: 'user', content: 5 }] }),
    status: 400,
    type: 'invalid_request_error',
    param: 'messages[0].content',
  },
  {
    name: 'out of range: top_p',
    body: chat({ top_p: 1.5 }),
    status: 400,
    type: 'invalid_request_error',
    param: 'top_p',
  },
  {
    name: 'unknown role',
    body: chat({ messages: [{ role: 'wizard', content: 'x' }] }),
    status: 400,
    type: 'invalid_request_error',
    param: 'messages[0].role',
  },
  {
    name: 'image content part',
    body: chat({ messages: [{ role: 'user', content: [{ type: 'image_url' }] }] }),
    status: 400,
    type: 'invalid_request_error',
    param: 'messages[0].content[0].type',
  },
  {
    name: 'empty messages',
    body: chat({ messages: [] }),
    status: 400,
    type: 'invalid_request_error',
    param: 'messages',
  },
  { name: 'n > 1', body: chat({ n: 2 }), status: 400, type: 'invalid_request_error', param: 'n' },
  {
    name: 'too many stop strings',
    body: chat({ stop: ['a', 'b', 'c', 'd', 'e'] }),
    status: 400,
    type: 'invalid_request_error',
    param: 'stop',
  },
  {
    name: 'logit_bias token outside the vocabulary',
    body: chat({ logit_bias: { '70000': 1 } }),
    status: 400,
    type: 'invalid_request_error',
    param: 'logit_bias',
  },
  {
    name: 'max_tokens above the cap',
    body: chat({ max_tokens: 101 }),
    status: 400,
    type: 'invalid_request_error',
    param: 'max_tokens',
  },
  {
    name: 'prompt longer than allowed',
    body: chat({ messages: [{ role: 'user', content: 'word '.repeat(300) }] }),
    status: 400,
    type: 'invalid_request_error',
    param: 'messages',
    code: 'context_length_exceeded',
  },
  {
    name: 'empty completion prompt',
    path: '/v1/completions',
    body: { model: MODEL_NAME, prompt: '' },
    status: 400,
    type: 'invalid_request_error',
    param: 'prompt',
  },
  {
    name: 'unknown model',
    body: chat({ model: 'gpt-4o' }),
    status: 404,
    type: 'invalid_request_error',
    param: 'model',
    code: 'model_not_found',
  },
  {
    name: 'unknown route',
    path: '/v1/embeddings',
    body: { input: 'x' },
    status: 404,
    type: 'invalid_request_error',
    code: 'unknown_url',
  },
  {
    name: 'request body too large',
    body: chat({ messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] }),
    status: 413,
    type: 'invalid_request_error',
  },
  {
    name: 'missing API key',
    body: chat({}),
    headers: { authorization: '' },
    status: 401,
    type: 'authentication_error',
    code: 'invalid_api_key',
  },
  {
    name: 'wrong API key',
    body: chat({}),
    headers: { authorization: 'Bearer sk-wrong' },
    status: 401,
    type: 'authentication_error',
    code: 'invalid_api_key',
  },
];

async function send(path: string, body: unknown, headers: Record<string, string>) {
  const h: Record<string, string> = { 'content-type': 'application/json', ...auth, ...headers };
  if (!h.authorization) delete h.authorization;
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: h,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

describe('bad input', () => {
  for (const c of cases) {
    test(`${c.name} → ${c.status}`, async () => {
      const res = await send(c.path ?? '/v1/chat/completions', c.body, c.headers ?? {});
      assert.equal(res.status, c.status, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body), ['error']);
      const e = res.body.error;
      assert.deepEqual(Object.keys(e).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(typeof e.message, 'string');
      assert.ok(e.message.length > 0);
      assert.equal(e.type, c.type);
      if (c.param !== undefined) assert.equal(e.param, c.param);
      if (c.code !== undefined) assert.equal(e.code, c.code);
    });
  }

  test('the openai client raises typed errors', async () => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 });
    await assert.rejects(
      client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found',
    );
    const noKey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'bad', maxRetries: 0 });
    await assert.rejects(noKey.models.list(), OpenAI.AuthenticationError);
  });

  test('a full queue gets 429 with Retry-After', async () => {
    // One batch slot and one queue place: a third simultaneous request is turned away.
    const controllers = [new AbortController(), new AbortController()];
    const long = controllers.map((c) =>
      fetch(`${server.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ model: MODEL_NAME, prompt: 'Go', max_tokens: 100, stream: true }),
        signal: c.signal,
      }).catch((err: Error) => err),
    );
    const deadline = Date.now() + 5000;
    while ((await metric(server.url, 'rwkv_queue_length')) < 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const res = await send('/v1/chat/completions', chat({}), {});
    assert.equal(res.status, 429);
    assert.equal(res.body.error.type, 'rate_limit_error');
    assert.equal(res.body.error.code, 'rate_limit_exceeded');
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    controllers.forEach((c) => c.abort());
    await Promise.all(long);
    while ((await metric(server.url, 'rwkv_active_slots')) > 0 && Date.now() < deadline + 5000) {
      await new Promise((r) => setTimeout(r, 10));
    }
  });

  test('the server keeps serving after all of the above', async () => {
    const ok = await server.client.chat.completions.create({
      model: MODEL_NAME,
      messages: [{ role: 'user', content: 'Still there?' }],
      max_tokens: 3,
      // Greedy: a random draw can end the reply early (finish_reason 'stop'), as it once did.
      temperature: 0,
    });
    assert.equal(ok.choices[0].finish_reason, 'length');
    const health = await fetch(`${server.url}/health`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, 'ok');
    // Errors were counted by status.
    assert.ok((await metric(server.url, 'rwkv_http_errors_total', 'status="400"')) >= 15);
  });
});
