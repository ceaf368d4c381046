// Parser for the Python string and bytes literals that the RWKV World vocab file stores its tokens
// as (the file is written with Python's repr()). It follows the Python 3 lexical rules
// (https://docs.python.org/3/reference/lexical_analysis.html#string-and-bytes-literals):
// prefixes b/r/u in any case, both quote styles, triple quotes, and every escape:
// \<newline> \\ \' \" \a \b \f \n \r \t \v \ooo \xhh, and in str literals \uXXXX \UXXXXXXXX.
// A str literal's value is written out as UTF-8 (the official tokenizer calls .encode('utf-8')).
//
// The parser reads the UTF-8 source bytes, not a decoded string: unescaped characters of a str
// literal are then already the UTF-8 bytes of the token and are copied as they are, which keeps
// vocab loading fast. The caller must have checked that the source is valid UTF-8.

/** A growable byte buffer the parser appends to, so a whole vocab shares one allocation. */
export class ByteWriter {
  bytes: Uint8Array;
  length = 0;

  constructor(initialCapacity = 1024) {
    this.bytes = new Uint8Array(Math.max(16, initialCapacity));
  }

  byte(b: number): void {
    if (this.length === this.bytes.length) this.grow(1);
    this.bytes[this.length++] = b;
  }

  /** Appends the UTF-8 encoding of a Unicode scalar value (not a surrogate). */
  codePoint(cp: number): void {
    if (this.length + 4 > this.bytes.length) this.grow(4);
    const b = this.bytes;
    if (cp < 0x80) {
      b[this.length++] = cp;
    } else if (cp < 0x800) {
      b[this.length++] = 0xc0 | (cp >> 6);
      b[this.length++] = 0x80 | (cp & 0x3f);
    } else if (cp < 0x10000) {
      b[this.length++] = 0xe0 | (cp >> 12);
      b[this.length++] = 0x80 | ((cp >> 6) & 0x3f);
      b[this.length++] = 0x80 | (cp & 0x3f);
    } else {
      b[this.length++] = 0xf0 | (cp >> 18);
      b[this.length++] = 0x80 | ((cp >> 12) & 0x3f);
      b[this.length++] = 0x80 | ((cp >> 6) & 0x3f);
      b[this.length++] = 0x80 | (cp & 0x3f);
    }
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }

  private grow(extra: number): void {
    const next = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
  }
}

/** A literal that is not valid Python; `offset` is the byte offset in the parsed source. */
export class LiteralError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'LiteralError';
  }
}

/** What a literal turned out to be: a str literal (`isBytes` false) or a bytes literal. */
export interface LiteralKind {
  isBytes: boolean;
}

const BACKSLASH = 0x5c;
const SINGLE_QUOTE = 0x27;
const DOUBLE_QUOTE = 0x22;

// Single-character escapes shared by str and bytes literals: escaped char code → value.
const SIMPLE_ESCAPES = new Map<number, number>([
  [BACKSLASH, BACKSLASH],
  [SINGLE_QUOTE, SINGLE_QUOTE],
  [DOUBLE_QUOTE, DOUBLE_QUOTE],
  [0x61 /* a */, 0x07],
  [0x62 /* b */, 0x08],
  [0x66 /* f */, 0x0c],
  [0x6e /* n */, 0x0a],
  [0x72 /* r */, 0x0d],
  [0x74 /* t */, 0x09],
  [0x76 /* v */, 0x0b],
]);

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
const isOctal = (c: number): boolean => c >= 0x30 && c <= 0x37;
const isLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const hexValue = (c: number): number =>
  c >= 0x30 && c <= 0x39
    ? c - 0x30
    : c >= 0x61 && c <= 0x66
      ? c - 0x57
      : c >= 0x41 && c <= 0x46
        ? c - 0x37
        : -1;
const isTripleQuote = (src: Uint8Array, at: number, quote: number): boolean =>
  src[at] === quote && src[at + 1] === quote && src[at + 2] === quote;
// A lone surrogate (one not part of a pair), which UTF-8 cannot encode.
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Parses one literal given as source text and returns its bytes (str literals as UTF-8). */
export function parsePythonLiteral(source: string): Uint8Array {
  if (LONE_SURROGATE.test(source)) {
    throw new LiteralError('lone surrogate cannot be encoded as UTF-8', 0);
  }
  const src = new TextEncoder().encode(source);
  const out = new ByteWriter(src.length);
  parsePythonLiteralInto(src, 0, src.length, out);
  return out.toBytes();
}

/**
 * Parses the literal in the UTF-8 bytes src[start, end) (surrounding spaces allowed) and appends
 * its value's bytes to `out`. Throws LiteralError whose offset is an index into `src`.
 */
export function parsePythonLiteralInto(
  src: Uint8Array,
  start: number,
  end: number,
  out: ByteWriter,
): LiteralKind {
  while (start < end && isSpace(src[start])) start++;
  while (end > start && isSpace(src[end - 1])) end--;

  // Prefix letters (b, r, u in any case; br/rb), then the opening quote.
  let pos = start;
  while (pos < end && isLetter(src[pos])) pos++;
  const quote = pos < end ? src[pos] : -1;
  if (quote !== SINGLE_QUOTE && quote !== DOUBLE_QUOTE) {
    throw new LiteralError('expected a quoted Python str or bytes literal', pos);
  }
  const prefix = pos === start ? '' : String.fromCharCode(...src.subarray(start, pos));
  if (prefix !== '' && !['b', 'r', 'u', 'br', 'rb'].includes(prefix.toLowerCase())) {
    throw new LiteralError(`unsupported literal prefix '${prefix}'`, start);
  }
  const isBytes = /b/i.test(prefix);
  const isRaw = /r/i.test(prefix);
  const triple = end - pos >= 6 && isTripleQuote(src, pos, quote);
  const quoteLen = triple ? 3 : 1;
  const bodyStart = pos + quoteLen;
  const bodyEnd = end - quoteLen;
  if (
    bodyEnd < bodyStart ||
    src[end - 1] !== quote ||
    (triple && !isTripleQuote(src, bodyEnd, quote))
  ) {
    throw new LiteralError('literal does not end with its opening quote', end - 1);
  }

  let i = bodyStart;
  while (i < bodyEnd) {
    const c = src[i];
    if (c !== BACKSLASH && c !== quote && c !== 0x0a && c !== 0x0d) {
      // Copied as it is: an ASCII character, or a byte of a str literal's UTF-8 character.
      if (c >= 0x80 && isBytes) {
        throw new LiteralError('bytes literals may only contain ASCII characters', i);
      }
      out.byte(c);
      i++;
      continue;
    }
    if (c === BACKSLASH) {
      if (i + 1 >= bodyEnd) throw new LiteralError('literal ends inside an escape', i);
      i = isRaw ? keepEscape(src, i, isBytes, out) : parseEscape(src, i, bodyEnd, isBytes, out);
      continue;
    }
    if (c === quote && (!triple || isTripleQuote(src, i, quote))) {
      throw new LiteralError('unescaped quote closes the literal before its end', i);
    }
    if (!triple && (c === 0x0a || c === 0x0d)) {
      throw new LiteralError('line break inside a single-quoted literal', i);
    }
    out.byte(c);
    i++;
  }
  return { isBytes };
}

/**
 * Keeps the backslash at src[i] and the byte after it (raw literals, unknown escapes). The rest
 * of a multi-byte character after the backslash follows as ordinary bytes. Returns i + 2.
 */
function keepEscape(src: Uint8Array, i: number, isBytes: boolean, out: ByteWriter): number {
  if (isBytes && src[i + 1] >= 0x80) {
    throw new LiteralError('bytes literals may only contain ASCII characters', i + 1);
  }
  out.byte(BACKSLASH);
  out.byte(src[i + 1]);
  return i + 2;
}

/** Parses the escape starting at the backslash src[i]; returns the index after it. */
function parseEscape(
  src: Uint8Array,
  i: number,
  bodyEnd: number,
  isBytes: boolean,
  out: ByteWriter,
): number {
  const ch = src[i + 1];
  const simple = SIMPLE_ESCAPES.get(ch);
  if (simple !== undefined) {
    out.byte(simple);
    return i + 2;
  }
  if (ch === 0x0a) return i + 2; // backslash-newline continues the literal on the next line
  if (isOctal(ch)) {
    let j = i + 1;
    let value = 0;
    while (j < bodyEnd && j < i + 4 && isOctal(src[j])) value = value * 8 + (src[j++] - 0x30);
    writeValue(value, isBytes, i, out);
    return j;
  }
  const name = String.fromCharCode(ch);
  const digits = name === 'x' ? 2 : !isBytes && name === 'u' ? 4 : !isBytes && name === 'U' ? 8 : 0;
  if (digits > 0) {
    let value = 0;
    for (let j = i + 2; j < i + 2 + digits; j++) {
      const d = j < bodyEnd ? hexValue(src[j]) : -1;
      if (d < 0) {
        throw new LiteralError(`truncated \\${name} escape: needs ${digits} hex digits`, i);
      }
      value = value * 16 + d;
    }
    writeValue(value, isBytes, i, out);
    return i + 2 + digits;
  }
  if (!isBytes && name === 'N') {
    throw new LiteralError('\\N{...} named escapes are not supported', i);
  }
  // Python keeps an unrecognised escape as it is: the backslash and the character.
  return keepEscape(src, i, isBytes, out);
}

/** Writes an escaped value: a byte in bytes literals, a code point (as UTF-8) in str literals. */
function writeValue(value: number, isBytes: boolean, at: number, out: ByteWriter): void {
  if (isBytes) {
    if (value > 0xff) throw new LiteralError(`escape value ${value} is above 255`, at);
    out.byte(value);
    return;
  }
  if (value > 0x10ffff) throw new LiteralError(`escape value ${value} is above U+10FFFF`, at);
  if (value >= 0xd800 && value <= 0xdfff) {
    throw new LiteralError(`surrogate U+${value.toString(16)} cannot be encoded as UTF-8`, at);
  }
  out.codePoint(value);
}
