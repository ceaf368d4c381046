// The byte tokenizer, for byte-level models: every byte is its own token and id = byte value.
//
// Decisions:
// - ids 0..255 are the bytes 0x00..0xff, so any byte string round-trips exactly (0x00 included).
// - endOfText is id 0 (the NUL byte): byte-level models are trained on raw text, where NUL does
//   not occur, so it is the natural "stop" id; decoding it still yields the byte 0x00.
// - A model may have more rows than 256 (padded vocabularies): pass its vocabSize. Ids 256 and up
//   (below vocabSize) stand for no bytes and decode to nothing; encoding never produces them.
//   Ids outside 0..vocabSize-1 are an error.

import { checkId, TokenizerError, type IncrementalDecoder, type Tokenizer } from './tokenizer.js';
import { TokenStreamDecoder } from './utf8-stream.js';

// One shared one-byte view per byte value, so tokenBytes() allocates nothing.
const BYTE_VIEWS: readonly Uint8Array[] = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));
const EMPTY = new Uint8Array(0);

export class ByteTokenizer implements Tokenizer {
  readonly kind = 'bytes';
  readonly endOfText = 0;
  private readonly utf8Encoder = new TextEncoder();
  private readonly utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(readonly vocabSize = 256) {
    if (!Number.isInteger(vocabSize) || vocabSize < 256) {
      throw new TokenizerError(`byte tokenizer needs vocabSize >= 256, got ${vocabSize}`);
    }
  }

  encode(text: string): number[] {
    return this.encodeBytes(this.utf8Encoder.encode(text));
  }

  encodeBytes(bytes: Uint8Array): number[] {
    return Array.from(bytes);
  }

  tokenBytes(id: number): Uint8Array {
    checkId(id, this.vocabSize, this.kind);
    return id < 256 ? BYTE_VIEWS[id] : EMPTY;
  }

  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let count = 0;
    for (let i = 0; i < ids.length; i++) {
      checkId(ids[i], this.vocabSize, this.kind);
      if (ids[i] < 256) count++;
    }
    const out = new Uint8Array(count);
    let at = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] < 256) out[at++] = ids[i];
    return out;
  }

  decode(ids: ArrayLike<number>): string {
    return this.utf8Decoder.decode(this.decodeBytes(ids));
  }

  createDecoder(): IncrementalDecoder {
    return new TokenStreamDecoder((id) => this.tokenBytes(id));
  }
}
