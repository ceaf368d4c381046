// Saved states as files (Node): the format is in state-codec.ts.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { decodeState, encodeState, type DecodeOptions } from './state-codec.js';
import type { ModelIdentity, RwkvState } from './state.js';

/** Atomic save: write a temporary file, then rename it over the target. */
export async function saveStateFile(
  path: string,
  state: RwkvState,
  meta?: Record<string, unknown>,
): Promise<void> {
  await state.sync(); // a state advanced on a GPU is copied back first
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, encodeState(state, meta));
  await rename(tmp, path);
}

export async function loadStateFile(
  path: string,
  model: ModelIdentity,
  opts: DecodeOptions = {},
): Promise<{ state: RwkvState; meta?: Record<string, unknown> }> {
  return decodeState(await readFile(path), model, path, opts);
}
