// A byte trie in typed arrays for greedy longest-match tokenization (the official RWKV "trie
// tokenizer": at each position take the longest vocab token that matches the bytes there).
//
// Layout, chosen for speed: the first two levels are dense tables (a child of the root is found
// by its byte, a grandchild by its two bytes), because most World tokens are 1-3 bytes long
// (the shared fixture averages 1.8 bytes a token). Deeper edges live in one open-addressing hash
// table keyed by (parent node, byte). Node 0 means "none"; node ids start at 1.

import { TokenizerError } from './tokenizer.js';

const NO_TOKEN = -1;
const EMPTY = -1;
// 2^32 / golden ratio: multiplicative (Fibonacci) hashing spreads sequential node ids well.
const HASH_MULTIPLIER = 0x9e3779b1;
// Keys are node * 256 + byte in an Int32Array, so node ids must stay below 2^23.
const MAX_NODES = 1 << 23;

export class ByteTrie {
  private readonly level1 = new Int32Array(256);
  private readonly level2 = new Int32Array(65536);
  private tokenOf: Int32Array;
  // 1 for nodes with at least one child below level 2: a walk ending on a leaf skips the
  // hash probe that would only find nothing.
  private hasDeepChild: Uint8Array;
  private nodeCount = 1; // node 0 is "none"
  // Open addressing, linear probing; slot h holds its key at [2h] and the child at [2h + 1],
  // so a probe touches one cache line.
  private slots: Int32Array;
  private capacity: number;
  private edgeCount = 0;
  private shift: number;

  /**
   * The sizes, when known, avoid regrowing: `expectedNodes` bounds the node count (the vocab's
   * total byte count does), `expectedDeepEdges` the edges below level 2 (the sum over tokens of
   * max(0, length - 2) does). A small hash table matters: it is probed once per byte matched.
   */
  constructor(expectedNodes = 1024, expectedDeepEdges = 1024) {
    this.tokenOf = new Int32Array(Math.max(16, expectedNodes + 1)).fill(NO_TOKEN);
    this.hasDeepChild = new Uint8Array(this.tokenOf.length);
    // Sized to the bound, not twice it: distinct deep prefixes are far fewer than the bound
    // (112k of 243k for the World vocab), and addEdge regrows past half full anyway.
    const bits = Math.max(10, Math.ceil(Math.log2(Math.max(1, expectedDeepEdges))));
    this.capacity = 1 << bits;
    this.slots = new Int32Array(2 << bits).fill(EMPTY);
    this.shift = 32 - bits;
  }

  /** Number of trie nodes (distinct non-empty token prefixes). */
  get nodes(): number {
    return this.nodeCount - 1;
  }

  /** Adds a token; a later token with the same bytes replaces the id (as the official one does). */
  insert(bytes: Uint8Array, id: number): void {
    this.insertRange(bytes, 0, bytes.length, id);
  }

  /** Adds the token whose bytes are bytes[from, to) (no subarray needed when loading a vocab). */
  insertRange(bytes: Uint8Array, from: number, to: number, id: number): void {
    if (to <= from) throw new TokenizerError(`token ${id} has no bytes`);
    if (!Number.isInteger(id) || id < 0) throw new TokenizerError(`bad token id ${id}`);
    let node = this.level1[bytes[from]];
    if (node === 0) node = this.level1[bytes[from]] = this.newNode();
    if (to - from > 1) {
      const pair = (bytes[from] << 8) | bytes[from + 1];
      let child = this.level2[pair];
      if (child === 0) child = this.level2[pair] = this.newNode();
      node = child;
    }
    for (let i = from + 2; i < to; i++) {
      let child = this.child(node, bytes[i]);
      if (child === 0) {
        child = this.newNode();
        this.addEdge(node, bytes[i], child);
        this.hasDeepChild[node] = 1;
      }
      node = child;
    }
    this.tokenOf[node] = id;
  }

  /**
   * Writes the ids of `src` (longest match first) to `out` and returns how many there are.
   * `out` needs room for src.length ids (one per byte at most). Throws if a byte has no token.
   * A typed array, not push() onto number[]: measured here, push cost as much as the matching.
   */
  encodeInto(src: Uint8Array, out: Int32Array): number {
    if (out.length < src.length) throw new RangeError('encodeInto: output array too short');
    const { level1, level2, tokenOf, hasDeepChild, slots, shift } = this;
    const mask = this.capacity - 1;
    const n = src.length;
    let i = 0;
    let count = 0;
    while (i < n) {
      const b0 = src[i];
      let node = level1[b0];
      let best = node === 0 ? NO_TOKEN : tokenOf[node];
      let bestEnd = i + 1;
      if (node !== 0 && i + 1 < n) {
        node = level2[(b0 << 8) | src[i + 1]];
        let j = i + 2;
        while (node !== 0) {
          const token = tokenOf[node];
          if (token !== NO_TOKEN) {
            best = token;
            bestEnd = j;
          }
          if (j >= n || hasDeepChild[node] === 0) break;
          const key = (node << 8) | src[j];
          let h = Math.imul(key, HASH_MULTIPLIER) >>> shift;
          let k = slots[2 * h];
          while (k !== key && k !== EMPTY) {
            h = (h + 1) & mask;
            k = slots[2 * h];
          }
          node = k === EMPTY ? 0 : slots[2 * h + 1];
          j++;
        }
      }
      if (best === NO_TOKEN) {
        throw new TokenizerError(
          `no token matches the bytes at offset ${i} (0x${b0.toString(16).padStart(2, '0')})`,
        );
      }
      out[count++] = best;
      i = bestEnd;
    }
    return count;
  }

  private newNode(): number {
    if (this.nodeCount >= MAX_NODES) throw new TokenizerError('vocab too large for the trie');
    if (this.nodeCount === this.tokenOf.length) {
      const grown = new Int32Array(this.tokenOf.length * 2).fill(NO_TOKEN);
      grown.set(this.tokenOf);
      this.tokenOf = grown;
      const flags = new Uint8Array(grown.length);
      flags.set(this.hasDeepChild);
      this.hasDeepChild = flags;
    }
    return this.nodeCount++;
  }

  private child(node: number, byte: number): number {
    const key = (node << 8) | byte;
    const mask = this.capacity - 1;
    for (let h = Math.imul(key, HASH_MULTIPLIER) >>> this.shift; ; h = (h + 1) & mask) {
      const k = this.slots[2 * h];
      if (k === key) return this.slots[2 * h + 1];
      if (k === EMPTY) return 0;
    }
  }

  private addEdge(node: number, byte: number, child: number): void {
    // Keep the table at most half full so probe chains stay short.
    if ((this.edgeCount + 1) * 2 > this.capacity) this.rehash(this.capacity * 2);
    this.place((node << 8) | byte, child);
    this.edgeCount++;
  }

  private place(key: number, value: number): void {
    const mask = this.capacity - 1;
    let h = Math.imul(key, HASH_MULTIPLIER) >>> this.shift;
    while (this.slots[2 * h] !== EMPTY) h = (h + 1) & mask;
    this.slots[2 * h] = key;
    this.slots[2 * h + 1] = value;
  }

  private rehash(capacity: number): void {
    const old = this.slots;
    this.slots = new Int32Array(2 * capacity).fill(EMPTY);
    this.capacity = capacity;
    this.shift = 32 - Math.log2(capacity);
    for (let at = 0; at < old.length; at += 2) {
      if (old[at] !== EMPTY) this.place(old[at], old[at + 1]);
    }
  }
}
