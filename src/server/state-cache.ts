// Prefix state cache: after a request, the state that has read a text is kept (a copy), keyed by
// that exact text. A later request whose text starts with a cached text resumes from the copy
// and reads only the rest — a chat's next turn then costs the new messages, not the whole
// history. Entries are evicted least-recently-used once their states exceed the byte budget.
//
// Matching is on text, not tokens: the rest is tokenized on its own, as RWKV's chat demos feed
// each new turn onto the running state. (A model's generated tokens often differ from how the
// tokenizer would split the same text, so token-prefix keys would rarely match a next turn.)
import type { RwkvState } from '../runtime/state.js';

export interface CacheHit {
  /** Length (UTF-16 units) of the matched prefix of the looked-up text. */
  readonly textLength: number;
  /** Tokens the cached state has read. */
  readonly tokens: number;
  /** A private copy of the cached state, free to advance. */
  readonly state: RwkvState;
}

interface Entry {
  readonly origin: string;
  readonly text: string;
  readonly tokens: number;
  readonly state: RwkvState;
}

export class PrefixStateCache {
  /** Insertion order is recency order: the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  hits = 0;
  misses = 0;
  /** Prompt tokens that did not have to be read thanks to hits. */
  tokensSaved = 0;

  constructor(readonly budgetBytes: number) {}

  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  /**
   * The longest cached text that is a proper prefix of `text` (something must be left to read,
   * since a state alone does not carry the logits for the next token), for states that started
   * from `origin` ('' = the zero state, else a saved state's id).
   */
  lookup(origin: string, text: string): CacheHit | null {
    let best: Entry | null = null;
    for (const entry of this.entries.values()) {
      if (entry.origin !== origin || entry.text.length >= text.length) continue;
      if (best && entry.text.length <= best.text.length) continue;
      if (text.startsWith(entry.text)) best = entry;
    }
    if (!best) {
      this.misses++;
      return null;
    }
    this.hits++;
    this.tokensSaved += best.tokens;
    const key = keyOf(best.origin, best.text);
    this.entries.delete(key);
    this.entries.set(key, best);
    return { textLength: best.text.length, tokens: best.tokens, state: best.state.clone() };
  }

  /** Keeps a copy of `state`, which has read `text` (`tokens` tokens) starting from `origin`. */
  store(origin: string, text: string, tokens: number, state: RwkvState): void {
    if (this.budgetBytes <= 0 || text.length === 0 || state.byteLength > this.budgetBytes) return;
    const key = keyOf(origin, text);
    this.remove(key);
    this.entries.set(key, { origin, text, tokens, state: state.clone() });
    this.bytes += state.byteLength;
    for (const [oldest] of this.entries) {
      if (this.bytes <= this.budgetBytes) break;
      this.remove(oldest);
    }
  }

  /** Forgets every entry that started from `origin` (e.g. a deleted saved state). */
  dropOrigin(origin: string): void {
    for (const [key, entry] of [...this.entries]) if (entry.origin === origin) this.remove(key);
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.state.byteLength;
  }
}

function keyOf(origin: string, text: string): string {
  return `${origin}\u0000${text}`;
}
