// The draw's token weights e^{(a − max)·(1/T)} to ~2^-40 relative instead of f32's exp (WGSL
// allows 3 + 2|x| ULP there, and the f32 argument adds ~1.5|x| ULP more: ~1e-6 of the total at
// |x| ≈ 5). With f32 weights the GPU could not prove a draw that landed within ~1e-6 of the
// total of a token boundary — on flat or high-temperature rows 10–35 % of the draws, each then
// read back and sampled on the CPU. Here every step is exact or has its error bounded far
// below that:
//
//   a = raw + change, x = (a − max)·(1/T) in double-f32 ("dd": hi + lo), from error-free sums
//   (Knuth's two-sum) and products of 12-bit halves (each exact in f32: masked, never split
//   by multiplication, which a compiler may contract into an fma);
//   x = k·ln2/64 + r, |r| ≤ ln2/128, with ln2/64 = C1 + C2 + C3 (C1, C2 of 12 bits, so k·C1
//   and k·C2 are exact for |k| < 4096);
//   e^x = 2^(k >> 6) · 2^((k & 63)/64) · e^r, the middle factor from a dd table made on the CPU
//   in float64, e^r = 1 + r + r²/2 + r³/6 + r⁴/24 (truncation r⁵/120 < 2^-44), r and r²/2 in dd.
//
// Compilers may reassociate float arithmetic (Vulkan without NoContraction, fast-math Metal),
// which would fold two-sum's error term to 0. Every intermediate of the error-free steps goes
// through `opq`, an XOR with a uniform the host sets to 0: no compiler can see through it, so
// each operation is evaluated as written (measured: with `opq` as the identity, lavapipe's
// compiler folded them and weights came out ~1e4 units off; the test fails then). WGSL rounds
// +, − and × correctly for f32.
// test/webgpu/draw-weight.test.ts checks the weights against float64 on the device.
//
// Needs from the including kernel: a uniform `P` with a field `zero` (set to 0).

struct Dd {
  hi: f32,
  lo: f32,
}

// ln2/64 as C1 + C2 + C3 (C1 and C2 have 12 significant bits).
const C1: f32 = 0x1.62ep-7f;
const C2: f32 = 0x1.0bep-21f;
const C3: f32 = 0x1.be8e7cp-33f; // C1 + C2 + C3 − ln2/64 ≈ 1.7e-18
const TWO32: f32 = 4294967296.0;
const FIX: f32 = 1099511627776.0; // 2^40: weight 1 (the maximum) is 2^40 units
const K64_LN2: f32 = 92.33248261689366; // 64 / ln2 (rounded: only picks k)
const INV_TWO32: f32 = 2.3283064365386963e-10; // 2^-32
const W_LOWEST_X: f32 = -31.0; // e^-31 · 2^40 < 0.04 units: weight 0

// 2^(j/64) for j = 0..63 as (hi, lo) bit pairs (draw-kernel.ts writes them).
const EXP2_BITS = array<u32, 128>({{EXP2_TABLE}});
var<workgroup> exp2_tab: array<vec2<f32>, 64>;

/// Fills exp2_tab (before the first barrier of the kernel).
fn load_exp2_table(lid: u32) {
  if (lid < 64u) {
    exp2_tab[lid] = vec2<f32>(bitcast<f32>(EXP2_BITS[2u * lid]), bitcast<f32>(EXP2_BITS[2u * lid + 1u]));
  }
}

/// x itself, through an operation no compiler can fold (P.zero is 0).
fn opq(x: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(x) ^ P.zero);
}

/// a + b = hi + lo exactly (two-sum: any magnitudes, no overflow).
fn two_sum(a: f32, b: f32) -> Dd {
  let s = opq(a + b);
  let bb = opq(s - a);
  let t = opq(s - bb);
  return Dd(s, opq(a - t) + opq(b - bb));
}

/// The top 12 of x's 24 significant bits (x − that is exact and has the other 12).
fn top12(x: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(x) & 0xfffff000u);
}

/// a·b as a normalized dd, within 2^-46 of |a·b| (partial products of 12-bit halves are exact;
/// only the sum of the three smallest rounds). No underflow for the values used here.
fn two_prod(a: f32, b: f32) -> Dd {
  let ah = top12(a);
  let al = opq(a - ah);
  let bh = top12(b);
  let bl = opq(b - bh);
  let mid = two_sum(ah * bl, al * bh);
  let s = two_sum(ah * bh, mid.hi);
  return two_sum(s.hi, s.lo + (mid.lo + al * bl));
}

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

struct Weight {
  // v in units of 2^-40 (the weight of a token at the maximum is 2^40), 64 bits as (lo, hi).
  fixed: vec2<u32>,
  // Bound on |fixed − exact weight| in units (the exact weight from the plan's float64 change
  // and 1/T, within `eps` of a changed token's logit).
  err: f32,
}

/// A weight of dd value hi + lo (hi ≥ 0, |lo| ≤ 2^-20·hi) in units of 2^-40, rounded to nearest
/// (within 0.5 + 2^-8 units).
fn to_fixed(w: Dd) -> vec2<u32> {
  let vh = w.hi * FIX; // exact: a power of two
  let vl = w.lo * FIX;
  let hi = u32(vh * INV_TWO32); // ≥ 0: truncation is floor; × 2^-32 is exact
  let rem = vh - f32(hi) * TWO32; // exact, in [0, 2^32)
  let whole = floor(rem);
  let add = i32(round((rem - whole) + vl)); // |.| ≤ 2^16 + 1: rounds within 2^-8
  var out = vec2<u32>(u32(whole), hi);
  if (add >= 0) {
    out = add64(out, vec2<u32>(u32(add), 0u));
  } else {
    let s = u32(-add);
    if (out.y == 0u && out.x < s) {
      return vec2<u32>(0u, 0u); // within the bound of the true, non-negative weight
    }
    out = vec2<u32>(out.x - s, out.y - select(0u, 1u, out.x < s));
  }
  return out;
}

/// e^{(a − m)·invT} for a = a_hi + a_lo, invT = inv.x + inv.y (the CPU's float64 1/T split), as
/// units of 2^-40 with its error bound. eps: bound on |a_hi + a_lo − the CPU's float64 logit|.
fn draw_weight(a_hi: f32, a_lo: f32, eps: f32, m: f32, inv: vec2<f32>) -> Weight {
  let xf = (a_hi - m) * inv.x;
  if (!(xf >= W_LOWEST_X)) {
    return Weight(vec2<u32>(0u, 0u), 0.52); // e^x · 2^40 < 0.04 (x < −31 + tiny)
  }
  let d0 = two_sum(a_hi, -m);
  let d = two_sum(d0.hi, d0.lo + a_lo);
  var x = d;
  if (inv.x != 1.0 || inv.y != 0.0) {
    let p = two_prod(d.hi, inv.x);
    x = two_sum(p.hi, p.lo + (d.hi * inv.y + d.lo * inv.x));
  }
  let kf = round(x.hi * K64_LN2); // |kf| ≤ 2864: 12 bits
  let r1 = two_sum(x.hi, -(kf * C1));
  let r2 = two_sum(r1.hi, -(kf * C2));
  let r = two_sum(r2.hi, (r1.lo + r2.lo) + (x.lo - kf * C3));
  // q = e^r − 1 = r + r²/2 + (r³/6 + r⁴/24), |r| < 0.0055.
  let sq = two_prod(r.hi, r.hi);
  let tail = r.hi * sq.hi * (0.16666667 + r.hi * 0.041666668);
  let q0 = two_sum(r.hi, 0.5 * sq.hi);
  let q = two_sum(q0.hi, q0.lo + ((r.lo + 0.5 * sq.lo) + (r.hi * r.lo + tail)));
  // 2^(j/64) · (1 + q)
  let k = i32(kf);
  let t = exp2_tab[u32(k & 63)];
  let p = two_prod(t.x, q.hi);
  let w0 = two_sum(t.x, p.hi);
  let w = two_sum(w0.hi, w0.lo + ((p.lo + t.y) + (t.x * q.lo + t.y * q.hi)));
  let n = k >> 6u;
  let wv = Dd(ldexp(w.hi, n), ldexp(w.lo, n));
  // Error: x within 2^-44·|x| (dd steps) plus eps·invT from the logit; the reduction, table and
  // series within ~2^-44 of e^x; rounding to units within 0.5 + 2^-8. The bound takes 8× the
  // relative part, and e^δ − 1 ≤ 1.3·δ for the logit's δ ≤ 0.5 (a larger δ, at a tiny
  // temperature, counts as a 400 % error: nothing near it is certified).
  let delta = eps * inv.x;
  let rel = (abs(xf) + 2.0) * 0x1p-41f + select(1.3 * delta, 4.0, delta > 0.5);
  return Weight(to_fixed(wv), wv.hi * FIX * rel + 0.52);
}
