// A session saved as bytes (what browsers keep in IndexedDB or send over the network) continues
// bit-identically, and bytes that are not a state of this model are refused with their name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/runtime/load.js';
import { Session } from '../../src/runtime/session.js';
import { modelFixtures } from '../helpers/fixtures.js';

const [a, b] = ['tiny-a', 'tiny-fp16'].map((n) => modelFixtures().find((f) => f.name === n)!);

describe('Session.toBytes / Session.fromBytes', () => {
  it('round-trips and continues bit-identically', async () => {
    const model = await loadModel(a.files[0], { threads: 1 });
    try {
      const tokens = a.reference.tokens;
      const live = new Session(model);
      await live.feed(tokens.slice(0, 5));
      const bytes = await live.toBytes({ note: 'kept' });
      const { session, meta } = Session.fromBytes(model, bytes, 'in-memory');
      assert.equal(session.tokenCount, 5);
      assert.equal(meta.note, 'kept');
      assert.deepEqual(await session.feed(tokens.slice(5)), await live.feed(tokens.slice(5)));
      assert.deepEqual(session.state.data, live.state.data);

      assert.throws(() => Session.fromBytes(model, bytes.subarray(0, 12), 'cut'), /^Error: cut: /);
      const other = await loadModel(b.files[0], { threads: 1 });
      try {
        const foreign = await new Session(other).toBytes();
        assert.throws(() => Session.fromBytes(model, foreign, 'foreign.state'), /foreign\.state/);
      } finally {
        await other.dispose();
      }
    } finally {
      await model.dispose();
    }
  });
});
