// Single-token wkv for head size 64 when many sequences step together: the LoRA
// up-projections were done for all rows at once by a GEMM ('lora-up' in step-program.ts, after
// wkv-lora-act applied tanh/sigmoid to the hidden vectors), which left decay, iclr, value
// residual and gate terms in planes 0–3 of the `mix` region. This kernel is the rest: per
// (sequence, head) the elementwise prep and the state update of wkv-update-fn. Re-reading each
// head's LoRA rows per sequence (the fused kernel's way) cost ~28 % of a 128-sequence step.
//#if SUBGROUPS
enable subgroups;
//#endif
const N: u32 = 64u;
const WG: u32 = 256u;

//#include wkv-common
//#include reduce
//#include wkv-prep-elem
//#include wkv-update-fn

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
//#if SUBGROUPS
  @builtin(subgroup_invocation_id) sg_lane: u32,
  @builtin(subgroup_size) sg_size: u32,
//#endif
) {
//#if SUBGROUPS
//#else
  let sg_lane = 0u;
  let sg_size = 1u;
//#endif
  let seq = rows[P.seq_base + wid.x];
  let row = seq.x;
  let h = wid.y;
  let st = load_state_row(seq.z, h, lid, sg_lane, sg_size);
  let xo = P.planes + row * P.c + h * N + min(lid, N - 1u);
  var lora = vec4<f32>(act[xo], act[xo + P.plane], 0.0, act[xo + 3u * P.plane]);
  if (P.layer0 == 0u) {
    lora.z = act[xo + 2u * P.plane]; // no value residual in layer 0
  }
  let p = prep_sums(prep_terms(row, h, lid, lora), lid, sg_lane);
  if (lid < N) {
    share_prep(lid, p);
  }
  workgroupBarrier();
  update_head(st, row, h, p.bonus, lid, sg_lane);
}
