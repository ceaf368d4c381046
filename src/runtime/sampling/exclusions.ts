// The default set of tokens exempt from repetition penalties. ChatRWKV exempts tokens whose
// text is a space, a tab or digits (rwkv.utils.PIPELINE.generate: `if ttt in ' \t0123456789'`)
// because prose needs them over and over; generalised here to every token that decodes to
// only whitespace (any run of spaces, tabs, newlines …) or only ASCII digits.

const ONLY_WHITESPACE = /^\s+$/u;
const ONLY_DIGITS = /^[0-9]+$/;

/** What this needs from a tokenizer: the text of a single token. */
export interface TokenTextSource {
  readonly vocabSize: number;
  decode(tokens: readonly number[]): string;
}

const cache = new WeakMap<object, ReadonlySet<number>>();

/** Ids (excluding 0, end of text) whose text is only whitespace or only digits. Cached. */
export function whitespaceAndDigitTokens(tokenizer: TokenTextSource): ReadonlySet<number> {
  const hit = cache.get(tokenizer);
  if (hit) return hit;
  const set = new Set<number>();
  for (let id = 1; id < tokenizer.vocabSize; id++) {
    // A token holding part of a multi-byte character decodes to U+FFFD, which matches neither.
    const text = tokenizer.decode([id]);
    if (ONLY_WHITESPACE.test(text) || ONLY_DIGITS.test(text)) set.add(id);
  }
  cache.set(tokenizer, set);
  return set;
}
