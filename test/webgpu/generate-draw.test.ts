// `generate` (the CLI's and the library's path) on WebGPU draws each token after the first on
// the GPU (Session.step) and gives the same text, seed for seed, as reading every row back; a
// drawn token that ends the generation (a stop token) leaves the session's logits recoverable.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Backend } from '../../src/backends/backend.js';
import type { WebGpuBackend } from '../../src/backends/webgpu/backend.js';
import { openCheckpoint } from '../../src/io/open-checkpoint.js';
import { generate, type GenerateOptions } from '../../src/runtime/generate.js';
import { Sampler } from '../../src/runtime/sampling/sampler.js';
import { Session } from '../../src/runtime/session.js';
import { openTokenizer } from '../../src/tokenizer/load.js';
import type { Tokenizer } from '../../src/tokenizer/tokenizer.js';
import { backendsFor, gpu } from './gpu-test-helpers.js';
import { withoutDeviceDraw } from '../../src/backends/device-draw.js';

const shared = fileURLToPath(new URL('../../../shared/', import.meta.url));
const MODEL = join(shared, 'fixtures/rwkv7/tiny-world/model.pth');
const VOCAB = join(shared, 'vocab/rwkv_vocab_v20230424.txt');

let g: WebGpuBackend;
let plain: Backend;
let tokenizer: Tokenizer;
before(async () => {
  g = (await backendsFor(await openCheckpoint(MODEL))).gpu;
  tokenizer = openTokenizer({ vocab: VOCAB, vocabSize: g.config.vocabSize });
  plain = withoutDeviceDraw(g);
});
after(async () => {
  await g?.dispose();
  (await gpu()).destroy();
});

async function run(backend: Backend, opts: GenerateOptions) {
  const session = new Session(backend);
  const result = await generate(session, tokenizer, opts).complete();
  return { result, session };
}

describe('generate with the GPU draw', () => {
  it('gives the same tokens and final logits as reading every row back', async () => {
    for (const opts of [
      { prompt: 'The river', maxTokens: 20, temperature: 0 },
      { prompt: 'Once', maxTokens: 20, temperature: 1, seed: 3, presencePenalty: 0.4 },
      { prompt: 'A', maxTokens: 20, temperature: 0.8, topK: 10, topP: 0.7, seed: 5 },
    ] as GenerateOptions[]) {
      const before = g.drawStats.drawn;
      const a = await run(g, opts);
      const drawn = g.drawStats.drawn - before;
      const b = await run(plain, opts);
      assert.deepEqual(a.result.tokens, b.result.tokens, JSON.stringify(opts));
      assert.equal(a.result.text, b.result.text);
      assert.deepEqual(a.session.logits, b.session.logits); // the last token is fed plainly
      assert.equal(a.session.tokenCount, b.session.tokenCount);
      assert.ok(drawn > 0, `${JSON.stringify(opts)}: no token was drawn on the GPU`);
    }
  });

  it('a drawn stop token leaves the logits recoverable; another step loses them', async () => {
    const greedy = await run(plain, { prompt: 'The river', maxTokens: 6, temperature: 0 });
    const stop = greedy.result.tokens[4];
    // Greedy with no changes: every step after the first is drawn on the GPU.
    const a = await run(g, {
      prompt: 'The river',
      maxTokens: 6,
      temperature: 0,
      stopTokens: [stop],
    });
    assert.deepEqual(a.result.tokens, greedy.result.tokens.slice(0, 4));
    assert.deepEqual(a.result.stoppedBy, { token: stop });
    const b = await run(plain, {
      prompt: 'The river',
      maxTokens: 6,
      temperature: 0,
      stopTokens: [stop],
    });
    assert.ok(a.session.logits, 'the logits were read back after the drawn stop token');
    assert.deepEqual(a.session.logits, b.session.logits);

    // Session.step directly: once another step ran, the device no longer has the row.
    const s = new Session(g);
    await s.feed(tokenizer.encode('The river'));
    const out = await s.step(
      greedy.result.tokens[0],
      new Sampler({ temperature: 0 }, g.config.vocabSize).planDraw(),
    );
    assert.ok('token' in out);
    assert.equal(s.logits, null);
    await new Session(g).feed([1, 2, 3]);
    assert.equal(await s.recoverLogits(), null);
  });
});
