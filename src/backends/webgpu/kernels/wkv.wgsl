// The RWKV-7 time-mix core for one head of one sequence per workgroup, rows in token order:
// LoRA up-projections (decay, in-context rate, value residual, gate), k normalisation, the wkv
// state update, read-out, per-head group norm, bonus and gate. Thread j owns channel j of the
// head and, in the state update, value row i = j of the N×N state S[i][j]:
//   S ← S·diag(decay) − (S·kk)(kk·a)ᵀ + v kᵀ;  y = S·r          (RWKV-LM x070 RNN mode)
//#if SUBGROUPS
enable subgroups;
//#endif
const WG: u32 = {{N}}u; // head size
const N: u32 = {{N}}u;
const HMAX: u32 = {{HMAX}}u; // room for the four LoRA hidden vectors

//#include wkv-common
//#include reduce
//#include wkv-prep-fn

var<workgroup> hid: array<f32, HMAX>;
var<workgroup> sh_decay: array<f32, N>;
var<workgroup> sh_kk: array<f32, N>;
var<workgroup> sh_kka: array<f32, N>;
var<workgroup> sh_k: array<f32, N>;
var<workgroup> sh_r: array<f32, N>;

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
  let seq = rows[P.seq_base + wid.x];
  let h = wid.y;
  let c = h * N + j;
  let s_base = seq.z * P.slot_stride + P.wkv_off + h * N * N + j * N;
  for (var t = 0u; t < seq.y; t++) {
    let row = seq.x + t;
    let xo = row * P.c + c;
    let p = prep_channel(row, h, j, sg_lane);
    let v = p.v;
    let bonus = p.bonus;
    let g = p.g;
    sh_decay[j] = p.decay;
    sh_kk[j] = p.kk;
    sh_kka[j] = p.kka;
    sh_k[j] = p.k;
    sh_r[j] = p.r;
    workgroupBarrier();
    // Row i = j of this head's state.
    var sk = 0.0;
    for (var q = 0u; q < N; q++) {
      sk += pool[s_base + q] * sh_kk[q];
    }
    var y = 0.0;
    for (var q = 0u; q < N; q++) {
      let s = pool[s_base + q] * sh_decay[q] - sk * sh_kka[q] + v * sh_k[q];
      pool[s_base + q] = s;
      y += s * sh_r[q];
    }
    let mean = wg_sum(y, j, sg_lane) / f32(N);
    let d = y - mean;
    let var_ = wg_sum(d * d, j, sg_lane) / f32(N);
    let yn = d * inverseSqrt(var_ + GN_EPS) * params[P.lnx_w + c] + params[P.lnx_b + c];
    act[P.y_off + xo] = (yn + bonus * v) * g;
    workgroupBarrier();
  }
}
