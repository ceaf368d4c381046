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
//#include wkv-row-step

//#include quad-claim
// Without subgroups the 4-invocation sums go through workgroup memory.
//#if SUBGROUPS
//#else
var<workgroup> red: array<f32, WG>;
//#endif

fn load_quarter(at: u32) -> Quarter {
  return Quarter(pool[at], pool[at + 4u], pool[at + 8u], pool[at + 12u]);
}

// Updates one row quarter (row i, quarter q, its first vec4 at `at`; row-sum slot il), stores
// it and returns y_i. Uniform control flow.
fn update_row(st: Quarter, at: u32, q: u32, i: u32, lid: u32, il: u32) -> f32 {
  let s = step_quarter(st, q, i, lid, il);
  store_quarter(at, s);
  return read_quarter(s, q, lid, il);
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
  // Row group il (rows il + 16·e) and quarter q of this invocation (quad-claim).
//#if SUBGROUPS
  let role = quad_role(lid, sg_lane, sg_size);
//#else
  let sg_lane = 0u;
  let role = quad_role(lid, 0u, 0u);
//#endif
  let il = role.row;
  let q = role.q;
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
  share_prep(lid, p);
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
