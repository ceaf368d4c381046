// Prefill, step 1 of 3: the state-free part of the wkv for every token in parallel, one
// workgroup per (token, head). Leaves decay, kk, kk·a, k, v, g in six planes of [rows][C] and
// the head's bonus sum in [rows][H], for wkv-scan (the recurrence) and wkv-post.
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = {{N}}u;
const N: u32 = {{N}}u;
const HMAX: u32 = {{HMAX}}u;

//#include wkv-common
//#include reduce
//#include wkv-prep-fn

var<workgroup> hid: array<f32, HMAX>;

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
  let p = prep_channel(row, h, j, sg_lane);
  let xo = row * P.c + h * N + j;
  act[P.planes + xo] = p.decay;
  act[P.planes + P.plane + xo] = p.kk;
  act[P.planes + 2u * P.plane + xo] = p.kka;
  act[P.planes + 3u * P.plane + xo] = p.k;
  act[P.planes + 4u * P.plane + xo] = p.v;
  act[P.planes + 5u * P.plane + xo] = p.g;
  if (j == 0u) {
    act[P.bonus_off + row * P.n_head + h] = p.bonus;
  }
}
