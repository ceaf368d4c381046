// The logits the sampler works on: a float64 copy of the model's row with logit bias, bans and
// repetition penalties applied — and, from the same pass, the largest value and its lowest
// index, so that neither greedy decoding nor the softmax needs another pass over 65536 values.
//
// The copy keeps the TOP raw values (ids and values). Bias, bans and penalties then change a
// few hundred tokens, which are listed. Every token in neither list still holds its raw value,
// at most the smallest kept one, so the maximum is the best of the two short lists whenever
// that best is strictly larger. Penalties often lower the top token (it was just generated),
// and this avoids a second pass for that case. Otherwise (or on NaN, ±∞) the whole row is
// rescanned, and maxLogit throws the same errors as before (NaN logits, all banned, +∞).

import { maxLogit } from './distribution.js';
import type { RepetitionPenalty } from './penalties.js';

/** Raw values kept by the copy: enough that penalising the top few tokens needs no rescan. */
const TOP = 16;

export class AdjustedLogits {
  readonly values: Float64Array;
  /** The largest adjusted logit (exact and finite after `settle`). */
  max = -Infinity;
  /** The lowest token id holding `max` (the greedy choice). */
  best = -1;
  /** The TOP largest raw values, descending (equal values by id), and their ids. */
  private readonly topValues = new Float64Array(TOP);
  private readonly topIds = new Int32Array(TOP);
  /** How many of them are filled, or −1 when the row held a NaN. */
  private topCount = 0;
  /** Tokens changed by bias, bans or penalties since the copy (may repeat). */
  private touched = new Int32Array(256);
  private touchedCount = 0;
  private readonly onChange = (token: number) => this.touch(token);

  constructor(readonly vocabSize: number) {
    this.values = new Float64Array(vocabSize);
  }

  /** Fill `values` from `logits`, apply bias, bans and penalties (in that order); no checks. */
  load(
    logits: ArrayLike<number>,
    bias: ReadonlyMap<number, number>,
    banned: ReadonlySet<number>,
    penalty: RepetitionPenalty,
  ): void {
    if (logits.length !== this.vocabSize) {
      throw new Error(`logits have ${logits.length} entries, the vocabulary has ${this.vocabSize}`);
    }
    const v = this.values;
    const { topValues, topIds } = this;
    // Separate loops per array type keep each one monomorphic (Float32Array from the backends).
    this.topCount =
      logits instanceof Float32Array
        ? copyFloat32(logits, v, topValues, topIds)
        : copyAny(logits, v, topValues, topIds);
    this.touchedCount = 0;
    for (const [t, b] of bias) {
      v[t] += b;
      this.touch(t);
    }
    for (const t of banned) {
      v[t] = -Infinity;
      this.touch(t);
    }
    penalty.apply(v, this.onChange);
  }

  /**
   * Makes `max` and `best` exact for the loaded values. Throws on NaN, when every token is
   * banned and on +∞.
   */
  settle(): void {
    const v = this.values;
    let max = -Infinity;
    let best = -1;
    let trusted = this.topCount >= 0;
    const consider = (t: number) => {
      const x = v[t];
      if (x > max || (x === max && t < best)) {
        max = x;
        best = t;
      } else if (x !== x) trusted = false;
    };
    for (let j = 0; j < this.topCount; j++) consider(this.topIds[j]);
    for (let j = 0; j < this.touchedCount; j++) consider(this.touched[j]);
    // Unlisted tokens are ≤ the smallest kept raw value (or there are none).
    const bound = this.topCount === TOP ? this.topValues[TOP - 1] : -Infinity;
    if (!trusted || !(max > bound) || !Number.isFinite(max)) {
      best = firstMaxIndex(v);
      if (best < 0) maxLogit(v); // throws its error: NaN, every token banned
      max = v[best];
      if (max === Infinity) maxLogit(v); // throws (or reports an earlier NaN first)
    }
    this.max = max;
    this.best = best;
  }

  private touch(token: number): void {
    if (this.touchedCount === this.touched.length) {
      const grown = new Int32Array(this.touched.length * 2);
      grown.set(this.touched);
      this.touched = grown;
    }
    this.touched[this.touchedCount++] = token;
  }
}

/**
 * One token's value after `AdjustedLogits.load` (bias, ban, penalty, in that order, with the
 * same float64 operations), from its raw logit: for callers that know only a few raw values.
 */
export function adjustedLogit(
  token: number,
  raw: number,
  bias: ReadonlyMap<number, number>,
  banned: ReadonlySet<number>,
  penalty: RepetitionPenalty,
): number {
  let v = raw;
  const b = bias.get(token);
  if (b !== undefined) v += b;
  if (banned.has(token)) v = -Infinity;
  const amount = penalty.amountFor(token);
  return amount === 0 ? v : v - amount;
}

// The loops are module functions with nothing after them but `return`: see weight-loops.ts
// for why. They keep the `top` largest values in descending order (equal values in id order):
// most entries fail the one comparison with the smallest kept value.

/**
 * Copies src into dst and fills (topValues, topIds); returns how many were kept, or −1 if a
 * NaN was seen.
 */
function copyFloat32(
  src: Float32Array,
  dst: Float64Array,
  topValues: Float64Array,
  topIds: Int32Array,
): number {
  let count = 0;
  let floor = -Infinity; // the smallest kept value once all TOP are filled
  let nan = false;
  for (let i = 0; i < dst.length; i++) {
    const x = src[i];
    dst[i] = x;
    if (x > floor) {
      count = insertTop(topValues, topIds, count, x, i);
      if (count === TOP) floor = topValues[TOP - 1];
    } else if (x !== x) nan = true;
  }
  return nan ? -1 : count;
}

/** copyFloat32 for any other array type (kept apart so each loop sees one type). */
function copyAny(
  src: ArrayLike<number>,
  dst: Float64Array,
  topValues: Float64Array,
  topIds: Int32Array,
): number {
  let count = 0;
  let floor = -Infinity;
  let nan = false;
  for (let i = 0; i < dst.length; i++) {
    const x = src[i];
    dst[i] = x;
    if (x > floor) {
      count = insertTop(topValues, topIds, count, x, i);
      if (count === TOP) floor = topValues[TOP - 1];
    } else if (x !== x) nan = true;
  }
  return nan ? -1 : count;
}

/**
 * Inserts (x, i) into the descending list of the `count` best so far (the smallest falls off
 * when TOP are kept); returns the new count. Small enough for V8 to inline into both loops.
 */
function insertTop(
  topValues: Float64Array,
  topIds: Int32Array,
  count: number,
  x: number,
  i: number,
): number {
  let j = count < TOP ? count++ : TOP - 1;
  for (; j > 0 && topValues[j - 1] < x; j--) {
    topValues[j] = topValues[j - 1];
    topIds[j] = topIds[j - 1];
  }
  topValues[j] = x;
  topIds[j] = i;
  return count;
}

/** Lowest index of the largest value; −2 if a NaN is present, −1 if all are −∞. */
function firstMaxIndex(v: Float64Array): number {
  let max = -Infinity;
  let best = -1;
  let nan = false;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x > max) {
      max = x;
      best = i;
    } else if (x !== x) nan = true;
  }
  return nan ? -2 : best;
}
