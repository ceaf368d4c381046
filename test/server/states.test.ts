// Saved states (/v1/states): save a conversation, continue it, fork it, delete it, and find
// it again after a server restart.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { renderMessages } from '../../src/runtime/chat-format.js';
import { MODEL_NAME, postJson, startTestServer, tinyWorld, type TestServer } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.stop());

const history = [
  { role: 'user' as const, content: 'My name is Ada.' },
  { role: 'assistant' as const, content: 'Hello Ada.' },
];
const next = { role: 'user' as const, content: 'What is my name?' };

async function chat(body: Record<string, unknown>) {
  const res = await postJson(`${server.url}/v1/chat/completions`, {
    model: MODEL_NAME,
    max_tokens: 8,
    temperature: 0,
    ...body,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.choices[0].message.content as string;
}

describe('/v1/states', () => {
  let saved: any;

  test('POST saves a conversation as a state', async () => {
    const { tokenizer } = await tinyWorld();
    const res = await postJson(`${server.url}/v1/states`, { messages: history });
    assert.equal(res.status, 201);
    saved = res.body;
    const text = renderMessages(history, { addGenerationPrompt: false });
    assert.match(saved.id, /^state_[0-9a-f]{24}$/);
    assert.equal(saved.object, 'state');
    assert.equal(saved.parent, null);
    assert.equal(saved.text, text);
    assert.equal(saved.tokens, tokenizer.encode(text).length);
    const got = await (await fetch(`${server.url}/v1/states/${saved.id}`)).json();
    assert.deepEqual(got, saved);
    // Written atomically: only the state file is in the folder, no temporary left behind.
    assert.deepEqual(readdirSync(server.stateDir), [`${saved.id}.state`]);
  });

  test('a chat request continues a saved state like the whole conversation', async () => {
    const fromState = await chat({ state: saved.id, messages: [next] });
    const whole = await chat({ messages: [...history, next] });
    assert.equal(fromState, whole);
  });

  test('fork: from + prompt extends a copy; from alone copies', async () => {
    const { tokenizer } = await tinyWorld();
    const extra = 'User: I live in London.\n\n';
    const fork = (await postJson(`${server.url}/v1/states`, { from: saved.id, prompt: extra }))
      .body;
    assert.equal(fork.parent, saved.id);
    assert.equal(fork.text, saved.text + extra);
    assert.equal(fork.tokens, saved.tokens + tokenizer.encode(extra).length);
    const copy = (await postJson(`${server.url}/v1/states`, { from: saved.id })).body;
    assert.equal(copy.tokens, saved.tokens);
    assert.notEqual(copy.id, saved.id);
    // The copy behaves as the original; the fork has read more.
    const original = await chat({ state: saved.id, messages: [next] });
    assert.equal(await chat({ state: copy.id, messages: [next] }), original);
    const list = (await (await fetch(`${server.url}/v1/states`)).json()).data.map((s: any) => s.id);
    assert.deepEqual(new Set(list), new Set([saved.id, fork.id, copy.id]));
  });

  test('states survive a restart; DELETE removes them', async () => {
    const before = await chat({ state: saved.id, messages: [next], temperature: 1, seed: 4 });
    await server.stop({ keepStateDir: true });
    server = await startTestServer({ stateDir: server.stateDir });
    const info = await (await fetch(`${server.url}/v1/states/${saved.id}`)).json();
    assert.deepEqual(info, saved);
    assert.equal(
      await chat({ state: saved.id, messages: [next], temperature: 1, seed: 4 }),
      before,
    );

    const del = await fetch(`${server.url}/v1/states/${saved.id}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.deepEqual(await del.json(), { id: saved.id, object: 'state', deleted: true });
    const gone = await fetch(`${server.url}/v1/states/${saved.id}`);
    assert.equal(gone.status, 404);
    assert.equal((await gone.json()).error.type, 'not_found_error');
    assert.equal(
      (await fetch(`${server.url}/v1/states/${saved.id}`, { method: 'DELETE' })).status,
      404,
    );
    const use = await postJson(`${server.url}/v1/chat/completions`, {
      model: MODEL_NAME,
      messages: [next],
      state: saved.id,
    });
    assert.equal(use.status, 404);
    assert.equal(use.body.error.param, 'state');
  });

  test('bad state requests get 400 or 404', async () => {
    const empty = await postJson(`${server.url}/v1/states`, {});
    assert.equal(empty.status, 400);
    const badFrom = await postJson(`${server.url}/v1/states`, { from: 'state_' + '0'.repeat(24) });
    assert.equal(badFrom.status, 404);
    assert.equal(badFrom.body.error.param, 'from');
    const badId = await postJson(`${server.url}/v1/chat/completions`, {
      model: MODEL_NAME,
      messages: [next],
      state: '../../etc/passwd',
    });
    assert.equal(badId.status, 400);
    assert.equal(badId.body.error.param, 'state');
    assert.equal((await fetch(`${server.url}/v1/states/..%2F..%2Fx`)).status, 404);
  });
});
