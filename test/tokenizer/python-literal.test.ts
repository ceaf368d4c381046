import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LiteralError, parsePythonLiteral } from '../../src/tokenizer/python-literal.js';

// Literal source text as it appears in a vocab line → expected bytes as hex.
const hexOf = (literal: string): string => Buffer.from(parsePythonLiteral(literal)).toString('hex');
const utf8Hex = (text: string): string => Buffer.from(text, 'utf8').toString('hex');

describe('Python literal parser', () => {
  it('reads plain str literals in both quote styles as UTF-8', () => {
    assert.equal(hexOf(`'abc'`), utf8Hex('abc'));
    assert.equal(hexOf(`"it's"`), utf8Hex("it's"));
    assert.equal(hexOf(`'say "hi"'`), utf8Hex('say "hi"'));
    assert.equal(hexOf(`'é中😀'`), utf8Hex('é中😀'));
    assert.equal(hexOf(`' a b '`), utf8Hex(' a b '));
    assert.equal(hexOf(`''`), '');
    assert.equal(hexOf(`  'x'  `), utf8Hex('x')); // spaces around the literal are allowed
  });

  it('reads the quote and backslash escapes', () => {
    assert.equal(hexOf(String.raw`'\\'`), '5c');
    assert.equal(hexOf(String.raw`'\''`), '27');
    assert.equal(hexOf(String.raw`"\""`), '22');
    assert.equal(hexOf(String.raw`'\"'`), '22');
    assert.equal(hexOf(String.raw`'a\\n'`), utf8Hex('a\\n'));
  });

  it('reads the single-letter control escapes', () => {
    assert.equal(hexOf(String.raw`'\n\t\r'`), '0a090d');
    assert.equal(hexOf(String.raw`'\a\b\f\v'`), '07080c0b');
  });

  it('reads \\x escapes as code points in str literals and as bytes in bytes literals', () => {
    assert.equal(hexOf(String.raw`'\x00'`), '00');
    assert.equal(hexOf(String.raw`'\x7f'`), '7f');
    assert.equal(hexOf(String.raw`'\x85'`), 'c285'); // U+0085 as UTF-8
    assert.equal(hexOf(String.raw`'\xe9'`), 'c3a9');
    assert.equal(hexOf(String.raw`b'\x85'`), '85');
    assert.equal(hexOf(String.raw`b'\xE4\xb8'`), 'e4b8');
  });

  it('reads \\u and \\U escapes in str literals', () => {
    assert.equal(hexOf(String.raw`'\u200b'`), 'e2808b');
    assert.equal(hexOf(String.raw`'\u00E9x'`), 'c3a978');
    assert.equal(hexOf(String.raw`'\U0001F600'`), 'f09f9880');
    assert.equal(hexOf(String.raw`'\U00000041'`), '41');
  });

  it('keeps \\u and unknown escapes literally, as Python does', () => {
    assert.equal(hexOf(String.raw`b'\u0041'`), utf8Hex('\\u0041'));
    assert.equal(hexOf(String.raw`'\q'`), utf8Hex('\\q'));
    assert.equal(hexOf(String.raw`'\é'`), utf8Hex('\\é'));
  });

  it('reads octal escapes of one to three digits', () => {
    assert.equal(hexOf(String.raw`'\0'`), '00');
    assert.equal(hexOf(String.raw`'\101'`), '41');
    assert.equal(hexOf(String.raw`'\1011'`), '4131'); // at most three digits
    assert.equal(hexOf(String.raw`'\7a'`), '0761');
    assert.equal(hexOf(String.raw`'\351'`), 'c3a9'); // U+00E9 in a str literal
    assert.equal(hexOf(String.raw`b'\377'`), 'ff');
  });

  it('reads prefixes: b/B bytes, r raw, u unicode, br/rb', () => {
    assert.equal(hexOf(`B"xy"`), '7879');
    assert.equal(hexOf(`b''`), '');
    assert.equal(hexOf(`u'x'`), '78');
    assert.equal(hexOf(String.raw`r'\n'`), '5c6e');
    assert.equal(hexOf(String.raw`rb'\x41'`), utf8Hex('\\x41'));
    assert.equal(hexOf(String.raw`Br'\''`), '5c27');
  });

  it('reads triple-quoted literals', () => {
    assert.equal(hexOf(`'''a'b'''`), utf8Hex("a'b"));
    assert.equal(hexOf(`"""x"y"""`), utf8Hex('x"y'));
  });

  it('rejects what Python would reject, saying why', () => {
    const bad: [string, RegExp][] = [
      [`'abc`, /does not end with its opening quote/],
      [`abc`, /expected a quoted/],
      [`'a'b'`, /unescaped quote/],
      [`'a' 'b'`, /unescaped quote/],
      [`x'a'`, /unsupported literal prefix 'x'/],
      [`ub'a'`, /unsupported literal prefix/],
      [`b'é'`, /only contain ASCII/],
      [String.raw`'\x4'`, /truncated \\x escape/],
      [String.raw`'\u12'`, /truncated \\u escape/],
      [String.raw`'\ud800'`, /surrogate/],
      [String.raw`'\U00110000'`, /above U\+10FFFF/],
      [String.raw`b'\777'`, /above 255/],
      [String.raw`'\N{EM DASH}'`, /named escapes/],
      [String.raw`'abc\'`, /does not end with its opening quote|ends inside an escape/],
      [`'a\nb'`, /line break/],
      [`'\ud83d'`, /lone surrogate/],
    ];
    for (const [literal, message] of bad) {
      assert.throws(
        () => parsePythonLiteral(literal),
        (err: unknown) => err instanceof LiteralError && message.test(err.message),
        `${literal} should fail with ${message}`,
      );
    }
  });
});
