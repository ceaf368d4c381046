// Saved conversation states on disk, one file per state in the format of runtime/state-file.ts
// (written atomically: temporary file, then rename), so they survive a server restart and are
// refused if the server now runs other weights.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { loadStateFile, saveStateFile } from '../runtime/state-file.js';
import type { ModelIdentity, RwkvState } from '../runtime/state.js';

export interface SavedStateInfo {
  id: string;
  object: 'state';
  /** Unix seconds. */
  created: number;
  /** The state this one was forked from, or null. */
  parent: string | null;
  /** Tokens read from the zero state to reach this state (parents included). */
  tokens: number;
  /** The text read from the zero state (parents included). */
  text: string;
}

/** Ids are generated here; the pattern keeps request paths from naming other files. */
export const STATE_ID_PATTERN = '^state_[0-9a-f]{24}$';
const idRegex = new RegExp(STATE_ID_PATTERN);

export class StateStore {
  constructor(
    readonly dir: string,
    private readonly model: ModelIdentity,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  private file(id: string): string {
    if (!idRegex.test(id)) throw new Error(`not a state id: ${id}`);
    return join(this.dir, `${id}.state`);
  }

  async save(state: RwkvState, info: Omit<SavedStateInfo, 'id' | 'object' | 'created'>) {
    const full: SavedStateInfo = {
      id: `state_${randomBytes(12).toString('hex')}`,
      object: 'state',
      created: Math.floor(Date.now() / 1000),
      ...info,
    };
    await saveStateFile(this.file(full.id), state, { ...full });
    return full;
  }

  /** The state and its description, or null when there is no such saved state. */
  async load(id: string): Promise<{ state: RwkvState; info: SavedStateInfo } | null> {
    if (!idRegex.test(id)) return null;
    let loaded;
    try {
      loaded = await loadStateFile(this.file(id), this.model);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return { state: loaded.state, info: toInfo(id, loaded.meta) };
  }

  async delete(id: string): Promise<boolean> {
    if (!idRegex.test(id)) return false;
    try {
      await rm(this.file(id));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  async list(): Promise<SavedStateInfo[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const out: SavedStateInfo[] = [];
    for (const name of names) {
      const id = name.endsWith('.state') ? name.slice(0, -'.state'.length) : '';
      if (!idRegex.test(id)) continue;
      const loaded = await this.load(id).catch(() => null);
      if (loaded) out.push(loaded.info);
    }
    return out.sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
  }
}

function toInfo(id: string, meta: Record<string, unknown> | undefined): SavedStateInfo {
  const m = meta ?? {};
  return {
    id,
    object: 'state',
    created: typeof m.created === 'number' ? m.created : 0,
    parent: typeof m.parent === 'string' ? m.parent : null,
    tokens: typeof m.tokens === 'number' ? m.tokens : 0,
    text: typeof m.text === 'string' ? m.text : '',
  };
}
