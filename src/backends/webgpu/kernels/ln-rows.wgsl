// out[i] = LayerNorm(x[rows_out[i]], ln_out): the rows whose logits are wanted, packed densely
// for the head. One workgroup per wanted row.
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = 256u;
const PER: u32 = {{PER}}u; // vec4 of a row per invocation: ceil(C / 4 / WG)
const EPS: f32 = 1e-5;

struct Params {
  x_off: u32,
  out_off: u32,
  c: u32,
  out_rows: u32, // index in `rows` of the list of wanted rows (one per vec4, in .x)
  ln_w: u32,
  ln_b: u32,
  _p0: u32,
  _p1: u32,
}

// All offsets above and C are multiples of 4, so everything is addressed in vec4.
@group(0) @binding(0) var<storage, read_write> act: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> rows: array<vec4<u32>>;
@group(0) @binding(3) var<uniform> P: Params;

//#include layer-norm

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
  let i = wid.x;
  let n4 = P.c / 4u;
  let base = (P.x_off + rows[P.out_rows + i].x * P.c) / 4u;
  var v: array<vec4<f32>, PER>;
  for (var e = 0u; e < PER; e++) {
    v[e] = act[base + min(lid + e * WG, n4 - 1u)];
  }
  let st = ln_stats(&v, n4, lid, sg_lane);
  for (var e = 0u; e < PER; e++) {
    let k = lid + e * WG;
    if (k < n4) {
      act[P.out_off / 4u + i * n4 + k] = ln_apply(v[e], st, params[P.ln_w / 4u + k], params[P.ln_b / 4u + k]);
    }
  }
}
