// Prefill, step 2 of 3: the wkv recurrence over a sequence's tokens with the state on chip.
// A workgroup owns RB value rows of one head; each row is split over 4 threads holding 16 of
// its N = 64 columns in registers (four vec4). Per token (inputs staged in workgroup memory
// TC tokens at a time):  sk = S_i·kk;  S_i ← S_i∘decay − sk·(kk·a) + v_i·k;  y_i = S_i·r.
// The 4-thread sums use subgroup shuffles when available: each subgroup takes a block of rows
// through an atomic, so groups of 4 lanes are quads of one subgroup whatever its size or the
// lane layout. Without subgroups the sums go through workgroup memory.
// The next TC tokens' inputs are loaded into registers while the current ones are multiplied
// out (each thread owns the same 4 staging slots every round): a head has only 4 workgroups of
// 64 threads, too few per multiprocessor to hide a round's load latency otherwise. Measured on
// the H100 (2.9B, 1024-token chunk): 25.2 -> 23.1 ms for the 32 layers; the rest is the
// per-token dependency chain (two 4-lane sums, ~0.7 µs a token), which only a chunked
// (parallel-in-time) form of the recurrence would shorten.
//#if SUBGROUPS
enable subgroups;
//#endif
const N: u32 = 64u; // the layout below (4 threads × 16 columns) is written for head size 64
const RB: u32 = 16u;       // value rows per workgroup
const WG: u32 = RB * 4u;   // 4 threads per row
const TC: u32 = 16u;       // tokens staged per round
// Each thread stages 4 slots of the five vectors and 4 values of v per round.
const_assert TC * N / 4u == 4u * WG;
const_assert TC * RB == 4u * WG;

//#include wkv-common

// One staging slot: the five N-vectors' 4 columns of one token that a thread moves.
struct Tok5 {
  dec: vec4<f32>,
  kk: vec4<f32>,
  kka: vec4<f32>,
  k: vec4<f32>,
  r: vec4<f32>,
}

// Slot e (token e / (N / 4), columns 4·(e % (N / 4))…) of the round starting at token t0 of the
// sequence starting at row `first`; tokens past tn are clamped to the last (never stored).
fn load_tok5(first: u32, t0: u32, tn: u32, e: u32, hc: u32) -> Tok5 {
  let t = min(e / (N / 4u), max(tn, 1u) - 1u);
  let jq = (e % (N / 4u)) * 4u;
  let base = (first + t0 + t) * P.c + hc + jq;
  let pb = P.planes + base;
  let pa = pb + 2u * P.plane;
  let pk = pb + 3u * P.plane;
  let pr = P.r_off + base;
  return Tok5(
    vec4<f32>(act[pb], act[pb + 1u], act[pb + 2u], act[pb + 3u]),
    vec4<f32>(act[pb + P.plane], act[pb + P.plane + 1u], act[pb + P.plane + 2u], act[pb + P.plane + 3u]),
    vec4<f32>(act[pa], act[pa + 1u], act[pa + 2u], act[pa + 3u]),
    vec4<f32>(act[pk], act[pk + 1u], act[pk + 2u], act[pk + 3u]),
    vec4<f32>(act[pr], act[pr + 1u], act[pr + 2u], act[pr + 3u]),
  );
}

fn store_tok5(e: u32, tn: u32, v: Tok5) {
  if (e < tn * N / 4u) {
    sh_dec[e] = v.dec;
    sh_kk[e] = v.kk;
    sh_kka[e] = v.kka;
    sh_k[e] = v.k;
    sh_r[e] = v.r;
  }
}

// This block's value of row i0 + e % RB for token e / RB of the round (clamped like load_tok5).
fn load_v(first: u32, t0: u32, tn: u32, e: u32, hc: u32, i0: u32) -> f32 {
  let t = min(e / RB, max(tn, 1u) - 1u);
  return act[P.planes + 4u * P.plane + (first + t0 + t) * P.c + hc + i0 + e % RB];
}

fn store_v(e: u32, tn: u32, v: f32) {
  if (e < tn * RB) {
    sh_v[e] = v;
  }
}

var<workgroup> sh_dec: array<vec4<f32>, TC * N / 4u>;
var<workgroup> sh_kk: array<vec4<f32>, TC * N / 4u>;
var<workgroup> sh_kka: array<vec4<f32>, TC * N / 4u>;
var<workgroup> sh_k: array<vec4<f32>, TC * N / 4u>;
var<workgroup> sh_r: array<vec4<f32>, TC * N / 4u>;
var<workgroup> sh_v: array<f32, TC * RB>;
//#include quad-claim
// Without subgroups the 4-invocation sums go through workgroup memory.
//#if SUBGROUPS
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
  // Row (within the block) and column quarter of this thread.
//#if SUBGROUPS
  let role = quad_role(lid, sg_lane, sg_size);
//#else
  let role = quad_role(lid, 0u, 0u);
//#endif
  let il = role.row;
  let q = role.q;
  let i = i0 + il;
  let s_at = seq.z * P.slot_stride + P.wkv_off + h * N * N + i * N + q * 16u;
  var s0 = vec4<f32>(pool[s_at], pool[s_at + 1u], pool[s_at + 2u], pool[s_at + 3u]);
  var s1 = vec4<f32>(pool[s_at + 4u], pool[s_at + 5u], pool[s_at + 6u], pool[s_at + 7u]);
  var s2 = vec4<f32>(pool[s_at + 8u], pool[s_at + 9u], pool[s_at + 10u], pool[s_at + 11u]);
  var s3 = vec4<f32>(pool[s_at + 12u], pool[s_at + 13u], pool[s_at + 14u], pool[s_at + 15u]);
  let hc = h * N;
  // Round r's inputs: 4 slots of the five vectors and 4 values of v per thread (TC·N/4 = TC·RB =
  // 4·WG), loaded one round ahead.
  var tn = min(TC, seq.y);
  var a0 = load_tok5(seq.x, 0u, tn, lid, hc);
  var a1 = load_tok5(seq.x, 0u, tn, lid + WG, hc);
  var a2 = load_tok5(seq.x, 0u, tn, lid + 2u * WG, hc);
  var a3 = load_tok5(seq.x, 0u, tn, lid + 3u * WG, hc);
  var v0 = load_v(seq.x, 0u, tn, lid, hc, i0);
  var v1 = load_v(seq.x, 0u, tn, lid + WG, hc, i0);
  var v2 = load_v(seq.x, 0u, tn, lid + 2u * WG, hc, i0);
  var v3 = load_v(seq.x, 0u, tn, lid + 3u * WG, hc, i0);
  for (var t0 = 0u; t0 < seq.y; t0 += TC) {
    workgroupBarrier(); // the last round's reads of the staging arrays are done
    store_tok5(lid, tn, a0);
    store_tok5(lid + WG, tn, a1);
    store_tok5(lid + 2u * WG, tn, a2);
    store_tok5(lid + 3u * WG, tn, a3);
    store_v(lid, tn, v0);
    store_v(lid + WG, tn, v1);
    store_v(lid + 2u * WG, tn, v2);
    store_v(lid + 3u * WG, tn, v3);
    workgroupBarrier();
    let t1 = t0 + TC;
    let tn_now = tn;
    if (t1 < seq.y) {
      // The next round's loads, in flight during this round's tokens.
      tn = min(TC, seq.y - t1);
      a0 = load_tok5(seq.x, t1, tn, lid, hc);
      a1 = load_tok5(seq.x, t1, tn, lid + WG, hc);
      a2 = load_tok5(seq.x, t1, tn, lid + 2u * WG, hc);
      a3 = load_tok5(seq.x, t1, tn, lid + 3u * WG, hc);
      v0 = load_v(seq.x, t1, tn, lid, hc, i0);
      v1 = load_v(seq.x, t1, tn, lid + WG, hc, i0);
      v2 = load_v(seq.x, t1, tn, lid + 2u * WG, hc, i0);
      v3 = load_v(seq.x, t1, tn, lid + 3u * WG, hc, i0);
    }
    for (var t = 0u; t < tn_now; t++) {
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
