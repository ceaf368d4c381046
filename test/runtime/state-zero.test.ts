// RwkvState.isZero: backends clear a device copy instead of uploading the floats while it holds,
// so it must turn false at every way the data can change.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stateFloats } from '../../src/model/config.js';
import { RwkvState } from '../../src/runtime/state.js';
import { standardConfig } from '../../src/model/synthetic.js';

const model = { config: { ...standardConfig('0.1B'), nLayer: 1 }, fingerprint: '' };

describe('RwkvState.isZero', () => {
  it('holds for a new or reset state until its data is handed out or lives on a device', async () => {
    const s = new RwkvState(model);
    assert.equal(s.isZero, true, 'new state');
    // Its CPU buffer is made on first access; the size is known before.
    assert.equal(s.byteLength, stateFloats(model.config) * 4);
    s.peek(); // read-only access leaves it zero
    assert.equal(s.isZero, true, 'after peek');
    s.data[5] = 1;
    assert.equal(s.isZero, false, 'after a write through data');
    s.reset();
    assert.equal(s.isZero, true, 'after reset');

    s.markOnDevice({ pull: async (into) => void into.fill(2) });
    assert.equal(s.isZero, false, 'advanced on a device');
    await s.sync();
    assert.equal(s.isZero, false, 'after pulling device data');
    assert.equal(s.peek()[0], 2);

    // Reset of a state that lived on a device: zeros, and any device copy is stale.
    const v = s.version;
    s.reset();
    assert.equal(s.isZero, true, 'after reset of device-pulled data');
    assert.notEqual(s.version, v, 'reset changes the version');
    assert.ok(
      s.peek().every((x) => x === 0),
      'reset data reads as zeros',
    );
    const fresh = new RwkvState(model);
    fresh.markOnDevice({ pull: async (into) => void into.fill(3) });
    const fv = fresh.version;
    fresh.reset(); // never had a CPU buffer
    assert.equal(fresh.onDevice, false, 'reset drops the device copy');
    assert.notEqual(fresh.version, fv, 'reset changes the version without a CPU buffer too');
    assert.ok(
      fresh.peek().every((x) => x === 0),
      'a reset state without a buffer reads as zeros',
    );

    const given = new RwkvState(model, new Float32Array(s.peek().length));
    assert.equal(given.isZero, false, 'made from data (not known to be zeros)');
    assert.equal(s.clone().isZero, false, 'a clone is made from data');
  });
});
