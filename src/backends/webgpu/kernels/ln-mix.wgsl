// LayerNorm + token shift + mixes for each row (token) of the step:
//   xx = LN(x[row]);  prev = the sequence's saved shift (first row) or LN(x[row-1]);
//   out[m][row] = xx + (prev − xx)·μ_m   for the NMIX mix vectors (6 in time mix, 1 in channel mix)
// Grid: (rows, groups): each workgroup recomputes the row's statistics (C floats from L2, loaded
// as independent vec4s so the loads overlap) and writes 1024 channels. The first row of each
// sequence also stores LN(x[last row]) as the new shift, so the state is read and written by
// the workgroups of one row only (no race between the rows of a prefill chunk).
// ADD_PARTIALS (decode steps, one token per sequence, after a split-K residual GEMM: att.output
// or ffn.value): first x[row] += the GEMM's partial sums, added here in split order as
// kernels/matmul-reduce.wgsl would (same order, same floats), which saves that pass. One
// workgroup per row then, as it writes the whole row of x it reads.
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = 256u;
const PER: u32 = {{PER}}u; // vec4 of a row per thread: ceil(C / 4 / WG)
const EPS: f32 = 1e-5; // torch layer_norm default

struct Params {
  x_off: u32,      // act offset of the residual stream x [rows][C]
  out_off: u32,    // act offset of the first mixed output
  out_plane: u32,  // floats between consecutive mixed outputs
  n_mix: u32,
  ln_w: u32,       // params offsets
  ln_b: u32,
  mix: u32,        // params offset of μ_0 (the others follow, C apart)
  shift_off: u32,  // offset of this shift inside a state slot of the layer's pool buffer
  slot_stride: u32,
  c: u32,
  _p0: u32,
  _p1: u32,
}

// All offsets above are multiples of 4, so everything is addressed in vec4.
@group(0) @binding(0) var<storage, read_write> act: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> pool: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> rows: array<vec4<u32>>; // token, slot, first row, last row
@group(0) @binding(4) var<uniform> P: Params;

//#include layer-norm

//#if ADD_PARTIALS
const SPLITS: u32 = {{SPLITS}}u;
const SCRATCH: u32 = {{SCRATCH}}u; // vec4 index of the partials, [split][row][PADDED]
const PADDED: u32 = {{PADDED}}u; // padded output rows of the GEMM

// x[r] + Σ_s partial_s[r], the vec4 k = lid + e·WG in v[e]; also stored to x.
fn add_partials(r: u32, m_rows: u32, lid: u32) -> array<vec4<f32>, PER> {
  let base = (P.x_off + r * P.c) / 4u;
  let n4 = P.c / 4u;
  var v: array<vec4<f32>, PER>;
  for (var e = 0u; e < PER; e++) {
    let k = min(lid + e * WG, n4 - 1u);
    var s = act[SCRATCH + r * (PADDED / 4u) + k];
    for (var j = 1u; j < SPLITS; j++) {
      s += act[SCRATCH + (j * m_rows + r) * (PADDED / 4u) + k];
    }
    v[e] = s + act[base + k];
  }
  for (var e = 0u; e < PER; e++) {
    if (lid + e * WG < n4) {
      act[base + lid + e * WG] = v[e];
    }
  }
  return v;
}
//#endif

// The NMIX mixed inputs of row r at vec4 k.
fn write_mixes(r: u32, k: u32, xx: vec4<f32>, prev: vec4<f32>) {
  let d = prev - xx;
  let c4 = P.c / 4u;
  for (var m = 0u; m < P.n_mix; m++) {
    act[(P.out_off + m * P.out_plane) / 4u + r * c4 + k] = xx + d * params[P.mix / 4u + m * c4 + k];
  }
}

// mean and 1/std of row r
fn row_stats(r: u32, lid: u32, sg_lane: u32) -> vec2<f32> {
  let base = (P.x_off + r * P.c) / 4u;
  let n4 = P.c / 4u;
  var v: array<vec4<f32>, PER>;
  for (var e = 0u; e < PER; e++) {
    v[e] = act[base + min(lid + e * WG, n4 - 1u)];
  }
  return ln_stats(&v, n4, lid, sg_lane);
}

fn ln_at(r: u32, k: u32, st: vec2<f32>) -> vec4<f32> {
  return ln_apply(act[(P.x_off + r * P.c) / 4u + k], st, params[P.ln_w / 4u + k], params[P.ln_b / 4u + k]);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) nwg: vec3<u32>,
//#if SUBGROUPS
  @builtin(subgroup_invocation_id) sg_lane: u32,
//#endif
) {
//#if SUBGROUPS
//#else
  let sg_lane = 0u;
//#endif
  let r = wid.x;
  let info = rows[r];
//#if ADD_PARTIALS
  // Row r is its sequence's only token: the shift is read and replaced by LN(x[r]).
  var xv = add_partials(r, nwg.x, lid);
  let stats = ln_stats(&xv, P.c / 4u, lid, sg_lane);
  for (var e = 0u; e < PER; e++) {
    let kk = lid + e * WG;
    if (kk < P.c / 4u) {
      let x_n = ln_apply(xv[e], stats, params[P.ln_w / 4u + kk], params[P.ln_b / 4u + kk]);
      let at = (info.y * P.slot_stride + P.shift_off) / 4u + kk;
      let prev_n = pool[at];
      pool[at] = x_n;
      write_mixes(r, kk, x_n, prev_n);
    }
  }
//#else
  let first = info.z == r;
  let last = info.w;
  let st = row_stats(r, lid, sg_lane);
  // Uniform branches: every invocation of the workgroup takes the same side.
  var st_prev = vec2<f32>(0.0);
  if (!first) {
    st_prev = row_stats(r - 1u, lid, sg_lane);
  }
  var st_last = st;
  if (first && last != r) {
    st_last = row_stats(last, lid, sg_lane);
  }
  let k = wid.y * WG + lid; // this thread's vec4 of channels
  if (k >= P.c / 4u) {
    return;
  }
  let xx = ln_at(r, k, st);
  var prev: vec4<f32>;
  if (first) {
    let at = (info.y * P.slot_stride + P.shift_off) / 4u + k;
    prev = pool[at];
    pool[at] = select(ln_at(last, k, st_last), xx, last == r);
  } else {
    prev = ln_at(r - 1u, k, st_prev);
  }
  write_mixes(r, k, xx, prev);
//#endif
}
