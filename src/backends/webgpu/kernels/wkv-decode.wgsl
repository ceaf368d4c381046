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

// L2 prefetch for steps of a single token. This kernel is a latency chain: its H workgroups
// leave DRAM idle and most SMs empty. Workgroups past the heads (grid y ≥ H, only when the
// dispatch asks for them: dispatch-shape.ts, l2-prefetch.ts) read the weights of the layer's
// next GEMV (att.output, P.pf_off / P.pf_vecs) so that it finds them in the H100's 50 MB L2.
// Measured there (2.9B): `out` −2.6 µs per layer, this kernel +1.3 µs. The loads must not be
// optimised away, so they are folded (xor) into a value compared with a uniform: the store
// happens only if 128 bits of weight xor equal it, and then lands in split-K scratch that no
// single-token step reads. (Also measured: with this branch compiled in, the kernel itself ran
// ~2.5 µs per layer faster even with no prefetch workgroups — a code-generation effect we did
// not explain; touching the chain's own later loads first, to warm L1, made it slower.)
const PF_UNROLL: u32 = 8u;
fn prefetch(k: u32, groups: u32, lid: u32) {
  let stride = groups * WG;
  let end = P.pf_off + P.pf_vecs;
  var x = vec4<u32>(0u);
  var i = P.pf_off + k * WG + lid;
  for (; i + (PF_UNROLL - 1u) * stride < end; i += PF_UNROLL * stride) {
    var y = wts[i];
    for (var u = 1u; u < PF_UNROLL; u++) {
      y ^= wts[i + u * stride];
    }
    x ^= y;
  }
  for (; i < end; i += stride) {
    x ^= wts[i];
  }
  if (all(x == vec4<u32>(P.pf_magic))) {
    act[P.pf_sink] = 1.0;
  }
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
  @builtin(num_workgroups) nwg: vec3<u32>,
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
  if (wid.y >= P.n_head) {
    prefetch(wid.y - P.n_head, nwg.y - P.n_head, lid);
    return;
  }
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
