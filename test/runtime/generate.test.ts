import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Backend } from '../../src/backends/backend.js';
import { generate, type GenerationPiece } from '../../src/runtime/generate.js';
import { loadModel } from '../../src/runtime/load.js';
import { Session } from '../../src/runtime/session.js';
import { openTokenizer, type Tokenizer } from '../../src/tokenizer/index.js';
import { modelFixtures, vocabPath } from '../helpers/fixtures.js';
import { ScriptedBackend } from './helpers/scripted-backend.js';

const world = modelFixtures().find((f) => f.name === 'tiny-world')!;
let tokenizer: Tokenizer;

before(() => {
  tokenizer = openTokenizer({ vocab: vocabPath });
});

async function collect(it: AsyncIterable<GenerationPiece>): Promise<GenerationPiece[]> {
  const out: GenerationPiece[] = [];
  for await (const p of it) out.push(p);
  return out;
}

describe('generate on tiny-world (real model)', () => {
  let backend: Backend;
  before(async () => {
    backend = await loadModel(world.files[0]);
  });

  it('greedy continuation equals the reference tokens and bytes', async () => {
    const ref = world.reference;
    assert.deepEqual(tokenizer.encode(ref.prompt!), ref.tokens);
    const session = new Session(backend);
    const gen = generate(session, tokenizer, {
      prompt: ref.prompt,
      temperature: 0,
      maxTokens: ref.greedy.length,
    });
    const pieces = await collect(gen);
    const r = gen.result!;
    assert.deepEqual(r.tokens, ref.greedy);
    assert.equal(Buffer.from(r.text, 'utf8').toString('hex'), ref.greedy_bytes_hex);
    assert.equal(pieces.map((p) => p.text).join(''), r.text);
    assert.equal(r.finishReason, 'length');
    assert.deepEqual(r.usage, {
      promptTokens: ref.tokens.length,
      completionTokens: ref.greedy.length,
      totalTokens: ref.tokens.length + ref.greedy.length,
    });
    // Every generated token, the last included, is in the state.
    assert.equal(session.tokenCount, ref.tokens.length + ref.greedy.length);
    const direct = backend.createState();
    await backend.forward(direct, [...ref.tokens, ...ref.greedy]);
    assert.deepEqual(session.state.data, direct.data);
  });

  it('a generation continued from the session picks up exactly where it stopped', async () => {
    const ref = world.reference;
    const session = new Session(backend);
    const half = ref.greedy.length / 2;
    const first = await generate(session, tokenizer, {
      promptTokens: ref.tokens,
      temperature: 0,
      maxTokens: half,
    }).complete();
    const second = await generate(session, tokenizer, {
      temperature: 0,
      maxTokens: half,
    }).complete();
    assert.deepEqual([...first.tokens, ...second.tokens], ref.greedy);
    assert.equal(second.usage.promptTokens, 0);
  });

  it('a seed reproduces a sampled continuation exactly (and forks are independent)', async () => {
    const base = new Session(backend);
    await base.feed(world.reference.tokens);
    const opts = { temperature: 1.2, topP: 0.9, topK: 200, maxTokens: 16, seed: 31337 };
    const a = await generate(await base.fork(), tokenizer, opts).complete();
    const b = await generate(await base.fork(), tokenizer, opts).complete();
    const c = await generate(await base.fork(), tokenizer, { ...opts, seed: 31338 }).complete();
    assert.deepEqual(a.tokens, b.tokens);
    assert.equal(a.text, b.text);
    assert.notDeepEqual(a.tokens, c.tokens);
    assert.equal(base.tokenCount, world.reference.tokens.length);
  });
});

describe('generate: stops, feeding and abort (scripted model)', () => {
  let backend: ScriptedBackend;
  before(() => {
    backend = new ScriptedBackend(tokenizer.vocabSize);
  });

  async function run(script: number[], opts: Parameters<typeof generate>[2]) {
    backend.play(script);
    backend.fed.length = 0;
    const session = new Session(backend);
    const gen = generate(session, tokenizer, { temperature: 0, ...opts });
    const pieces = await collect(gen);
    return { pieces, result: gen.result!, fed: [...backend.fed], session };
  }

  it('a stop string spanning several tokens stops cleanly and is never emitted', async () => {
    const body = tokenizer.encode('Hi there');
    const stopParts = [' ST', 'OP', '!'].map((s) => tokenizer.encode(s));
    const script = [...body, ...stopParts.flat(), ...tokenizer.encode(' after')];
    const prompt = tokenizer.encode('Q:');
    const { pieces, result, fed } = await run(script, {
      promptTokens: prompt,
      stop: ['STOP!'],
      maxTokens: 50,
    });
    assert.equal(result.text, 'Hi there ');
    assert.equal(pieces.map((p) => p.text).join(''), 'Hi there ');
    assert.equal(result.finishReason, 'stop');
    assert.deepEqual(result.stoppedBy, { string: 'STOP!' });
    // The state holds the prompt and every token through the stop string, nothing after.
    assert.deepEqual(fed, [...prompt, ...body, ...stopParts.flat()]);
  });

  it('a token running past the stop string is replaced by the bytes up to its end', async () => {
    const nlnlSpace = tokenizer.encode('\n\n ');
    assert.equal(nlnlSpace.length, 1, 'the World vocab has "\\n\\n " as one token');
    const body = tokenizer.encode('Yes.');
    const { result, fed } = await run([...body, nlnlSpace[0], ...tokenizer.encode('User')], {
      promptTokens: [33],
      stop: '\n\n',
    });
    assert.equal(result.text, 'Yes.');
    assert.deepEqual(result.tokens, [...body, nlnlSpace[0]]);
    assert.deepEqual(fed, [33, ...body, ...tokenizer.encode('\n\n')]);
    assert.equal(tokenizer.decode(fed.slice(1)), 'Yes.\n\n');
  });

  it('a stop string completed by a token that finishes a split character', async () => {
    // "€" = E2 82 AC: byte token E2 (id 0xE2 + 1), then the vocab token for the bytes 82 AC.
    const tail = tokenizer.encodeBytes(Uint8Array.from([0x82, 0xac]));
    assert.equal(tail.length, 1);
    const script = [...tokenizer.encode('5 '), 0xe2 + 1, tail[0], ...tokenizer.encode('x')];
    const { result, fed } = await run(script, { promptTokens: [33], stop: ['€'] });
    assert.equal(result.text, '5 ');
    assert.deepEqual(fed, [33, ...script.slice(0, -1)]);
  });

  it('the end-of-text token stops without being emitted or fed', async () => {
    const body = tokenizer.encode('done');
    const { result, fed } = await run([...body, 0, 44], { promptTokens: [33] });
    assert.deepEqual(result.stoppedBy, { token: 0 });
    assert.deepEqual(result.tokens, body);
    assert.deepEqual(fed, [33, ...body]);
  });

  it('held-back text is released when generation ends for another reason', async () => {
    const script = tokenizer.encode('abc END');
    const { pieces, result } = await run(script, {
      promptTokens: [33],
      stop: ['END!'],
      maxTokens: script.length,
    });
    assert.equal(result.finishReason, 'length');
    assert.equal(result.text, 'abc END');
    assert.equal(result.text, tokenizer.decode(result.tokens));
    assert.equal(pieces.map((p) => p.text).join(''), 'abc END');
  });

  it('an AbortSignal stops between tokens; what was emitted is in the state', async () => {
    const controller = new AbortController();
    backend.play(tokenizer.encode(' one two three four five six seven'));
    backend.fed.length = 0;
    const session = new Session(backend);
    const gen = generate(session, tokenizer, {
      promptTokens: [33],
      temperature: 0,
      maxTokens: 100,
      signal: controller.signal,
    });
    let n = 0;
    for await (const piece of gen) {
      if (piece.token !== null && ++n === 3) controller.abort();
    }
    const r = gen.result!;
    assert.equal(r.finishReason, 'abort');
    assert.equal(r.tokens.length, 3);
    assert.deepEqual(backend.fed, [33, ...r.tokens]);
    assert.equal(session.tokenCount, 4);
  });

  it('refuses to continue a session that has nothing fed', async () => {
    const gen = generate(new Session(backend), tokenizer, { maxTokens: 3 });
    await assert.rejects(gen.complete(), /give a prompt/);
  });
});
