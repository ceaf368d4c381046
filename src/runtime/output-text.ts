// The text side of generation: generated token ids → UTF-8-safe text pieces, with stop strings
// held back (sampling/stop-strings.ts), and the exact bytes up to the end of a stop string so
// the state can be made to end precisely there.
import type { IncrementalDecoder, Tokenizer } from '../tokenizer/tokenizer.js';
import { StopStringMatcher, type StopScan } from './sampling/stop-strings.js';

// ignoreBOM: the tokenizer's own decoder keeps a leading U+FEFF, so must this one.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

export class OutputText {
  private readonly decoder: IncrementalDecoder;
  private readonly matcher: StopStringMatcher;
  /** Every byte of every pushed token, in order. */
  private bytes = new Uint8Array(256);
  private byteLength = 0;
  /** Everything the UTF-8 decoder has produced (emitted or held back). */
  private decoded = '';

  constructor(
    private readonly tokenizer: Tokenizer,
    stops: Iterable<string>,
  ) {
    this.decoder = tokenizer.createDecoder();
    this.matcher = new StopStringMatcher(stops);
  }

  /** Adds a generated token; reports the text safe to show and whether a stop string ended. */
  push(token: number): StopScan {
    const b = this.tokenizer.tokenBytes(token);
    if (this.byteLength + b.length > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.byteLength + b.length));
      grown.set(this.bytes.subarray(0, this.byteLength));
      this.bytes = grown;
    }
    this.bytes.set(b, this.byteLength);
    this.byteLength += b.length;
    const text = this.decoder.push(token);
    this.decoded += text;
    return this.matcher.push(text);
  }

  /** End of generation without a stop string: held text plus any unfinished character. */
  finish(): string {
    return this.matcher.flush() + this.decoder.flush();
  }

  /**
   * After `push` reported a stop: the output bytes from `fromByte` up to exactly the end of the
   * stop string (`overflow` = the text that followed it). Searches the shortest byte prefix
   * whose UTF-8 decoding is the text through the stop string; decoding is deterministic
   * (WHATWG UTF-8), so this is the same boundary the streaming decoder saw.
   */
  bytesThroughStop(fromByte: number, overflow: string): Uint8Array {
    const target = this.decoded.slice(0, this.decoded.length - overflow.length);
    for (let end = fromByte + 1; end <= this.byteLength; end++) {
      if (utf8.decode(this.bytes.subarray(0, end)) === target) {
        return this.bytes.slice(fromByte, end);
      }
    }
    // Unreachable for well-formed stop strings; keeping every byte is the safe fallback.
    return this.bytes.slice(fromByte, this.byteLength);
  }

  /** Bytes pushed so far. */
  get totalBytes(): number {
    return this.byteLength;
  }
}
