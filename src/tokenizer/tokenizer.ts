// The one tokenizer interface the rest of the engine talks to (runtime, server, CLI). Both the
// RWKV World tokenizer and the byte tokenizer implement it.

/**
 * Turns a stream of token ids back into text without ever splitting a UTF-8 character: bytes of a
 * character that is not complete yet are held until the ids that complete it arrive.
 * The concatenation of everything `push` and `flush` return equals `tokenizer.decode(allIds)`.
 */
export interface IncrementalDecoder {
  /** Adds one id; returns the text that became complete (often '', never a split character). */
  push(id: number): string;
  /** Adds several ids at once; same result as pushing them one by one. */
  pushAll(ids: ArrayLike<number>): string;
  /**
   * Ends the stream: bytes still held (an unfinished character) come out as U+FFFD, exactly as a
   * whole decode would show them. The decoder is then empty and can be reused.
   */
  flush(): string;
  /** Drops any held bytes without emitting them. */
  reset(): void;
  /** Number of bytes held back because their character is not complete yet. */
  readonly pendingBytes: number;
}

export interface Tokenizer {
  /** 'world' or 'bytes'; for messages and model/tokenizer compatibility checks. */
  readonly kind: string;
  /** Number of ids a model with this tokenizer emits (logit rows); valid ids are 0..vocabSize-1. */
  readonly vocabSize: number;
  /** The id that marks the end of a text (generation stops on it). */
  readonly endOfText: number;
  /** Ids of the UTF-8 encoding of `text` (lone surrogates become U+FFFD, as TextEncoder does). */
  encode(text: string): number[];
  /** Ids of raw bytes (need not be valid UTF-8). */
  encodeBytes(bytes: Uint8Array): number[];
  /** The bytes the ids stand for, concatenated. */
  decodeBytes(ids: ArrayLike<number>): Uint8Array;
  /** The text of the ids: their bytes decoded as UTF-8, invalid sequences shown as U+FFFD. */
  decode(ids: ArrayLike<number>): string;
  /** The bytes of one id (empty for ids that stand for no bytes, such as end of text). */
  tokenBytes(id: number): Uint8Array;
  /** A fresh streaming decoder for generated ids. */
  createDecoder(): IncrementalDecoder;
}

/** A problem with tokenizer input or a vocab file; names the file (and line) when there is one. */
export class TokenizerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenizerError';
  }
}

/** Throws unless `id` is an integer in 0..vocabSize-1; shared by the tokenizers' decoders. */
export function checkId(id: number, vocabSize: number, kind: string): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new TokenizerError(
      `token id ${String(id)} is outside the ${kind} tokenizer's range 0..${vocabSize - 1}`,
    );
  }
}
