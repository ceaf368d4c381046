// x[row] = LayerNorm(emb[token], ln0), one workgroup per row. The embedding may be split by
// rows into parts (binding-size limits); this dispatch handles the tokens of one part.
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = 256u;
const EPS: f32 = 1e-5;

struct Params {
  x_off: u32,
  c: u32,
  part_first: u32, // first vocabulary row held by this part
  part_rows: u32,
  w_off: u32,      // vec4 index of the part's first row in the weight binding
  k_vec: u32,      // vec4 per embedding row
  ln_w: u32,
  ln_b: u32,
}

@group(0) @binding(0) var<storage, read_write> act: array<f32>;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> wts: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> rows: array<vec4<u32>>;
@group(0) @binding(4) var<uniform> P: Params;

//#include weights
//#include reduce

fn emb_at(base: u32, j: u32) -> f32 {
  return w_scalar(base, j);
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
  let r = wid.x;
  let tok = rows[r].x;
  if (tok < P.part_first || tok >= P.part_first + P.part_rows) {
    return; // uniform: the whole workgroup leaves
  }
  let base = P.w_off + (tok - P.part_first) * P.k_vec;
  var s = 0.0;
  for (var j = lid; j < P.c; j += WG) {
    s += emb_at(base, j);
  }
  let mean = wg_sum(s, lid, sg_lane) / f32(P.c);
  var v = 0.0;
  for (var j = lid; j < P.c; j += WG) {
    let d = emb_at(base, j) - mean;
    v += d * d;
  }
  let inv = inverseSqrt(wg_sum(v, lid, sg_lane) / f32(P.c) + EPS);
  for (var j = lid; j < P.c; j += WG) {
    act[P.x_off + r * P.c + j] = (emb_at(base, j) - mean) * inv * params[P.ln_w + j] + params[P.ln_b + j];
  }
}
