// Prefill, step 3 of 3: per (token, head), group norm of the read-out y, plus bonus·v, times
// the gate, in place in the y plane.
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = {{N}}u;
const N: u32 = {{N}}u;

//#include wkv-common
//#include reduce

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) j: u32,
//#if SUBGROUPS
  @builtin(subgroup_invocation_id) sg_lane: u32,
//#endif
) {
//#if SUBGROUPS
//#else
  let sg_lane = 0u;
//#endif
  let row = wid.x;
  let h = wid.y;
  let c = h * N + j;
  let xo = row * P.c + c;
  let y = act[P.y_off + xo];
  let mean = wg_sum(y, j, sg_lane) / f32(N);
  let d = y - mean;
  let var_ = wg_sum(d * d, j, sg_lane) / f32(N);
  let yn = d * inverseSqrt(var_ + GN_EPS) * params[P.lnx_w + c] + params[P.lnx_b + c];
  let bonus = act[P.bonus_off + row * P.n_head + h];
  let v = act[P.planes + 4u * P.plane + xo];
  let g = act[P.planes + 5u * P.plane + xo];
  act[P.y_off + xo] = (yn + bonus * v) * g;
}
