// Matrix × one vector for steps of a single token (one sequence), with the LayerNorm and
// token-shift mix that would otherwise be a dispatch of their own (each costs ~2 µs of launch
// and drain in a stream on the H100, plus its own latency): the input is built in workgroup
// memory from the residual stream x,
//   xx = LayerNorm(x);  in = xx + (shift − xx)·μ
// with μ the segment's mix vector (seg.mix) and shift the state's saved token shift. Workgroup
// 0 also stores xx in a scratch plane of `act`; the shift cannot be overwritten here, since
// other workgroups of this dispatch still read it (matvec.wgsl with COPY saves it later).
//
// Work split: a workgroup owns RPW consecutive padded rows of one segment (RPW divides the
// segment padding of 64), its GROUPS groups of LANES invocations RG = RPW / GROUPS rows each.
// A group reads R rows at a time, U 16-byte loads per row and lane per batch, consecutive
// lanes on consecutive vectors of a row, and issues the next batch before using the current
// one. Many rows per workgroup amortise the LayerNorm, which every workgroup redoes over all
// C inputs before its first product (measured on the H100: with 8 rows per workgroup this
// prologue made the time-mix projections and ffn.key 20–30 % slower than 64 rows).
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = 256u;
const LANES: u32 = {{LANES}}u;
const GROUPS: u32 = WG / LANES;
const RPW: u32 = {{RPW}}u;
const RG: u32 = RPW / GROUPS;
const R: u32 = {{R}}u;
const U: u32 = {{U}}u;
const C4: u32 = {{C4}}u; // vec4 per row of x
const PER: u32 = {{PER}}u; // ceil(C4 / WG)
const EPS: f32 = 1e-5; // torch layer_norm default

//#include matmul-common
//#include weights
//#include single-glue
//#include layer-norm

var<workgroup> part: array<f32, RG * WG>;
var<workgroup> xin: array<vec4<f32>, C4>;

// Builds xin (uniform control flow: contains barriers). Every global load is issued before the
// first reduction, so the prologue costs one round of memory latency.
fn build_input(seg: Seg, first_wg: bool, lid: u32, sg_lane: u32) {
  var v: array<vec4<f32>, PER>;
  var w: array<vec4<f32>, PER>;
  var b: array<vec4<f32>, PER>;
  var sh: array<vec4<f32>, PER>;
  var mu: array<vec4<f32>, PER>;
  let shift = shift_at();
  for (var e = 0u; e < PER; e++) {
    let k = min(lid + e * WG, C4 - 1u);
    v[e] = act[L.x_off / 4u + k];
    w[e] = params[L.ln_w / 4u + k];
    b[e] = params[L.ln_b / 4u + k];
    sh[e] = pool[shift + k];
    mu[e] = params[seg.mix / 4u + k];
  }
  let st = ln_stats(&v, C4, lid, sg_lane);
  for (var e = 0u; e < PER; e++) {
    let k = lid + e * WG;
    if (k < C4) {
      let xx = ln_apply(v[e], st, w[e], b[e]);
      xin[k] = xx + (sh[e] - xx) * mu[e];
      if (first_wg) {
        act[L.scratch / 4u + k] = xx;
      }
    }
  }
  workgroupBarrier();
}

fn term(u: vec4<u32>, kv: u32) -> f32 {
//#if W32
  return dot(w_first4(u), xin[kv]);
//#else
  return dot(w_first4(u), xin[2u * kv]) + dot(w_last4(u), xin[2u * kv + 1u]);
//#endif
}

// Batch t of a group (row block t / nb, column batch t % nb): R·U vectors. Rows and columns past
// the matrix are clamped to its last ones (valid addresses; their products are dropped).
fn load_batch(seg: Seg, first: u32, lane: u32, t: u32, nb: u32) -> array<vec4<u32>, R * U> {
  let blk = t / nb;
  let kb = t - blk * nb;
  var out: array<vec4<u32>, R * U>;
  for (var r = 0u; r < R; r++) {
    let wb = seg.w_off + min(first + blk * R + r, seg.n_rows - 1u) * seg.k_vec;
    for (var u = 0u; u < U; u++) {
      out[r * U + u] = wts[wb + min((kb * U + u) * LANES + lane, seg.k_vec - 1u)];
    }
  }
  return out;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
//#if SUBGROUPS
  @builtin(subgroup_invocation_id) sg_lane: u32,
//#endif
) {
//#if SUBGROUPS
//#else
  let sg_lane = 0u;
//#endif
  let p0 = wid.x * RPW;
  let seg = segs[find_seg(p0)];
  let lane = lid % LANES;
  let group = lid / LANES;
  // First row of this group within the segment; the group's rows that exist.
  let first = p0 - seg.row_start + group * RG;
  let valid = min(RG, seg.n_rows - min(first, seg.n_rows));
  let nb = (seg.k_vec + U * LANES - 1u) / (U * LANES);
  let total = (valid + R - 1u) / R * nb;
  // The first batch is in flight while the LayerNorm runs.
  var cur = load_batch(seg, first, lane, 0u, nb);
  build_input(seg, wid.x == 0u, lid, sg_lane);
  var acc: array<f32, R>;
  for (var t = 0u; t < total; t++) {
    let next = load_batch(seg, first, lane, min(t + 1u, total - 1u), nb);
    let blk = t / nb;
    let kb = t - blk * nb;
    for (var u = 0u; u < U; u++) {
      let kv = (kb * U + u) * LANES + lane;
      if (kv < seg.k_vec) {
        for (var r = 0u; r < R; r++) {
          acc[r] += term(cur[r * U + u], kv);
        }
      }
    }
    if (kb == nb - 1u) {
      for (var r = 0u; r < R; r++) {
        part[(blk * R + r) * WG + lid] = acc[r];
        acc[r] = 0.0;
      }
    }
    cur = next;
  }
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s = s / 2u) {
    if (lane < s) {
      for (var i = 0u; i < RG; i++) {
        part[i * WG + lid] += part[i * WG + lid + s];
      }
    }
    workgroupBarrier();
  }
  // Invocation i < RPW writes row i of the workgroup: group i / RG, its row i % RG.
  if (lid < RPW) {
    let row = p0 - seg.row_start + lid;
    if (row < seg.n_rows) {
      put(seg, 0u, row, part[(lid % RG) * WG + (lid / RG) * LANES]);
    }
  }
}
