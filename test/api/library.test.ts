// The README's "Use it from TypeScript" example, run against the tiny World fixture: the public
// entry point exposes what the example uses, and it behaves as the README says.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { generate, loadModel, openTokenizer, Session } from '../../src/index.js';
import { modelFixtures, vocabPath } from '../helpers/fixtures.js';

const fx = modelFixtures().find((f) => f.name === 'tiny-world')!;

describe('library entry point (src/index.ts)', () => {
  it('runs the README example: load, feed, generate, fork, save, load', async () => {
    const model = await loadModel(fx.files[0], { device: 'cpu' });
    const tokenizer = openTokenizer({ vocab: vocabPath });
    const session = new Session(model);
    const prompt = fx.reference.prompt as string;
    let streamed = '';
    const gen = generate(session, tokenizer, { prompt, temperature: 0, maxTokens: 8 });
    for await (const piece of gen) streamed += piece.text;
    const result = await gen.complete();
    assert.equal(streamed, result.text);
    assert.deepEqual(result.tokens, (fx.reference.greedy as number[]).slice(0, 8));

    // A fork continues like the original; a saved session continues like the original.
    const branch = await session.fork();
    const dir = await mkdtemp(join(tmpdir(), 'rwkv-api-'));
    try {
      await session.save(join(dir, 'chat.state'));
      const { session: again } = await Session.load(model, join(dir, 'chat.state'));
      const next = [1, 2, 3];
      const a = await session.feed(next);
      const b = await branch.feed(next);
      const c = await again.feed(next);
      assert.deepEqual(b, a);
      assert.deepEqual(c, a);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await model.dispose();
    }
  });
});
