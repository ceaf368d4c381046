// The next token of each logits row, drawn as the CPU sampler would draw it, with the numbers
// that let the CPU prove it did (backends/device-draw.ts has the argument; this file computes).
// One workgroup per row; invocation `lid` owns the contiguous token ids [lid·chunk, …) so that
// running sums follow token-id order, as the definition's walk does.
//
//   pass 1: adjusted logits a_t (raw, or raw + change for the plan's listed tokens; banned ones
//           skipped), their best (larger value, then lower id), the best of the rest, and the
//           largest rounding bound of a changed token's f32 value;
//   pass 2 (1/T > 0): v_t = e^{(a_t − max)/T} as integers in units of 2⁻⁴⁰ (64-bit sums: the
//           running sums are exact for these values; draw-weight.wgsl computes each to ~2⁻⁴⁰),
//           an error bound E, and a workgroup prefix sum over the invocations' totals;
//   pass 3: the invocation whose range holds u·S walks it again for the token whose interval
//           holds it;
//   candidates (plans that truncate: top-k, top-p, min-p): a histogram of max − a picks a
//           threshold with at most P.cands unchanged tokens above it, and those tokens (id, raw
//           logit) are listed in any order; every unlisted unchanged token's logit is ≤ the
//           threshold, exactly (an f32 comparison). The changed tokens' raw logits are written
//           too, so the CPU can apply its own float64 changes to every token that matters.
// Plans: plans[2·row] = (first override, count, 1/T bits, u bits), first = NONE: row skipped;
// plans[2·row + 1] = (flags: 1 = list candidates, 1/T's low half bits, 0, 0); plans[first + j]
// = (token id, change bits, banned, change's low half bits), ascending ids, from index 2·rows
// on. (The low halves are float64 − its f32 rounding, rounded to f32.)
// Results (u32): per row 16 words (backends/device-draw.ts reads them), then P.cands (id, raw
// bits) pairs per row, then one raw logit per override (in plan order).
const WG: u32 = 256u;
const NONE: u32 = 0xffffffffu;
const LOWEST: f32 = -0x1.fffffep+127f; // −(largest f32): "no value"
const U23: f32 = 1.1920929e-7; // 2^-23

struct Params {
  vocab: u32,
  // Token ids per invocation: ceil(vocab / WG).
  chunk: u32,
  // Rows of this dispatch and candidate entries per row.
  rows: u32,
  cands: u32,
  // 0, read at run time: draw-weight.wgsl's barrier against reassociation.
  zero: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> plans: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> outs: array<u32>;
@group(0) @binding(3) var<uniform> P: Params;

//#include draw-weight

var<workgroup> header: vec4<u32>;
var<workgroup> flags: vec2<u32>; // plan flags, low half of 1/T (bits)
var<workgroup> hist: array<atomic<u32>, 64>;
var<workgroup> ncand: atomic<u32>;
var<workgroup> cut: vec2<u32>; // threshold bits, 1 when the candidates fit
var<workgroup> red_v: array<f32, WG>;
var<workgroup> red_i: array<u32, WG>;
var<workgroup> red_s: array<f32, WG>;
var<workgroup> red_f: array<u32, WG>;
var<workgroup> red_e: array<f32, WG>;
var<workgroup> sum_lo: array<u32, WG>;
var<workgroup> sum_hi: array<u32, WG>;
var<workgroup> verdict: vec4<u32>; // best id, best bits, flags, eps max bits (uniform copies)
var<workgroup> claim: vec4<u32>; // token, before lo, before hi, weight lo
var<workgroup> claim_hi: u32; // weight hi

// One token's adjusted logit. `cursor` walks the row's overrides alongside the ids.
struct Tok {
  raw: f32,
  a: f32,
  drawable: bool,
  changed: bool,
  // |f32 a − float64 a| bound for a changed token (raw + change rounded, change rounded).
  eps: f32,
  finite: bool,
  // a + a_lo is raw + change to ~2^-47 (the change given as two f32 halves), within eps_dd of
  // the CPU's float64 logit (draw-weight.wgsl).
  a_lo: f32,
  eps_dd: f32,
}

fn finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

fn token(base: u32, t: u32, end: u32, cursor: ptr<function, u32>) -> Tok {
  let raw = logits[base + t];
  var out = Tok(raw, raw, true, false, 0.0, finite(raw), 0.0, 0.0);
  if (*cursor < end && plans[*cursor].x == t) {
    let o = plans[*cursor];
    *cursor += 1u;
    let d = bitcast<f32>(o.y);
    out.changed = true;
    out.drawable = o.z == 0u;
    let s = two_sum(raw, d); // s.hi: raw + d rounded to f32, as before
    out.a = s.hi;
    out.a_lo = s.lo + bitcast<f32>(o.w);
    let mag = abs(out.a) + abs(d) + abs(raw);
    out.eps = mag * (2.0 * U23);
    out.eps_dd = mag * 0x1p-45f;
    out.finite = out.finite && (!out.drawable || (finite(d) && finite(out.a)));
  }
  return out;
}

// First override index with id ≥ t (binary search over the row's ascending ids).
fn first_override(begin: u32, end: u32, t: u32) -> u32 {
  var lo = begin;
  var hi = end;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (plans[mid].x < t) {
      lo = mid + 1u;
    } else {
      hi = mid;
    }
  }
  return lo;
}

// (v, i) ranks before (w, j): larger value, then lower id; NONE ranks last.
fn before(v: f32, i: u32, w: f32, j: u32) -> bool {
  return i != NONE && (j == NONE || v > w || (v == w && i < j));
}

fn less64(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.y < b.y || (a.y == b.y && a.x < b.x);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  load_exp2_table(lid);
  if (lid == 0u) {
    header = plans[2u * row];
    flags = plans[2u * row + 1u].xy;
  }
  let h = workgroupUniformLoad(&header);
  if (h.x == NONE) {
    return;
  }
  let over_end = h.x + h.y;
  let invT = bitcast<f32>(h.z);
  let u = bitcast<f32>(h.w);
  let fl = workgroupUniformLoad(&flags);
  let inv = vec2<f32>(invT, bitcast<f32>(fl.y)); // the CPU's float64 1/T as hi + lo
  let base = row * P.vocab;
  let start = min(lid * P.chunk, P.vocab);
  let end = min(start + P.chunk, P.vocab);

  // Pass 1: best, second best, rounding bound, finiteness.
  var bv = LOWEST;
  var bi = NONE;
  var sv = LOWEST;
  var bad = 0u;
  var eps_max = 0.0;
  let gathered = P.rows * (16u + 2u * P.cands) - 2u * P.rows; // + plan index of an override
  var cursor = first_override(h.x, over_end, start);
  for (var t = start; t < end; t++) {
    let tk = token(base, t, over_end, &cursor);
    if (tk.changed) {
      outs[gathered + cursor - 1u] = bitcast<u32>(tk.raw);
    }
    if (!tk.finite) {
      bad = 1u;
    }
    if (!tk.drawable) {
      continue;
    }
    if (tk.changed) {
      eps_max = max(eps_max, tk.eps);
    }
    if (before(tk.a, t, bv, bi)) {
      if (bi != NONE) {
        sv = max(sv, bv);
      }
      bv = tk.a;
      bi = t;
    } else {
      sv = max(sv, tk.a);
    }
  }
  red_v[lid] = bv;
  red_i[lid] = bi;
  red_s[lid] = sv;
  red_f[lid] = bad;
  red_e[lid] = eps_max;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) {
      let ov = red_v[lid + s];
      let oi = red_i[lid + s];
      var second = max(red_s[lid], red_s[lid + s]);
      if (before(ov, oi, red_v[lid], red_i[lid])) {
        if (red_i[lid] != NONE) {
          second = max(second, red_v[lid]);
        }
        red_v[lid] = ov;
        red_i[lid] = oi;
      } else if (oi != NONE) {
        second = max(second, ov);
      }
      red_s[lid] = second;
      red_f[lid] = red_f[lid] | red_f[lid + s];
      red_e[lid] = max(red_e[lid], red_e[lid + s]);
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    verdict = vec4<u32>(red_i[0], bitcast<u32>(red_v[0]), red_f[0], bitcast<u32>(red_e[0]));
    claim = vec4<u32>(NONE, 0u, 0u, 0u);
    claim_hi = 0u;
  }
  let v = workgroupUniformLoad(&verdict);
  let m = bitcast<f32>(v.y);
  var total = vec2<u32>(0u, 0u);
  var error = 0.0;
  if (invT > 0.0 && v.z == 0u && v.x != NONE) {
    // Pass 2: this invocation's weight sum and error bound, then an inclusive prefix sum.
    var own = vec2<u32>(0u, 0u);
    var err = 0.0;
    cursor = first_override(h.x, over_end, start);
    for (var t = start; t < end; t++) {
      let tk = token(base, t, over_end, &cursor);
      if (tk.drawable) {
        let we = draw_weight(tk.a, tk.a_lo, tk.eps_dd, m, inv);
        own = add64(own, we.fixed);
        err += we.err;
      }
    }
    sum_lo[lid] = own.x;
    sum_hi[lid] = own.y;
    red_e[lid] = err;
    for (var off = 1u; off < WG; off = off * 2u) {
      workgroupBarrier();
      var add = vec2<u32>(0u, 0u);
      var e = 0.0;
      if (lid >= off) {
        add = vec2<u32>(sum_lo[lid - off], sum_hi[lid - off]);
        e = red_e[lid - off];
      }
      workgroupBarrier();
      if (lid >= off) {
        let s = add64(vec2<u32>(sum_lo[lid], sum_hi[lid]), add);
        sum_lo[lid] = s.x;
        sum_hi[lid] = s.y;
        red_e[lid] += e;
      }
    }
    workgroupBarrier();
    total = vec2<u32>(sum_lo[WG - 1u], sum_hi[WG - 1u]);
    error = red_e[WG - 1u];

    // Pass 3: the goal u·S (f32: the CPU checks the pick against the exact u and S).
    let goal_f = u * (f32(total.y) * TWO32 + f32(total.x));
    let thi = u32(goal_f * INV_TWO32);
    let goal = vec2<u32>(u32(goal_f - f32(thi) * TWO32), thi);
    let incl = vec2<u32>(sum_lo[lid], sum_hi[lid]);
    // exclusive = inclusive − own
    let excl = vec2<u32>(incl.x - own.x, incl.y - own.y - select(0u, 1u, incl.x < own.x));
    if (!less64(goal, excl) && less64(goal, incl)) {
      var cum = excl;
      cursor = first_override(h.x, over_end, start);
      for (var t = start; t < end; t++) {
        let tk = token(base, t, over_end, &cursor);
        if (!tk.drawable) {
          continue;
        }
        let wt = draw_weight(tk.a, tk.a_lo, tk.eps_dd, m, inv).fixed;
        let next = add64(cum, wt);
        if (less64(goal, next)) {
          claim = vec4<u32>(t, cum.x, cum.y, wt.x);
          claim_hi = wt.y;
          break;
        }
        cum = next;
      }
    }
  }
  // Candidates: bins of a quarter logit below the max (the last bin takes everything lower).
  var listed = NONE;
  var threshold = 0.0;
  if ((fl.x & 1u) != 0u && invT > 0.0 && v.z == 0u && v.x != NONE) {
    if (lid < 64u) {
      atomicStore(&hist[lid], 0u);
    }
    if (lid == 0u) {
      atomicStore(&ncand, 0u);
    }
    workgroupBarrier();
    cursor = first_override(h.x, over_end, start);
    for (var t = start; t < end; t++) {
      let tk = token(base, t, over_end, &cursor);
      if (tk.drawable && !tk.changed) {
        atomicAdd(&hist[u32(min((m - tk.a) * 4.0, 63.0))], 1u);
      }
    }
    workgroupBarrier();
    if (lid == 0u) {
      // The most bins from the top whose tokens fit (the count near a bin edge may differ from
      // the exact comparison below by a token or two: an overflow is reported, not hidden).
      var n = 0u;
      var bins = 0u;
      while (bins < 64u && n + atomicLoad(&hist[bins]) <= P.cands) {
        n += atomicLoad(&hist[bins]);
        bins++;
      }
      if (bins == 64u) {
        cut = vec2<u32>(bitcast<u32>(LOWEST), 1u);
      } else {
        cut = vec2<u32>(bitcast<u32>(m - f32(bins) * 0.25), select(0u, 1u, bins > 0u));
      }
    }
    let c = workgroupUniformLoad(&cut);
    threshold = bitcast<f32>(c.x);
    if (c.y == 1u) {
      let cbase = P.rows * 16u + row * 2u * P.cands;
      cursor = first_override(h.x, over_end, start);
      for (var t = start; t < end; t++) {
        let tk = token(base, t, over_end, &cursor);
        if (tk.drawable && !tk.changed && tk.a > threshold) {
          let at = atomicAdd(&ncand, 1u);
          if (at < P.cands) {
            outs[cbase + 2u * at] = t;
            outs[cbase + 2u * at + 1u] = bitcast<u32>(tk.raw);
          }
        }
      }
    }
    workgroupBarrier();
    if (lid == 0u && c.y == 1u && atomicLoad(&ncand) <= P.cands) {
      listed = atomicLoad(&ncand);
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let o = row * 16u;
    outs[o] = v.x;
    outs[o + 1u] = v.y;
    outs[o + 2u] = bitcast<u32>(red_s[0]);
    outs[o + 3u] = v.z;
    outs[o + 4u] = claim.x;
    outs[o + 5u] = claim.y;
    outs[o + 6u] = claim.z;
    outs[o + 7u] = claim.w;
    outs[o + 8u] = claim_hi;
    outs[o + 9u] = total.x;
    outs[o + 10u] = total.y;
    outs[o + 11u] = bitcast<u32>(error);
    outs[o + 12u] = v.w;
    outs[o + 13u] = listed;
    outs[o + 14u] = bitcast<u32>(threshold);
    outs[o + 15u] = 0u;
  }
}
