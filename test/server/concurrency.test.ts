// Continuous batching through the HTTP API: 16 simultaneous streams each produce exactly what
// the same request produces alone, and a client that disconnects frees its slot at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MODEL_NAME, metric, startTestServer, type TestServer } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startTestServer({ maxBatch: 16 });
});
after(async () => server.stop());

const TOKENS = 8;

function request(i: number) {
  // Different prompts, lengths, seeds and sampling settings, chat and text completions mixed.
  // (top_p < 1 sorts the vocabulary at every token: used on a few requests only, to keep the
  // test fast on a small CPU.)
  const common = {
    max_tokens: TOKENS,
    seed: 1000 + i,
    temperature: 0.6 + 0.05 * i,
    top_p: i % 4 === 1 ? 0.9 : 1,
  };
  return i % 2 === 0
    ? {
        kind: 'chat' as const,
        body: {
          ...common,
          model: MODEL_NAME,
          messages: [{ role: 'user' as const, content: `Question ${i}: ${'why '.repeat(i)}?` }],
        },
      }
    : {
        kind: 'completion' as const,
        body: {
          ...common,
          model: MODEL_NAME,
          prompt: `Chapter ${i}. ${'It was dark. '.repeat(i)}`,
        },
      };
}

async function streamed(i: number): Promise<string> {
  const { kind, body } = request(i);
  let text = '';
  if (kind === 'chat') {
    const stream = await server.client.chat.completions.create({ ...body, stream: true });
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  } else {
    const stream = await server.client.completions.create({ ...body, stream: true });
    for await (const c of stream) text += c.choices[0]?.text ?? '';
  }
  return text;
}

async function waitFor(check: () => Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('continuous batching', () => {
  test('16 simultaneous streams equal the same requests run alone', async (t) => {
    let started = performance.now();
    const alone: string[] = [];
    for (let i = 0; i < 16; i++) alone.push(await streamed(i));
    t.diagnostic(`16 requests one after another: ${Math.round(performance.now() - started)} ms`);
    const steps0 = await metric(server.url, 'rwkv_decode_steps_total');
    const sum0 = await metric(server.url, 'rwkv_decode_batch_size_sum');

    started = performance.now();
    const together = await Promise.all(Array.from({ length: 16 }, (_, i) => streamed(i)));
    t.diagnostic(`16 requests at once: ${Math.round(performance.now() - started)} ms`);
    assert.deepEqual(together, alone);
    assert.equal(new Set(alone).size, 16, 'the 16 requests should produce 16 different texts');

    // They really ran together: the 16 × TOKENS decode steps were shared by several requests.
    // (Every request reads its first token from its prompt's logits: TOKENS - 1 decode steps.)
    const steps = (await metric(server.url, 'rwkv_decode_steps_total')) - steps0;
    const rows = (await metric(server.url, 'rwkv_decode_batch_size_sum')) - sum0;
    assert.equal(rows, 16 * (TOKENS - 1));
    t.diagnostic(`${steps} decode steps, mean batch ${(rows / steps).toFixed(1)}`);
    assert.ok(rows / steps > 4, `mean batch size ${rows / steps} over ${steps} steps`);
  });

  test('a client that disconnects mid-stream frees its slot', async () => {
    const cancelled0 = await metric(server.url, 'rwkv_generations_total', 'outcome="cancelled"');
    const controller = new AbortController();
    const res = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL_NAME, prompt: 'Go on', max_tokens: 4000, stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read(); // the stream is running
    assert.equal(await metric(server.url, 'rwkv_active_slots'), 1);
    controller.abort();
    await waitFor(async () => (await metric(server.url, 'rwkv_active_slots')) === 0, 'free slot');
    assert.equal(
      await metric(server.url, 'rwkv_generations_total', 'outcome="cancelled"'),
      cancelled0 + 1,
    );
    // The server goes on serving.
    const ok = await server.client.completions.create({
      model: MODEL_NAME,
      prompt: 'Hi',
      max_tokens: 2,
    });
    assert.equal(ok.usage!.completion_tokens, 2);
  });

  test('a non-streaming client that disconnects frees its slot too', async () => {
    const controller = new AbortController();
    const pending = fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL_NAME, prompt: 'Go on', max_tokens: 4000 }),
      signal: controller.signal,
    }).catch((err: Error) => err);
    await waitFor(async () => (await metric(server.url, 'rwkv_active_slots')) === 1, 'running');
    controller.abort();
    assert.ok((await pending) instanceof Error);
    await waitFor(async () => (await metric(server.url, 'rwkv_active_slots')) === 0, 'free slot');
  });
});
