import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StopStringMatcher } from '../../src/runtime/sampling/stop-strings.js';

function stream(stops: string[], pieces: string[]) {
  const m = new StopStringMatcher(stops);
  let shown = '';
  for (const p of pieces) {
    const r = m.push(p);
    shown += r.emit;
    if (r.stop !== null) return { shown, stop: r.stop, overflow: r.overflow };
  }
  return { shown: shown + m.flush(), stop: null, overflow: '' };
}

describe('stop strings', () => {
  it('a stop string spread over several pieces stops cleanly and is never shown', () => {
    const r = stream(['END!'], ['Hello E', 'N', 'D', '! and more']);
    assert.deepEqual(r, { shown: 'Hello ', stop: 'END!', overflow: ' and more' });
  });

  it('holds back a possible start and releases it once ruled out', () => {
    const m = new StopStringMatcher(['\n\nUser:']);
    assert.deepEqual(m.push('Hi\n'), { emit: 'Hi', stop: null, overflow: '' });
    assert.equal(m.pending, '\n');
    assert.deepEqual(m.push('\nUs'), { emit: '', stop: null, overflow: '' });
    assert.deepEqual(m.push('ed it'), { emit: '\n\nUsed it', stop: null, overflow: '' });
  });

  it('releases held text at the end of the stream', () => {
    assert.deepEqual(stream(['abc'], ['xx', 'ab']), { shown: 'xxab', stop: null, overflow: '' });
  });

  it('finds the earliest of several stop strings, even inside one piece', () => {
    assert.deepEqual(stream(['zz', 'b'], ['a', 'bzz']), { shown: 'a', stop: 'b', overflow: 'zz' });
    assert.deepEqual(stream(['\n\n'], ['one\n\n\ntwo']), {
      shown: 'one',
      stop: '\n\n',
      overflow: '\ntwo',
    });
  });

  it('with no stop strings everything passes straight through', () => {
    assert.deepEqual(stream([], ['a', 'b']), { shown: 'ab', stop: null, overflow: '' });
  });

  it('rejects an empty stop string', () => {
    assert.throws(() => new StopStringMatcher(['']), /non-empty/);
  });
});
