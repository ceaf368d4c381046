// Prefill, step 2 of 3: the wkv recurrence over a sequence's tokens with the state on chip.
// A workgroup owns RB value rows of one head; each row is split over 4 threads holding 16 of
// its N = 64 columns in registers (four vec4). Per token (inputs staged in workgroup memory
// TC tokens at a time):  sk = S_i·kk;  S_i ← S_i∘decay − sk·(kk·a) + v_i·k;  y_i = S_i·r.
// The 4-thread sums use subgroup shuffles when available: each subgroup takes a block of rows
// through an atomic, so groups of 4 lanes are quads of one subgroup whatever its size or the
// lane layout. Without subgroups the sums go through workgroup memory.
//#if SUBGROUPS
enable subgroups;
//#endif
const N: u32 = 64u; // the layout below (4 threads × 16 columns) is written for head size 64
const RB: u32 = 16u;       // value rows per workgroup
const WG: u32 = RB * 4u;   // 4 threads per row
const TC: u32 = 16u;       // tokens staged per round

//#include wkv-common

var<workgroup> sh_dec: array<vec4<f32>, TC * N / 4u>;
var<workgroup> sh_kk: array<vec4<f32>, TC * N / 4u>;
var<workgroup> sh_kka: array<vec4<f32>, TC * N / 4u>;
var<workgroup> sh_k: array<vec4<f32>, TC * N / 4u>;
var<workgroup> sh_r: array<vec4<f32>, TC * N / 4u>;
var<workgroup> sh_v: array<f32, TC * RB>;
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
  let seq = rows[P.seq_base + wid.x];
  let h = wid.y;
  let i0 = wid.z * RB;
//#if SUBGROUPS
  // Role of this thread: row (within the block) and column quarter, from its subgroup's slot.
  var slot = 0u;
  if (sg_lane == 0u) {
    slot = atomicAdd(&sg_count, 1u);
  }
  slot = subgroupBroadcastFirst(slot);
  let il = slot * (sg_size / 4u) + sg_lane / 4u;
  let q = sg_lane % 4u;
//#else
  let il = lid / 4u;
  let q = lid % 4u;
//#endif
  let i = i0 + il;
  let s_at = seq.z * P.slot_stride + P.wkv_off + h * N * N + i * N + q * 16u;
  var s0 = vec4<f32>(pool[s_at], pool[s_at + 1u], pool[s_at + 2u], pool[s_at + 3u]);
  var s1 = vec4<f32>(pool[s_at + 4u], pool[s_at + 5u], pool[s_at + 6u], pool[s_at + 7u]);
  var s2 = vec4<f32>(pool[s_at + 8u], pool[s_at + 9u], pool[s_at + 10u], pool[s_at + 11u]);
  var s3 = vec4<f32>(pool[s_at + 12u], pool[s_at + 13u], pool[s_at + 14u], pool[s_at + 15u]);
  let hc = h * N;
  for (var t0 = 0u; t0 < seq.y; t0 += TC) {
    let tn = min(TC, seq.y - t0);
    workgroupBarrier();
    // Stage tn tokens: five N-vectors each (as vec4) and this block's RB values of v.
    for (var e = lid; e < tn * N / 4u; e += WG) {
      let t = e / (N / 4u);
      let jq = (e % (N / 4u)) * 4u;
      let base = (seq.x + t0 + t) * P.c + hc + jq;
      let pb = P.planes + base;
      sh_dec[e] = vec4<f32>(act[pb], act[pb + 1u], act[pb + 2u], act[pb + 3u]);
      sh_kk[e] = vec4<f32>(act[pb + P.plane], act[pb + P.plane + 1u], act[pb + P.plane + 2u], act[pb + P.plane + 3u]);
      let pa = pb + 2u * P.plane;
      sh_kka[e] = vec4<f32>(act[pa], act[pa + 1u], act[pa + 2u], act[pa + 3u]);
      let pk = pb + 3u * P.plane;
      sh_k[e] = vec4<f32>(act[pk], act[pk + 1u], act[pk + 2u], act[pk + 3u]);
      let pr = P.r_off + base;
      sh_r[e] = vec4<f32>(act[pr], act[pr + 1u], act[pr + 2u], act[pr + 3u]);
    }
    for (var e = lid; e < tn * RB; e += WG) {
      let t = e / RB;
      sh_v[e] = act[P.planes + 4u * P.plane + (seq.x + t0 + t) * P.c + hc + i0 + e % RB];
    }
    workgroupBarrier();
    for (var t = 0u; t < tn; t++) {
      let b = t * (N / 4u) + q * 4u;
      let kk0 = sh_kk[b];
      let kk1 = sh_kk[b + 1u];
      let kk2 = sh_kk[b + 2u];
      let kk3 = sh_kk[b + 3u];
      var sk = dot(s0, kk0) + dot(s1, kk1) + dot(s2, kk2) + dot(s3, kk3);
//#if SUBGROUPS
      sk += subgroupShuffleXor(sk, 1u);
      sk += subgroupShuffleXor(sk, 2u);
//#else
      red[lid] = sk;
      workgroupBarrier();
      sk = red[il * 4u] + red[il * 4u + 1u] + red[il * 4u + 2u] + red[il * 4u + 3u];
      workgroupBarrier();
//#endif
      let v = sh_v[t * RB + il];
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
      y = red[il * 4u] + red[il * 4u + 1u] + red[il * 4u + 2u] + red[il * 4u + 3u];
      workgroupBarrier();
//#endif
      if (q == 0u) {
        act[P.y_off + (seq.x + t0 + t) * P.c + hc + i] = y;
      }
    }
  }
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
}
