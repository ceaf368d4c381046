import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RepetitionPenalty } from '../../src/runtime/sampling/penalties.js';
import { Sampler } from '../../src/runtime/sampling/sampler.js';
import { whitespaceAndDigitTokens } from '../../src/runtime/sampling/exclusions.js';

describe('presence / frequency penalties with decay', () => {
  it('changes logits exactly as specified (hand-computed)', () => {
    // presence 0.5, frequency 0.25, decay 0.5; token 7 is excluded.
    const p = new RepetitionPenalty(0.5, 0.25, 0.5, new Set([7]));
    p.record(3); // counts: 3 → 1
    p.record(3); // 3 → 1·0.5 + 1 = 1.5
    p.record(7); // 3 → 0.75; 7 excluded (never counted)
    p.record(5); // 3 → 0.375; 5 → 1
    assert.equal(p.count(3), 0.375);
    assert.equal(p.count(5), 1);
    assert.equal(p.count(7), 0);
    const logits = new Float64Array([0, 0, 0, 2, 0, 1, 0, 4]);
    p.apply(logits);
    // token 3: 2 − (0.5 + 0.375·0.25) = 1.40625; token 5: 1 − (0.5 + 1·0.25) = 0.25
    assert.deepEqual(Array.from(logits), [0, 0, 0, 1.40625, 0, 0.25, 0, 4]);
  });

  it('uses ChatRWKV decay 0.996 by default and applies through the Sampler', () => {
    const s = new Sampler({ presencePenalty: 0.4, frequencyPenalty: 0.3, temperature: 0 }, 4);
    assert.equal(s.options.penaltyDecay, 0.996);
    s.accept(2);
    s.accept(2);
    const adjusted = s.adjust(Float32Array.from([0, 0, 1, 0]));
    const count = 1 * 0.996 + 1;
    assert.equal(adjusted[2], 1 - (0.4 + count * 0.3));
  });

  it('a penalised repeat changes the greedy choice', () => {
    const s = new Sampler({ presencePenalty: 0.5, temperature: 0 }, 3);
    const logits = Float32Array.from([1.0, 0.9, 0.0]);
    assert.equal(s.sample(logits), 0);
    s.accept(0);
    assert.equal(s.sample(logits), 1);
  });

  it('bias is added, banned tokens are never chosen', () => {
    const s = new Sampler({ logitBias: { 2: 3 }, bannedTokens: [1], temperature: 0 }, 4);
    const adjusted = s.adjust(Float32Array.from([1, 5, 0.5, 2]));
    assert.deepEqual(Array.from(adjusted), [1, -Infinity, 3.5, 2]);
    assert.equal(s.sample(Float32Array.from([1, 5, 0.5, 2])), 2);
    const sampled = new Sampler({ bannedTokens: [0], seed: 1 }, 2);
    for (let i = 0; i < 200; i++) assert.equal(sampled.sample(Float32Array.from([10, 0])), 1);
  });

  it('rejects out-of-range ids and values with a message', () => {
    assert.throws(() => new Sampler({ bannedTokens: [9] }, 4), /bannedTokens: token id 9/);
    assert.throws(() => new Sampler({ topP: 1.5 }, 4), /topP must be/);
    assert.throws(() => new Sampler({ topK: -1 }, 4), /topK must be/);
    const s = new Sampler({ bannedTokens: [0, 1] }, 2);
    assert.throws(() => s.sample(Float32Array.from([1, 2])), /every token is banned/);
    assert.throws(() => s.sample(Float32Array.from([1])), /logits have 1 entries/);
  });
});

describe('default penalty exclusions', () => {
  it('are the tokens whose text is only whitespace or only digits', () => {
    const texts = ['', ' ', '\n\n', 'a', '42', ' 4', '\t', '7', '\ufffd'];
    const fake = { vocabSize: texts.length, decode: (ids: readonly number[]) => texts[ids[0]] };
    assert.deepEqual([...whitespaceAndDigitTokens(fake)].sort(), [1, 2, 4, 6, 7]);
  });
});
