// The RWKV World tokenizer: greedy longest match over UTF-8 bytes against the World vocab, the
// behaviour of the official TRIE_TOKENIZER (RWKV-LM, rwkv_tokenizer.py).
//
// Ids: 0 = end of text (no bytes); 1..65535 = the vocab's tokens. Ids in range that the vocab
// does not define (65530..65535 in rwkv_vocab_v20230424) decode to no bytes, like id 0, so a
// model sampling one cannot crash a stream; ids outside 0..vocabSize-1 are an error.

import { ByteTrie } from './byte-trie.js';
import { checkId, type IncrementalDecoder, type Tokenizer } from './tokenizer.js';
import { TokenStreamDecoder } from './utf8-stream.js';
import type { WorldVocab } from './world-vocab.js';

const EMPTY = new Uint8Array(0);

export class WorldTokenizer implements Tokenizer {
  readonly kind = 'world';
  readonly endOfText = 0;
  readonly vocabSize: number;
  private readonly trie: ByteTrie;
  private readonly utf8Encoder = new TextEncoder();
  // Non-fatal (U+FFFD for bad bytes); ignoreBOM keeps a leading U+FEFF that is part of the text.
  private readonly utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(readonly vocab: WorldVocab) {
    this.vocabSize = vocab.vocabSize;
    // File order, so that of two ids with the same bytes the later one encodes, as officially.
    const { pool, start, length, idsInFileOrder: ids } = vocab;
    let deepEdges = 0;
    for (let i = 0; i < ids.length; i++) deepEdges += Math.max(0, length[ids[i]] - 2);
    this.trie = new ByteTrie(pool.length, deepEdges);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      this.trie.insertRange(pool, start[id], start[id] + length[id], id);
    }
  }

  encode(text: string): number[] {
    return this.encodeBytes(this.utf8Encoder.encode(text));
  }

  encodeBytes(bytes: Uint8Array): number[] {
    const scratch = this.scratchFor(bytes.length);
    const count = this.trie.encodeInto(bytes, scratch);
    // Filling a presized array: measured ~2x faster than push() for 243k ids on this machine.
    const ids = new Array<number>(count);
    for (let i = 0; i < count; i++) ids[i] = scratch[i];
    return ids;
  }

  // Ids are staged in a reused typed array; one kept up to 1M entries (4 MiB), larger inputs get
  // a temporary one so a single huge input does not pin its memory.
  private scratch = new Int32Array(4096);
  private scratchFor(n: number): Int32Array {
    if (n <= this.scratch.length) return this.scratch;
    const array = new Int32Array(Math.max(n, this.scratch.length * 2));
    if (array.length <= 1 << 20) this.scratch = array;
    return array;
  }

  tokenBytes(id: number): Uint8Array {
    checkId(id, this.vocabSize, this.kind);
    const length = this.vocab.length[id];
    if (length === 0) return EMPTY;
    const start = this.vocab.start[id];
    return this.vocab.pool.subarray(start, start + length);
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    const { start, length, pool } = this.vocab;
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      checkId(ids[i], this.vocabSize, this.kind);
      total += length[ids[i]];
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (let i = 0; i < ids.length; i++) {
      const from = start[ids[i]];
      const to = from + length[ids[i]];
      // Tokens are short (1.8 bytes on average): a plain loop beats subarray()+set() here.
      for (let j = from; j < to; j++) out[at++] = pool[j];
    }
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    return this.utf8Decoder.decode(this.decodeBytes(ids));
  }

  createDecoder(): IncrementalDecoder {
    return new TokenStreamDecoder((id) => this.tokenBytes(id));
  }
}
