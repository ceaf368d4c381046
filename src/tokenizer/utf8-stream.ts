// A streaming UTF-8 decoder that follows the WHATWG Encoding Standard's "UTF-8 decoder" algorithm
// step by step (https://encoding.spec.whatwg.org/#utf-8-decoder). That algorithm is what a
// non-fatal TextDecoder runs, and its output does not depend on how the bytes are chunked, so
// decoding token by token gives exactly the text (U+FFFD included) of decoding all bytes at once.
// It is written out here rather than using TextDecoder's {stream: true} so the behaviour is the
// same in every runtime (Node, browsers) and can be tested byte for byte.

import type { IncrementalDecoder } from './tokenizer.js';

const REPLACEMENT = 0xfffd;

export class Utf8StreamDecoder {
  private codePoint = 0;
  private bytesNeeded = 0;
  private bytesSeen = 0;
  private lowerBoundary = 0x80;
  private upperBoundary = 0xbf;

  /** Bytes of an unfinished character that are being held. */
  get pendingBytes(): number {
    return this.bytesNeeded === 0 ? 0 : this.bytesSeen + 1;
  }

  /** Decodes `bytes`, returning the characters they complete; an unfinished one is held. */
  write(bytes: Uint8Array): string {
    const units: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i];
      if (this.bytesNeeded === 0) {
        if (byte <= 0x7f) {
          units.push(byte);
        } else if (byte >= 0xc2 && byte <= 0xdf) {
          this.bytesNeeded = 1;
          this.codePoint = byte & 0x1f;
        } else if (byte >= 0xe0 && byte <= 0xef) {
          // E0 must be followed by A0..BF (no overlong forms); ED by 80..9F (no surrogates).
          if (byte === 0xe0) this.lowerBoundary = 0xa0;
          if (byte === 0xed) this.upperBoundary = 0x9f;
          this.bytesNeeded = 2;
          this.codePoint = byte & 0x0f;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
          // F0 must be followed by 90..BF (no overlong forms); F4 by 80..8F (max U+10FFFF).
          if (byte === 0xf0) this.lowerBoundary = 0x90;
          if (byte === 0xf4) this.upperBoundary = 0x8f;
          this.bytesNeeded = 3;
          this.codePoint = byte & 0x07;
        } else {
          units.push(REPLACEMENT);
        }
        continue;
      }
      if (byte < this.lowerBoundary || byte > this.upperBoundary) {
        // The held prefix can never complete: it becomes one U+FFFD, and this byte starts over
        // ("prepend byte to stream" in the spec).
        this.clear();
        units.push(REPLACEMENT);
        i--;
        continue;
      }
      this.lowerBoundary = 0x80;
      this.upperBoundary = 0xbf;
      this.codePoint = (this.codePoint << 6) | (byte & 0x3f);
      this.bytesSeen++;
      if (this.bytesSeen === this.bytesNeeded) {
        pushCodePoint(units, this.codePoint);
        this.clear();
      }
    }
    return unitsToString(units);
  }

  /** Ends the stream: a held unfinished character becomes one U+FFFD. */
  end(): string {
    if (this.bytesNeeded === 0) return '';
    this.clear();
    return String.fromCharCode(REPLACEMENT);
  }

  /** Forgets any held bytes. */
  clear(): void {
    this.codePoint = 0;
    this.bytesNeeded = 0;
    this.bytesSeen = 0;
    this.lowerBoundary = 0x80;
    this.upperBoundary = 0xbf;
  }
}

function pushCodePoint(units: number[], cp: number): void {
  if (cp < 0x10000) {
    units.push(cp);
  } else {
    const v = cp - 0x10000;
    units.push(0xd800 | (v >> 10), 0xdc00 | (v & 0x3ff));
  }
}

// String.fromCharCode takes its units as arguments; chunking keeps the argument count well under
// engines' limits for long inputs.
const CHUNK = 8192;

function unitsToString(units: number[]): string {
  if (units.length <= CHUNK) return String.fromCharCode(...units);
  let out = '';
  for (let i = 0; i < units.length; i += CHUNK) {
    out += String.fromCharCode(...units.slice(i, i + CHUNK));
  }
  return out;
}

/** The IncrementalDecoder of any tokenizer: looks up each id's bytes and streams them as UTF-8. */
export class TokenStreamDecoder implements IncrementalDecoder {
  private readonly utf8 = new Utf8StreamDecoder();

  constructor(private readonly tokenBytes: (id: number) => Uint8Array) {}

  get pendingBytes(): number {
    return this.utf8.pendingBytes;
  }

  push(id: number): string {
    return this.utf8.write(this.tokenBytes(id));
  }

  pushAll(ids: ArrayLike<number>): string {
    let out = '';
    for (let i = 0; i < ids.length; i++) out += this.push(ids[i]);
    return out;
  }

  flush(): string {
    return this.utf8.end();
  }

  reset(): void {
    this.utf8.clear();
  }
}
