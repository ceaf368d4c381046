// The prefix state cache: unit behaviour (longest proper prefix, origins, LRU under a byte
// budget) and, through the API, a second chat turn that resumes from the first turn's state
// instead of reading the whole history again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PrefixStateCache } from '../../src/server/state-cache.js';
import { MODEL_NAME, metric, startTestServer, tinyWorld, type TestServer } from './helpers.js';

describe('PrefixStateCache', () => {
  test('finds the longest cached proper prefix and hands out copies', async () => {
    const { backend } = await tinyWorld();
    const cache = new PrefixStateCache(1 << 20);
    const a = backend.createState();
    a.data[0] = 1;
    const ab = backend.createState();
    ab.data[0] = 2;
    cache.store('', 'User: a', 3, a);
    cache.store('', 'User: a\n\nAssistant: b', 7, ab);
    a.data[0] = 99; // the cache kept its own copy

    const hit = cache.lookup('', 'User: a\n\nAssistant: b\n\nUser: c');
    assert.ok(hit);
    assert.equal(hit.textLength, 'User: a\n\nAssistant: b'.length);
    assert.equal(hit.tokens, 7);
    assert.equal(hit.state.data[0], 2);
    hit.state.data[0] = 5;
    assert.equal(cache.lookup('', 'User: a\n\nAssistant: b!')!.state.data[0], 2);
    assert.equal(cache.lookup('', 'User: a.')!.state.data[0], 1);
    // Equal text is not a hit (nothing would be left to read for the next logits) …
    assert.equal(cache.lookup('', 'User: a\n\nAssistant: b')!.tokens, 3);
    // … nor is another origin's text or a non-prefix.
    assert.equal(cache.lookup('state_x', 'User: a\n\nAssistant: b!'), null);
    assert.equal(cache.lookup('', 'User: x'), null);
    assert.equal(cache.hits, 4);
    assert.equal(cache.misses, 2);
  });

  test('evicts least recently used states beyond the byte budget', async () => {
    const { backend } = await tinyWorld();
    const bytes = backend.createState().byteLength;
    const cache = new PrefixStateCache(2 * bytes);
    cache.store('', 'one', 1, backend.createState());
    cache.store('', 'two', 1, backend.createState());
    assert.ok(cache.lookup('', 'one more')); // "one" is now the most recently used
    cache.store('', 'three', 1, backend.createState());
    assert.equal(cache.size, 2);
    assert.equal(cache.usedBytes, 2 * bytes);
    assert.ok(cache.lookup('', 'one more'));
    assert.equal(cache.lookup('', 'two more'), null);
    assert.ok(cache.lookup('', 'three more'));

    const off = new PrefixStateCache(0);
    off.store('', 'one', 1, backend.createState());
    assert.equal(off.size, 0);
  });
});

describe('second chat turn', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => server.stop());

  /** Streams a chat reply; returns its text, usage and the time to the first text. */
  async function turn(messages: { role: 'user' | 'assistant'; content: string }[]) {
    // A trained model replies " word word …" after "Assistant:"; the random fixture model does
    // not, so a bias makes it start each word with a space as real replies do (otherwise the
    // rendered history "Assistant: reply" would differ from the generated "Assistant:reply").
    const { tokenizer } = await tinyWorld();
    const spaced = [' the', ' sky', ' was', ' grey'].map((w) => tokenizer.encode(w)[0]);
    const started = performance.now();
    let ttft = 0;
    let text = '';
    let usage: any = null;
    const stream = await server.client.chat.completions.create({
      model: MODEL_NAME,
      messages,
      max_tokens: 6,
      seed: 9,
      logit_bias: Object.fromEntries(spaced.map((id) => [id, 30])),
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content ?? '';
      if (piece && !ttft) ttft = performance.now() - started;
      text += piece;
      usage = chunk.usage ?? usage;
    }
    return { text, usage, ttft };
  }

  test('resumes from the cached state: reads only the new messages', async (t) => {
    // A long first turn (~800 tokens of history).
    const history = Array.from({ length: 80 }, (_, i) => `Fact ${i}: the sky was grey.`).join(' ');
    const first = [{ role: 'user' as const, content: history }];
    const prefill0 = await metric(server.url, 'rwkv_prefill_tokens_total');
    const one = await turn(first);
    const prefillFirst = (await metric(server.url, 'rwkv_prefill_tokens_total')) - prefill0;
    assert.ok(one.usage.prompt_tokens > 500, `first prompt ${one.usage.prompt_tokens} tokens`);
    assert.equal(prefillFirst, one.usage.prompt_tokens);
    assert.equal(one.usage.prompt_tokens_details.cached_tokens, 0);

    const hits0 = await metric(server.url, 'rwkv_state_cache_hits_total');
    const second = [
      ...first,
      { role: 'assistant' as const, content: one.text },
      { role: 'user' as const, content: 'And then?' },
    ];
    const two = await turn(second);
    const prefillSecond =
      (await metric(server.url, 'rwkv_prefill_tokens_total')) - prefill0 - prefillFirst;

    assert.equal((await metric(server.url, 'rwkv_state_cache_hits_total')) - hits0, 1);
    // The history was not read again: only the tail of the reply and the new message were.
    const cached = two.usage.prompt_tokens_details.cached_tokens;
    assert.ok(cached > one.usage.prompt_tokens, `cached ${cached} tokens`);
    assert.equal(prefillSecond, two.usage.prompt_tokens - cached);
    assert.ok(prefillSecond < 20, `second turn read ${prefillSecond} tokens`);
    t.diagnostic(
      `first turn: ${one.usage.prompt_tokens} prompt tokens read, first token after ${Math.round(one.ttft)} ms; ` +
        `second turn: ${two.usage.prompt_tokens} prompt tokens, ${cached} from the cache, ` +
        `${prefillSecond} read, first token after ${Math.round(two.ttft)} ms`,
    );
  });

  test('the cached end-of-reply state is exactly the prompt and the reply tokens it read', async () => {
    const { backend, tokenizer } = await tinyWorld();
    const prompt = 'Counting sheep:';
    const [sheep] = tokenizer.encode(' sheep');
    const res = await server.client.completions.create({
      model: MODEL_NAME,
      prompt,
      max_tokens: 4,
      logit_bias: { [sheep]: 100 },
    });
    assert.equal(res.choices[0].text, ' sheep'.repeat(4));
    // Stopped by max_tokens: the 4th token was sampled but never read, so the state holds
    // the prompt and three " sheep".
    const hit = server.ctx.cache.lookup('', prompt + ' sheep'.repeat(5));
    assert.ok(hit);
    assert.equal(hit.textLength, (prompt + ' sheep'.repeat(3)).length);
    const expected = backend.createState();
    await backend.forward(expected, [...tokenizer.encode(prompt), sheep, sheep, sheep]);
    assert.equal(hit.tokens, tokenizer.encode(prompt).length + 3);
    assert.deepEqual(hit.state.data, expected.data);
  });
});
