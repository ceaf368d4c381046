// The saved-state format: a small binary blob that carries the model identity with the numbers,
// so a state is never silently applied to another model. Pure bytes (no file system), so it
// also runs in browsers; state-file.ts reads and writes it as files.
//   bytes 0..7   magic "RWKVSTAT"
//   bytes 8..11  u32 LE format version (1)
//   bytes 12..15 u32 LE length J of the JSON header
//   J bytes      UTF-8 JSON {model: {config, fingerprint}, floats, meta}
//   padding      zeros up to a multiple of 4
//   floats × 4   little-endian float32 state data
import type { RwkvConfig } from '../model/config.js';
import { RwkvState, assertSameShape, type ModelIdentity } from './state.js';

const MAGIC = 'RWKVSTAT';
const FORMAT_VERSION = 1;

export interface StateHeader {
  model: { config: RwkvConfig; fingerprint: string };
  floats: number;
  /** Free-form information the caller stores with the state (e.g. tokens consumed). */
  meta?: Record<string, unknown>;
}

export function encodeState(state: RwkvState, meta?: Record<string, unknown>): Uint8Array {
  const data = state.peek(); // throws if the newest data is still on a GPU (saveStateFile syncs)
  const header: StateHeader = { model: state.model, floats: data.length, meta };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerEnd = 16 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const out = new Uint8Array(dataStart + data.byteLength);
  out.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, FORMAT_VERSION, true);
  view.setUint32(12, json.length, true);
  out.set(json, 16);
  const floats = new DataView(out.buffer, dataStart);
  for (let i = 0; i < data.length; i++) floats.setFloat32(i * 4, data[i], true);
  return out;
}

export interface DecodeOptions {
  /** Accept a state from a model with the same shape but other weights. */
  allowOtherWeights?: boolean;
}

export function decodeState(
  bytes: Uint8Array,
  model: ModelIdentity,
  source = 'state',
  opts: DecodeOptions = {},
): { state: RwkvState; meta?: Record<string, unknown> } {
  const fail = (why: string): never => {
    throw new Error(`${source}: ${why}`);
  };
  if (bytes.length < 16) fail('file is too short to be a saved RWKV state');
  if (new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    fail('not a saved RWKV state (bad magic bytes)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== FORMAT_VERSION) fail(`state format version ${version} is not supported`);
  const jsonLen = view.getUint32(12, true);
  if (16 + jsonLen > bytes.length) fail('truncated header');
  let header: StateHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + jsonLen))) as StateHeader;
  } catch {
    return fail('corrupt header');
  }
  try {
    assertSameShape(model.config, header.model.config);
  } catch (err) {
    fail((err as Error).message);
  }
  if (
    !opts.allowOtherWeights &&
    header.model.fingerprint &&
    model.fingerprint &&
    header.model.fingerprint !== model.fingerprint
  ) {
    fail(
      `state was saved with other weights (fingerprint ${header.model.fingerprint}, this model ${model.fingerprint})`,
    );
  }
  const dataStart = Math.ceil((16 + jsonLen) / 4) * 4;
  const expectedBytes = header.floats * 4;
  if (bytes.length - dataStart !== expectedBytes) {
    fail(`expected ${expectedBytes} bytes of state data, found ${bytes.length - dataStart}`);
  }
  const state = new RwkvState(model);
  const data = state.data;
  if (header.floats !== data.length)
    fail(`state has ${header.floats} floats, model needs ${data.length}`);
  const floats = new DataView(bytes.buffer, bytes.byteOffset + dataStart, expectedBytes);
  for (let i = 0; i < header.floats; i++) data[i] = floats.getFloat32(i * 4, true);
  return { state, meta: header.meta };
}
