// x[row] = LayerNorm(emb[token], ln0), one workgroup per row. The embedding may be split by
// rows into parts (binding-size limits); this dispatch handles the tokens of one part.
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = 256u;
const PER: u32 = {{PER}}u; // vec4 of a row per invocation: ceil(C / 4 / WG)
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

// x_off, C and the ln offsets are multiples of 4 (C of 8), so x and params are read as vec4.
@group(0) @binding(0) var<storage, read_write> act: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> wts: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> rows: array<vec4<u32>>;
@group(0) @binding(4) var<uniform> P: Params;

//#include weights
//#include layer-norm

// Elements 4k .. 4k + 3 of the embedding row that starts at vec4<u32> `base`.
fn emb4(base: u32, k: u32) -> vec4<f32> {
//#if W32
  return w_first4(wts[base + k]);
//#else
  let u = wts[base + k / 2u];
  return select(w_last4(u), w_first4(u), k % 2u == 0u);
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
  let r = wid.x;
  let tok = rows[r].x;
  if (tok < P.part_first || tok >= P.part_first + P.part_rows) {
    return; // uniform: the whole workgroup leaves
  }
  let base = P.w_off + (tok - P.part_first) * P.k_vec;
  let n4 = P.c / 4u;
  var v: array<vec4<f32>, PER>;
  for (var e = 0u; e < PER; e++) {
    v[e] = emb4(base, min(lid + e * WG, n4 - 1u));
  }
  let st = ln_stats(&v, n4, lid, sg_lane);
  for (var e = 0u; e < PER; e++) {
    let k = lid + e * WG;
    if (k < n4) {
      act[(P.x_off + r * P.c) / 4u + k] = ln_apply(v[e], st, params[P.ln_w / 4u + k], params[P.ln_b / 4u + k]);
    }
  }
}
