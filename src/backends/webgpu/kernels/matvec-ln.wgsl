// Matrix × one vector for steps of a single token (one sequence), with the per-layer glue that
// would otherwise be dispatches of its own (each dispatch costs ~15 µs on the H100 through Dawn,
// measured: the ln-mix kernel, tiny work, took 15.5 µs per call):
//   LN:   the input is built in workgroup memory from the residual stream x:
//         xx = LayerNorm(x);  in = xx + (shift − xx)·μ  with μ the segment's mix vector
//         (seg.mix) and shift the state's saved token shift. Workgroup 0 also stores xx in a
//         scratch plane of `act`: the shift cannot be overwritten here, since the other
//         workgroups of this dispatch still read it.
//   COPY: workgroup 0 copies that scratch plane into the state's shift (a later dispatch of the
//         layer, after every reader of the old shift has finished).
// The matrix product itself is matvec.wgsl's with M = 1.
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = 256u;
const LANES: u32 = {{LANES}}u;
const ROWS: u32 = WG / LANES;
const C4: u32 = {{C4}}u; // vec4 per row of x
const PER: u32 = {{PER}}u; // ceil(C4 / WG)
const EPS: f32 = 1e-5; // torch layer_norm default

//#include matmul-common
//#include weights

struct LnParams {
  x_off: u32,      // act offset of x [1][C]
  ln_w: u32,       // params offsets
  ln_b: u32,
  shift_off: u32,  // offset of the shift inside a state slot of the layer's pool buffer
  slot_stride: u32,
  scratch: u32,    // act offset where LN writes xx and COPY reads it
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(4) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> pool: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> rows: array<vec4<u32>>; // token, slot, first, last
@group(0) @binding(7) var<uniform> L: LnParams;

//#include reduce

var<workgroup> part: array<f32, WG>;
//#if LN
var<workgroup> xin: array<vec4<f32>, C4>;

fn x_vec(seg: Seg, i: u32) -> vec4<f32> {
  return xin[i];
}

// Builds xin for the segment's mix vector (uniform control flow: contains barriers).
fn build_input(seg: Seg, first_wg: bool, lid: u32, sg_lane: u32) {
  let base = L.x_off / 4u;
  var v: array<vec4<f32>, PER>;
  var s = vec4<f32>(0.0);
  for (var e = 0u; e < PER; e++) {
    let k = lid + e * WG;
    if (k < C4) {
      v[e] = act[base + k];
      s += v[e];
    }
  }
  let n = f32(C4 * 4u);
  let mean = wg_sum(s.x + s.y + s.z + s.w, lid, sg_lane) / n;
  var d2 = vec4<f32>(0.0);
  for (var e = 0u; e < PER; e++) {
    if (lid + e * WG < C4) {
      let d = v[e] - mean;
      d2 += d * d;
    }
  }
  let rstd = inverseSqrt(wg_sum(d2.x + d2.y + d2.z + d2.w, lid, sg_lane) / n + EPS);
  let shift = (rows[0].y * L.slot_stride + L.shift_off) / 4u;
  let mix = seg.mix / 4u;
  for (var e = 0u; e < PER; e++) {
    let k = lid + e * WG;
    if (k < C4) {
      let xx = (v[e] - mean) * rstd * params[L.ln_w / 4u + k] + params[L.ln_b / 4u + k];
      xin[k] = xx + (pool[shift + k] - xx) * params[mix + k];
      if (first_wg) {
        act[L.scratch / 4u + k] = xx;
      }
    }
  }
  workgroupBarrier();
}
//#else
fn x_vec(seg: Seg, i: u32) -> vec4<f32> {
  return act[seg.x_off + i];
}
//#endif

fn term(u: vec4<u32>, seg: Seg, kv: u32) -> f32 {
//#if W32
  return dot(w_first4(u), x_vec(seg, kv));
//#else
  return dot(w_first4(u), x_vec(seg, 2u * kv)) + dot(w_last4(u), x_vec(seg, 2u * kv + 1u));
//#endif
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
  let prow = wid.x * ROWS;
  let seg = segs[find_seg(prow)];
//#if LN
  build_input(seg, wid.x == 0u, lid, sg_lane);
//#endif
//#if COPY
  if (wid.x == 0u) {
    let shift = (rows[0].y * L.slot_stride + L.shift_off) / 4u;
    for (var k = lid; k < C4; k += WG) {
      pool[shift + k] = act[L.scratch / 4u + k];
    }
  }
//#endif
  let lane = lid % LANES;
  let row = prow - seg.row_start + lid / LANES;
  var acc = 0.0;
  if (row < seg.n_rows) {
    let wb = seg.w_off + row * seg.k_vec;
    var kv = lane;
    for (; kv + 3u * LANES < seg.k_vec; kv += 4u * LANES) {
      let u0 = wts[wb + kv];
      let u1 = wts[wb + kv + LANES];
      let u2 = wts[wb + kv + 2u * LANES];
      let u3 = wts[wb + kv + 3u * LANES];
      acc += term(u0, seg, kv) + term(u1, seg, kv + LANES) + term(u2, seg, kv + 2u * LANES) +
        term(u3, seg, kv + 3u * LANES);
    }
    for (; kv < seg.k_vec; kv += LANES) {
      acc += term(wts[wb + kv], seg, kv);
    }
  }
  part[lid] = acc;
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s = s / 2u) {
    if (lane < s) {
      part[lid] += part[lid + s];
    }
    workgroupBarrier();
  }
  if (lane == 0u && row < seg.n_rows) {
    put(seg, 0u, row, part[lid]);
  }
}
