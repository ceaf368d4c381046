// out[i] = LayerNorm(x[rows_out[i]], ln_out): the rows whose logits are wanted, packed densely
// for the head. One workgroup per wanted row.
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = 256u;
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

@group(0) @binding(0) var<storage, read_write> act: array<f32>;
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> rows: array<vec4<u32>>;
@group(0) @binding(3) var<uniform> P: Params;

//#include reduce

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
  let base = P.x_off + rows[P.out_rows + i].x * P.c;
  var s = 0.0;
  for (var j = lid; j < P.c; j += WG) {
    s += act[base + j];
  }
  let mean = wg_sum(s, lid, sg_lane) / f32(P.c);
  var v = 0.0;
  for (var j = lid; j < P.c; j += WG) {
    let d = act[base + j] - mean;
    v += d * d;
  }
  let inv = inverseSqrt(wg_sum(v, lid, sg_lane) / f32(P.c) + EPS);
  for (var j = lid; j < P.c; j += WG) {
    act[P.out_off + i * P.c + j] = (act[base + j] - mean) * inv * params[P.ln_w + j] + params[P.ln_b + j];
  }
}
