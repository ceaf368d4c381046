// Single-token wkv (decode) for head size 64, one workgroup of 256 per (sequence, head). Every
// global load the state-free work needs is issued first — the state rows, this invocation's
// columns of its channel's four LoRA up-projection rows (into registers), the channel's
// parameters and activations — so their latencies overlap instead of following one another
// (before, each matrix's columns were read four at a time, one round after another: five
// dependent rounds at the 2.9B shapes of bench/gpu.ts).
// Then the LoRA dot products over the hidden vectors (all 256 invocations), the head sums, and
// the state update of wkv-update-fn, with one barrier per head sum. For steps of one or a few sequences; wide batches take
// wkv-batch.
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

// vec4 columns per invocation of the decay, iclr, value-residual and gate up-projection rows:
// ceil(vec4 per row / LORA_PARTS), at least 1 (a per-model constant; dispatch-shape.ts).
const LW: u32 = {{LORA_W}}u;
const LA: u32 = {{LORA_A}}u;
const LV: u32 = {{LORA_V}}u;
const LG: u32 = {{LORA_G}}u;

struct LoraRows {
  w: array<vec4<u32>, LW>,
  a: array<vec4<u32>, LA>,
  v: array<vec4<u32>, LV>,
  g: array<vec4<u32>, LG>,
}

// Columns part, part + LORA_PARTS, … of channel ch's four rows (as lora_up_part splits them).
fn lora_fetch(ch: u32, part: u32) -> LoraRows {
  var r: LoraRows;
  let v_vec = select(P.v2_vec, 0u, P.layer0 == 1u); // no value residual in layer 0
  for (var i = 0u; i < LW; i++) {
    let q = part + i * LORA_PARTS;
    if (q < P.w2_vec) { r.w[i] = wts[P.w2 + ch * P.w2_vec + q]; }
  }
  for (var i = 0u; i < LA; i++) {
    let q = part + i * LORA_PARTS;
    if (q < P.a2_vec) { r.a[i] = wts[P.a2 + ch * P.a2_vec + q]; }
  }
  for (var i = 0u; i < LV; i++) {
    let q = part + i * LORA_PARTS;
    if (q < v_vec) { r.v[i] = wts[P.v2 + ch * P.v2_vec + q]; }
  }
  for (var i = 0u; i < LG; i++) {
    let q = part + i * LORA_PARTS;
    if (q < P.g2_vec) { r.g[i] = wts[P.g2 + ch * P.g2_vec + q]; }
  }
  return r;
}

// This invocation's part of the four LoRA sums, over `hid` (filled and behind a barrier).
fn lora_sums(r: LoraRows, part: u32) -> vec4<f32> {
  let o = hid_offsets();
  let v_vec = select(P.v2_vec, 0u, P.layer0 == 1u);
  var s = vec4<f32>(0.0);
  for (var i = 0u; i < LW; i++) {
    let q = part + i * LORA_PARTS;
    if (q < P.w2_vec) { s.x += lora_term(r.w[i], o.x + q * EPV); }
  }
  for (var i = 0u; i < LA; i++) {
    let q = part + i * LORA_PARTS;
    if (q < P.a2_vec) { s.y += lora_term(r.a[i], o.y + q * EPV); }
  }
  for (var i = 0u; i < LV; i++) {
    let q = part + i * LORA_PARTS;
    if (q < v_vec) { s.z += lora_term(r.v[i], o.z + q * EPV); }
  }
  for (var i = 0u; i < LG; i++) {
    let q = part + i * LORA_PARTS;
    if (q < P.g2_vec) { s.w += lora_term(r.g[i], o.w + q * EPV); }
  }
  return s;
}

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
  let part = lid / N;
  let lora_rows = lora_fetch(h * N + lid % N, part);
  let inp = prep_load(row, h, lid);
  fill_hid(row, lid);
  workgroupBarrier();
  lora_part[lid] = lora_sums(lora_rows, part);
  workgroupBarrier();
  // Head sums with one barrier (head_sum2, through the slots load_state_row claimed) rather
  // than wg_sum2's three.
  let p = prep_sums(prep_terms_from(inp, row, h, lid, lora_total(lid)), lid, sg_lane);
  if (lid < N) {
    share_prep(lid, p);
  }
  workgroupBarrier();
  update_head(st, row, h, p.bonus, lid, sg_lane);
}
