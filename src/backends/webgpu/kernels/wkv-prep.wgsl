// Prefill, step 1 of 3: the state-free part of the wkv for every token in parallel, one
// workgroup per (token, head). The LoRA up-projections of all rows were done before by one GEMM
// ('lora-up' in step-program.ts, tanh / sigmoid applied to the hidden vectors as it read them)
// into planes 0–3 of the `mix` region (P.planes): decay, iclr, value residual, gate. This
// kernel reads its channel's four, then overwrites the same place with decay, kk, kk·a, k, v, g
// in six planes of [rows][C] and the head's bonus sum in [rows][H], for wkv-scan (the
// recurrence) and wkv-post. (Before, each workgroup summed the LoRA dot products itself and
// re-read the head's LoRA rows for every token: 26 of 217 ms of a 1024-token 2.9B chunk.)
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = {{N}}u;
const N: u32 = {{N}}u;

//#include wkv-common
//#include reduce
//#include wkv-prep-elem

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
  let xo = row * P.c + h * N + j;
  let at = P.planes + xo;
  var lora = vec4<f32>(act[at], act[at + P.plane], 0.0, act[at + 3u * P.plane]);
  if (P.layer0 == 0u) {
    lora.z = act[at + 2u * P.plane]; // no value residual in layer 0
  }
  let p0 = prep_terms(row, h, j, lora);
  let p = prep_close(p0, wg_sum2(prep_sum_in(p0, j), j, sg_lane));
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
