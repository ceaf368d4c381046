// out[i] = LayerNorm(x[rows_out[i]] + add[i], ln_out): the rows whose logits are wanted, packed
// densely for the head. One workgroup per wanted row. `add` (when P.add is 1) is a dense plane of
// those rows' last channel-mix outputs: in prefill steps the last layer's channel mix runs over
// the wanted rows only (step-program.ts). COPY: out[i] = x[rows_out[i]], no LayerNorm (the
// gather that feeds that channel mix).
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
  add_off: u32, // the dense plane added to x first, when `add` is 1
  add: u32,
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
  let out = P.out_off / 4u + i * n4;
//#if COPY
  for (var k = lid; k < n4; k += WG) {
    act[out + k] = act[base + k];
  }
//#else
  var v: array<vec4<f32>, PER>;
  for (var e = 0u; e < PER; e++) {
    let k = min(lid + e * WG, n4 - 1u);
    v[e] = act[base + k];
    if (P.add == 1u) {
      v[e] += act[P.add_off / 4u + i * n4 + k];
    }
  }
  let st = ln_stats(&v, n4, lid, sg_lane);
  for (var e = 0u; e < PER; e++) {
    let k = lid + e * WG;
    if (k < n4) {
      act[out + k] = ln_apply(v[e], st, params[P.ln_w / 4u + k], params[P.ln_b / 4u + k]);
    }
  }
//#endif
}
