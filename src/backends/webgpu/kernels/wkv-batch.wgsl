// Single-token wkv for head size 64 when many sequences step together, after the LoRA
// up-projections were done for all rows at once by a GEMM ('lora-up' in step-program.ts, tanh /
// sigmoid applied to its hidden vectors as it read them): decay, iclr, value residual and gate
// terms wait in planes 0–3 of the `mix` region (P.planes). Re-reading each head's LoRA rows per
// sequence (the fused kernel's way) cost ~28 % of a 128-sequence step.
//
// One workgroup of 64 invocations per (sequence, head):
//   1. issues the loads of the head's 16 KB state first: invocation (il, q) holds the vec4
//      columns q, q + 4, q + 8, q + 12 of rows il, il + 16, il + 32 and il + 48 (the 4
//      invocations of a row read 64 contiguous bytes per load), 256 bytes in flight each;
//   2. meanwhile does the elementwise prep, one channel per invocation, with the head sums of kk²
//      and the bonus (wkv-prep-elem);
//   3. updates its rows:  sk = S_i·kk;  S_i ← S_i∘decay − sk·(kk·a) + v_i·k;  y_i = S_i·r,
//      writes the state back, then the group norm over the head, bonus and gate.
// Measured on the H100 (bench/RESULTS.md): the earlier 256-invocation form (one row quarter
// each, 192 idle in the prep) moved the state at 1.65 TB/s; this one ~2 TB/s, the same as
// splitting the rows over 2 or 4 workgroups with the group norm in a second pass.
//#if SUBGROUPS
enable subgroups;
//#endif
const N: u32 = 64u;
const WG: u32 = 64u; // one invocation per channel in the prep

//#include wkv-common
//#include reduce
//#include wkv-prep-elem

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

// Sum over the four invocations of row group il (uniform control flow).
fn row_sum(x: f32, lid: u32, il: u32) -> f32 {
//#if SUBGROUPS
  let s = x + subgroupShuffleXor(x, 1u);
  return s + subgroupShuffleXor(s, 2u);
//#else
  red[lid] = x;
  workgroupBarrier();
  let s = red[il * 4u] + red[il * 4u + 1u] + red[il * 4u + 2u] + red[il * 4u + 3u];
  workgroupBarrier();
  return s;
//#endif
}

struct Quarter {
  s0: vec4<f32>,
  s1: vec4<f32>,
  s2: vec4<f32>,
  s3: vec4<f32>,
}

fn load_quarter(at: u32) -> Quarter {
  return Quarter(pool[at], pool[at + 4u], pool[at + 8u], pool[at + 12u]);
}

// Updates one row quarter (row i, quarter q, its first vec4 at `at`), stores it and returns
// y_i. Same operation order as wkv-update-fn. Uniform control flow.
fn update_row(st: Quarter, at: u32, q: u32, i: u32, lid: u32, il: u32) -> f32 {
  var s0 = st.s0;
  var s1 = st.s1;
  var s2 = st.s2;
  var s3 = st.s3;
  let sk = row_sum(
    dot(s0, sh_kk[q]) + dot(s1, sh_kk[q + 4u]) + dot(s2, sh_kk[q + 8u]) + dot(s3, sh_kk[q + 12u]),
    lid,
    il,
  );
  let v = sh_v[i];
  s0 = s0 * sh_dec[q] - sk * sh_kka[q] + v * sh_k[q];
  s1 = s1 * sh_dec[q + 4u] - sk * sh_kka[q + 4u] + v * sh_k[q + 4u];
  s2 = s2 * sh_dec[q + 8u] - sk * sh_kka[q + 8u] + v * sh_k[q + 8u];
  s3 = s3 * sh_dec[q + 12u] - sk * sh_kka[q + 12u] + v * sh_k[q + 12u];
  pool[at] = s0;
  pool[at + 4u] = s1;
  pool[at + 8u] = s2;
  pool[at + 12u] = s3;
  return row_sum(
    dot(s0, sh_r[q]) + dot(s1, sh_r[q + 4u]) + dot(s2, sh_r[q + 8u]) + dot(s3, sh_r[q + 12u]),
    lid,
    il,
  );
}

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
  let row = seq.x;
  let h = wid.y;
  // Row group il (rows il + 16·e) and quarter q of this invocation. With subgroups, each
  // subgroup claims a run of row groups so that the 4 invocations of a row are a quad of one
  // subgroup (any size ≥ 4, any lane layout).
//#if SUBGROUPS
  var claim = 0u;
  if (sg_lane == 0u) {
    claim = atomicAdd(&sg_count, 1u);
  }
  claim = subgroupBroadcastFirst(claim);
  let il = claim * (sg_size / 4u) + sg_lane / 4u;
  let q = sg_lane % 4u;
//#else
  let sg_lane = 0u;
  let il = lid / 4u;
  let q = lid % 4u;
//#endif
  let at = (seq.z * P.slot_stride + P.wkv_off + h * N * N + il * N) / 4u + q;
  let rows16 = 16u * N / 4u; // vec4 between rows il and il + 16
  let st0 = load_quarter(at);
  let st1 = load_quarter(at + rows16);
  let st2 = load_quarter(at + 2u * rows16);
  let st3 = load_quarter(at + 3u * rows16);

  // The prep of channel j = lid, while the state loads are in flight.
  let xo = P.planes + row * P.c + h * N + lid;
  var lora = vec4<f32>(act[xo], act[xo + P.plane], 0.0, act[xo + 3u * P.plane]);
  if (P.layer0 == 0u) {
    lora.z = act[xo + 2u * P.plane]; // no value residual in layer 0
  }
  let p0 = prep_terms(row, h, lid, lora);
  let p = prep_close(p0, wg_sum2(prep_sum_in(p0, lid), lid, sg_lane));
  sh_dec[lid / 4u][lid % 4u] = p.decay;
  sh_kk[lid / 4u][lid % 4u] = p.kk;
  sh_kka[lid / 4u][lid % 4u] = p.kka;
  sh_k[lid / 4u][lid % 4u] = p.k;
  sh_r[lid / 4u][lid % 4u] = p.r;
  sh_v[lid] = p.v;
  sh_g[lid] = p.g;
  workgroupBarrier();

  let y = vec4<f32>(
    update_row(st0, at, q, il, lid, il),
    update_row(st1, at + rows16, q, il + 16u, lid, il),
    update_row(st2, at + 2u * rows16, q, il + 32u, lid, il),
    update_row(st3, at + 3u * rows16, q, il + 48u, lid, il),
  );
  // Group norm over the head's 64 rows (each row's y counted once, by its q = 0 invocation).
  let mean = wg_sum(select(0.0, (y.x + y.y) + (y.z + y.w), q == 0u), lid, sg_lane) / f32(N);
  let d = y - mean;
  let var_ = wg_sum(select(0.0, dot(d, d), q == 0u), lid, sg_lane) / f32(N);
  if (q == 0u) {
    let inv = inverseSqrt(var_ + GN_EPS);
    for (var e = 0u; e < 4u; e++) {
      let i = il + 16u * e;
      let c = h * N + i;
      let yn = d[e] * inv * params[P.lnx_w + c] + params[P.lnx_b + c];
      act[P.y_off + row * P.c + c] = (yn + p.bonus * sh_v[i]) * sh_g[i];
    }
  }
}
