// Single-token wkv (decode) for head size 64, one workgroup of 256 per (sequence, head):
// the 64 channel invocations first do the state-free work (prep_channel), then all 256 update
// the state with 4 invocations per value row i, each holding 16 of its columns in registers:
//   sk = S_i·kk;  S_i ← S_i∘decay − sk·(kk·a) + v_i·k;  y_i = S_i·r
// then group norm over the head, bonus and gate. The 4-invocation sums use subgroup shuffles
// (rows assigned per subgroup through an atomic, so any subgroup size ≥ 4 and any lane layout
// work) or workgroup memory without subgroups.
//#if SUBGROUPS
enable subgroups;
//#endif
const N: u32 = 64u;
const WG: u32 = 256u;
const HMAX: u32 = {{HMAX}}u;

//#include wkv-common
//#include reduce
//#include wkv-prep-fn

var<workgroup> hid: array<f32, HMAX>;
var<workgroup> sh_dec: array<vec4<f32>, 16>;
var<workgroup> sh_kk: array<vec4<f32>, 16>;
var<workgroup> sh_kka: array<vec4<f32>, 16>;
var<workgroup> sh_k: array<vec4<f32>, 16>;
var<workgroup> sh_r: array<vec4<f32>, 16>;
var<workgroup> sh_v: array<f32, N>;
var<workgroup> sh_g: array<f32, N>;
//#if SUBGROUPS
var<workgroup> sg_count: atomic<u32>;
//#else
var<workgroup> red: array<f32, WG>;
//#endif

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
//#endif
  let seq = rows[P.seq_base + wid.x];
  let row = seq.x; // decode: one token per sequence
  let h = wid.y;
  let p = prep_channel(row, h, lid, sg_lane);
  if (lid < N) {
    sh_dec[lid / 4u][lid % 4u] = p.decay;
    sh_kk[lid / 4u][lid % 4u] = p.kk;
    sh_kka[lid / 4u][lid % 4u] = p.kka;
    sh_k[lid / 4u][lid % 4u] = p.k;
    sh_r[lid / 4u][lid % 4u] = p.r;
    sh_v[lid] = p.v;
    sh_g[lid] = p.g;
  }
  let bonus = p.bonus;
  workgroupBarrier();

//#if SUBGROUPS
  var slot = 0u;
  if (sg_lane == 0u) {
    slot = atomicAdd(&sg_count, 1u);
  }
  slot = subgroupBroadcastFirst(slot);
  let i = slot * (sg_size / 4u) + sg_lane / 4u;
  let q = sg_lane % 4u;
//#else
  let i = lid / 4u;
  let q = lid % 4u;
//#endif
  let s_at = seq.z * P.slot_stride + P.wkv_off + h * N * N + i * N + q * 16u;
  var s0 = vec4<f32>(pool[s_at], pool[s_at + 1u], pool[s_at + 2u], pool[s_at + 3u]);
  var s1 = vec4<f32>(pool[s_at + 4u], pool[s_at + 5u], pool[s_at + 6u], pool[s_at + 7u]);
  var s2 = vec4<f32>(pool[s_at + 8u], pool[s_at + 9u], pool[s_at + 10u], pool[s_at + 11u]);
  var s3 = vec4<f32>(pool[s_at + 12u], pool[s_at + 13u], pool[s_at + 14u], pool[s_at + 15u]);
  let b = q * 4u;
  var sk = dot(s0, sh_kk[b]) + dot(s1, sh_kk[b + 1u]) + dot(s2, sh_kk[b + 2u]) + dot(s3, sh_kk[b + 3u]);
//#if SUBGROUPS
  sk += subgroupShuffleXor(sk, 1u);
  sk += subgroupShuffleXor(sk, 2u);
//#else
  red[lid] = sk;
  workgroupBarrier();
  sk = red[i * 4u] + red[i * 4u + 1u] + red[i * 4u + 2u] + red[i * 4u + 3u];
  workgroupBarrier();
//#endif
  let v = sh_v[i];
  s0 = s0 * sh_dec[b] - sk * sh_kka[b] + v * sh_k[b];
  s1 = s1 * sh_dec[b + 1u] - sk * sh_kka[b + 1u] + v * sh_k[b + 1u];
  s2 = s2 * sh_dec[b + 2u] - sk * sh_kka[b + 2u] + v * sh_k[b + 2u];
  s3 = s3 * sh_dec[b + 3u] - sk * sh_kka[b + 3u] + v * sh_k[b + 3u];
  var y = dot(s0, sh_r[b]) + dot(s1, sh_r[b + 1u]) + dot(s2, sh_r[b + 2u]) + dot(s3, sh_r[b + 3u]);
//#if SUBGROUPS
  y += subgroupShuffleXor(y, 1u);
  y += subgroupShuffleXor(y, 2u);
//#else
  red[lid] = y;
  workgroupBarrier();
  y = red[i * 4u] + red[i * 4u + 1u] + red[i * 4u + 2u] + red[i * 4u + 3u];
  workgroupBarrier();
//#endif
  pool[s_at] = s0.x;
  pool[s_at + 1u] = s0.y;
  pool[s_at + 2u] = s0.z;
  pool[s_at + 3u] = s0.w;
  pool[s_at + 4u] = s1.x;
  pool[s_at + 5u] = s1.y;
  pool[s_at + 6u] = s1.z;
  pool[s_at + 7u] = s1.w;
  pool[s_at + 8u] = s2.x;
  pool[s_at + 9u] = s2.y;
  pool[s_at + 10u] = s2.z;
  pool[s_at + 11u] = s2.w;
  pool[s_at + 12u] = s3.x;
  pool[s_at + 13u] = s3.y;
  pool[s_at + 14u] = s3.z;
  pool[s_at + 15u] = s3.w;
  // Group norm over the head's 64 rows (each row's y counted once, by its q = 0 invocation).
  let own = select(0.0, y, q == 0u);
  let mean = wg_sum(own, lid, sg_lane) / f32(N);
  let d = y - mean;
  let var_ = wg_sum(select(0.0, d * d, q == 0u), lid, sg_lane) / f32(N);
  if (q == 0u) {
    let c = h * N + i;
    let yn = d * inverseSqrt(var_ + GN_EPS) * params[P.lnx_w + c] + params[P.lnx_b + c];
    act[P.y_off + row * P.c + c] = (yn + bonus * v) * sh_g[i];
  }
}
