// Seedable pseudo-random numbers for sampling, so that a seed reproduces a sample exactly on
// every platform (Math.random cannot be seeded).
//
// Generator: xoshiro128** 1.0 (D. Blackman and S. Vigna, "Scrambled linear pseudorandom number
// generators", 2018; reference C at https://prng.di.unimi.it/xoshiro128starstar.c): 128 bits of
// state, period 2^128 − 1, passes BigCrush, and needs only 32-bit integer operations, which
// JavaScript does exactly with `Math.imul` and `>>> 0`.
//
// Seeding: the authors recommend filling the state from SplitMix64 (G. Steele, D. Lea and
// C. Flood, "Fast splittable pseudorandom number generators", 2014), so that nearby seeds
// (0, 1, 2 …) give unrelated streams. SplitMix64 needs 64-bit multiplication, done here with
// BigInt; it runs only four times per seed.
//
// Floats: `nextFloat()` builds a double in [0, 1) from 53 random bits taken from two outputs
// (the genrand_res53 construction of the Mersenne Twister reference code), so probabilities as
// small as 1e-9 over a 65536-token vocabulary are still resolved.

const MASK64 = (1n << 64n) - 1n;

/** One SplitMix64 step: advances `state` and returns the next 64-bit output. */
export function splitMix64(state: { value: bigint }): bigint {
  state.value = (state.value + 0x9e3779b97f4a7c15n) & MASK64;
  let z = state.value;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Xoshiro128StarStar {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Starts from raw state words (at least one non-zero); use `fromSeed` for ordinary seeds. */
  constructor(state: readonly [number, number, number, number]) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w >>> 0);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) {
      throw new Error('xoshiro128** state must not be all zero');
    }
  }

  /** A generator whose state is filled by SplitMix64 from `seed` (any integer, any size). */
  static fromSeed(seed: number | bigint): Xoshiro128StarStar {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new Error(`seed must be an integer, got ${seed}`);
    }
    const sm = { value: BigInt(seed) & MASK64 };
    const a = splitMix64(sm);
    const b = splitMix64(sm);
    const words: [number, number, number, number] = [
      Number(a & 0xffffffffn),
      Number(a >> 32n),
      Number(b & 0xffffffffn),
      Number(b >> 32n),
    ];
    // SplitMix64 is a bijection of its counter, so two consecutive outputs are never both
    // zero; the check in the constructor is only a guard.
    return new Xoshiro128StarStar(words);
  }

  /** Next 32-bit unsigned output. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** The current state words (to checkpoint a stream). */
  snapshot(): [number, number, number, number] {
    return [this.s0, this.s1, this.s2, this.s3];
  }
}

/** What the sampler needs from a random source. */
export interface RandomSource {
  nextFloat(): number;
}

/** A seed for callers that gave none: 53 bits from the platform's secure generator. */
export function randomSeed(): number {
  const w = new Uint32Array(2);
  globalThis.crypto.getRandomValues(w);
  return (w[0] & 0x1fffff) * 4294967296 + w[1];
}
