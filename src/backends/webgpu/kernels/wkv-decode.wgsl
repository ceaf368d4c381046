// Single-token wkv (decode) for head size 64, one workgroup of 256 per (sequence, head): the
// state rows are loaded first (their latency overlaps the rest), then the state-free work with
// the LoRA up-projections as dot products (prep_channel, all 256 invocations), then the state
// update of wkv-update-fn. For steps of one or a few sequences; wide batches take wkv-batch.
//#if SUBGROUPS
enable subgroups;
//#endif
const N: u32 = 64u;
const WG: u32 = 256u;
const HMAX: u32 = {{HMAX}}u;

//#include wkv-common
//#include reduce
//#include wkv-prep-fn
//#include wkv-update-fn

var<workgroup> hid: array<f32, HMAX>;

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
  let row = seq.x; // decode: one token per sequence
  let h = wid.y;
  let st = load_state_row(seq.z, h, lid, sg_lane, sg_size);
  let p = prep_channel(row, h, lid, sg_lane);
  if (lid < N) {
    share_prep(lid, p);
  }
  workgroupBarrier();
  update_head(st, row, h, p.bonus, lid, sg_lane);
}
