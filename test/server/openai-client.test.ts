// The server driven by the official `openai` npm client: chat and text completions, streamed
// and not, stop sequences, seeds, logit_bias and usage counts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { renderMessages } from '../../src/runtime/chat-format.js';
import { MODEL_NAME, MODEL_PATH, startTestServer, tinyWorld, type TestServer } from './helpers.js';

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => server.stop());

const messages = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'Name three colours.' },
];

async function streamChat(params: Record<string, unknown>) {
  const stream = await server.client.chat.completions.create({
    model: MODEL_NAME,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    ...params,
  } as any);
  const chunks: any[] = [];
  for await (const chunk of stream as any) chunks.push(chunk);
  return chunks;
}

describe('openai client', () => {
  test('models.list shows the served model', async () => {
    const page = await server.client.models.list();
    assert.deepEqual(
      page.data.map((m) => m.id),
      [MODEL_NAME],
    );
    const one = await server.client.models.retrieve(MODEL_NAME);
    assert.equal(one.object, 'model');
  });

  test('chat completion: OpenAI response shape, finish_reason length, usage', async () => {
    const { tokenizer } = await tinyWorld();
    const res = await server.client.chat.completions.create({
      model: MODEL_NAME,
      messages,
      max_tokens: 8,
      seed: 7,
    });
    assert.equal(res.object, 'chat.completion');
    assert.match(res.id, /^chatcmpl-/);
    assert.equal(res.model, MODEL_NAME);
    assert.equal(res.choices.length, 1);
    assert.equal(res.choices[0].message.role, 'assistant');
    assert.equal(typeof res.choices[0].message.content, 'string');
    assert.ok(res.choices[0].message.content!.length > 0);
    assert.equal(res.choices[0].finish_reason, 'length');
    const promptTokens = tokenizer.encode(renderMessages(messages)).length;
    assert.deepEqual(
      { ...res.usage, prompt_tokens_details: undefined },
      {
        prompt_tokens: promptTokens,
        completion_tokens: 8,
        total_tokens: promptTokens + 8,
        prompt_tokens_details: undefined,
      },
    );
  });

  test('chat streaming: role first, deltas equal the non-streamed reply, usage last', async () => {
    const whole = await server.client.chat.completions.create({
      model: MODEL_NAME,
      messages,
      max_tokens: 10,
      seed: 11,
    });
    const chunks = await streamChat({ max_tokens: 10, seed: 11 });
    assert.equal(chunks[0].object, 'chat.completion.chunk');
    assert.equal(chunks[0].choices[0].delta.role, 'assistant');
    const withChoice = chunks.filter((c) => c.choices.length > 0);
    const text = withChoice.map((c) => c.choices[0].delta.content ?? '').join('');
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(withChoice.at(-1).choices[0].finish_reason, 'length');
    assert.ok(withChoice.slice(0, -1).every((c) => c.choices[0].finish_reason === null));
    const usage = chunks.at(-1);
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.completion_tokens, 10);
    assert.equal(usage.usage.prompt_tokens, whole.usage!.prompt_tokens);
  });

  test('text completion, streamed and not, agree for the same seed', async () => {
    const { tokenizer } = await tinyWorld();
    const prompt = 'The history of the printing press';
    const whole = await server.client.completions.create({
      model: MODEL_NAME,
      prompt,
      max_tokens: 12,
      seed: 3,
      temperature: 0.8,
      top_p: 0.9,
    });
    assert.equal(whole.object, 'text_completion');
    assert.equal(whole.usage!.prompt_tokens, tokenizer.encode(prompt).length);
    assert.equal(whole.usage!.completion_tokens, 12);
    const stream = await server.client.completions.create({
      model: MODEL_NAME,
      prompt,
      max_tokens: 12,
      seed: 3,
      temperature: 0.8,
      top_p: 0.9,
      stream: true,
    });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0].text;
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    assert.equal(text, whole.choices[0].text);
    assert.equal(finish, 'length');

    const echoed = await server.client.completions.create({
      model: MODEL_NAME,
      prompt,
      max_tokens: 12,
      seed: 3,
      temperature: 0.8,
      top_p: 0.9,
      echo: true,
    });
    assert.equal(echoed.choices[0].text, prompt + whole.choices[0].text);
  });

  test('seeded reproducibility: same seed same text, other seed other text', async () => {
    const ask = (seed: number) =>
      server.client.completions
        .create({ model: MODEL_NAME, prompt: 'Once upon a time', max_tokens: 16, seed })
        .then((r) => r.choices[0].text);
    const [a, b, c] = [await ask(42), await ask(42), await ask(43)];
    assert.equal(a, b);
    assert.notEqual(a, c);
  });

  test('temperature 0 reproduces the official greedy continuation of the fixture', async () => {
    const ref = JSON.parse(readFileSync(MODEL_PATH.replace('model.pth', 'reference.json'), 'utf8'));
    const res = await server.client.completions.create({
      model: MODEL_NAME,
      prompt: ref.prompt,
      max_tokens: ref.greedy.length,
      temperature: 0,
    });
    const expected = new TextDecoder().decode(Buffer.from(ref.greedy_bytes_hex, 'hex'));
    assert.equal(res.choices[0].text, expected);
    assert.equal(res.usage!.prompt_tokens, ref.tokens.length);
  });

  test('stop sequences end the text right before the stop string, streamed and not', async () => {
    const base = { model: MODEL_NAME, prompt: 'A list of fruits:', max_tokens: 24, seed: 5 };
    const free = (await server.client.completions.create(base)).choices[0].text;
    // A stop string taken from the middle of the free-running text: the same seed must stop
    // right where it first appears.
    const stop = free.slice(Math.floor(free.length / 2), Math.floor(free.length / 2) + 3);
    const cut = free.indexOf(stop);
    assert.ok(stop.length === 3 && cut > 0, `usable stop string from ${JSON.stringify(free)}`);
    const stopped = await server.client.completions.create({ ...base, stop: [stop, 'never-seen'] });
    assert.equal(stopped.choices[0].text, free.slice(0, cut));
    assert.equal(stopped.choices[0].finish_reason, 'stop');

    const stream = await server.client.completions.create({ ...base, stop, stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0].text;
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    assert.equal(text, free.slice(0, cut));
    assert.equal(finish, 'stop');
  });

  test('chat stop sequence and logit_bias', async () => {
    const { tokenizer } = await tinyWorld();
    const [word] = tokenizer.encode(' hello');
    // A +100 bias makes one token certain: the reply is that token repeated.
    const forced = await server.client.chat.completions.create({
      model: MODEL_NAME,
      messages,
      max_tokens: 4,
      logit_bias: { [word]: 100 },
    });
    assert.equal(forced.choices[0].message.content, 'hello hello hello hello');
    const stopped = await server.client.chat.completions.create({
      model: MODEL_NAME,
      messages,
      max_tokens: 4,
      logit_bias: { [word]: 100 },
      stop: ['lo h'],
    });
    assert.equal(stopped.choices[0].message.content, 'hel');
    assert.equal(stopped.choices[0].finish_reason, 'stop');
  });
});
