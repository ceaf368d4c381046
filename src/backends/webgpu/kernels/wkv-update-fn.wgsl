// The state half of the single-token wkv for head size 64 in wkv-decode: 256 invocations per
// (sequence, head), 4 per value row i, each holding a quarter of it (wkv-row-step: the update
// S_i ← S_i∘decay − (S_i·kk)(kk·a) + v_i·k and y_i = S_i·r), then group norm over the head,
// bonus and gate. The 4-invocation sums use subgroup shuffles (rows handed out per subgroup
// through an atomic, so any subgroup size ≥ 4 and any lane layout work) or workgroup memory
// without subgroups.
// Needs const N = 64 and WG = 256, wkv-common with POOL4, reduce and wkv-prep-elem.

//#include wkv-row-step
//#include quad-claim

//#if SUBGROUPS
// Head sums: one partial per subgroup, at the slot its rows were claimed with (unique, so no
// atomics). Two sets used in turn: any invocation past a sum's barrier has seen every other one
// finish reading the previous sum's set, so each sum needs a single barrier (wg_sum2 needs 3).
var<workgroup> head_parts: array<array<vec2<f32>, 64>, 2>;
var<private> sg_slot: u32;
var<private> sg_count_wg: u32;
//#else
var<workgroup> red: array<f32, WG>;
//#endif

/** One invocation's quarter of a state row: vec4 index of the row, row i, quarter q. */
struct StateRow {
  at: u32,
  i: u32,
  q: u32,
  s0: vec4<f32>,
  s1: vec4<f32>,
  s2: vec4<f32>,
  s3: vec4<f32>,
}

// Claims a (row, quarter) and loads it; kernels call this first so that the loads' latency
// overlaps the state-free work. Uniform control flow (the subgroup broadcast).
fn load_state_row(slot: u32, h: u32, lid: u32, sg_lane: u32, sg_size: u32) -> StateRow {
  var r: StateRow;
  let role = quad_role(lid, sg_lane, sg_size);
  r.i = role.row;
  r.q = role.q;
//#if SUBGROUPS
  sg_slot = role.claim;
  sg_count_wg = WG / sg_size;
//#endif
  r.at = (slot * P.slot_stride + P.wkv_off + h * N * N + r.i * N) / 4u;
  r.s0 = pool[r.at + r.q];
  r.s1 = pool[r.at + r.q + 4u];
  r.s2 = pool[r.at + r.q + 8u];
  r.s3 = pool[r.at + r.q + 12u];
  return r;
}

// Sum over the workgroup, after load_state_row; `which` alternates 0, 1, 0, … between calls.
// Uniform control flow.
fn head_sum2(v: vec2<f32>, lid: u32, sg_lane: u32, which: u32) -> vec2<f32> {
//#if SUBGROUPS
  let s = subgroupAdd(v);
  if (sg_lane == 0u) {
    head_parts[which][sg_slot] = s;
  }
  workgroupBarrier();
  var total = vec2<f32>(0.0);
  for (var k = 0u; k < sg_count_wg; k++) {
    total += head_parts[which][k];
  }
  return total;
//#else
  return wg_sum2(v, lid, sg_lane);
//#endif
}

// The head sums of the state-free work (prep_sum_in), with set 0 of head_sum2.
fn prep_sums(p: Prep, lid: u32, sg_lane: u32) -> Prep {
  return prep_close(p, head_sum2(prep_sum_in(p, lid), lid, sg_lane, 0u));
}

// The state update, read-out, group norm, bonus and gate of one head of one token; writes the
// state back and y to act. Uniform control flow.
fn update_head(st: StateRow, row: u32, h: u32, bonus: f32, lid: u32, sg_lane: u32) {
  let i = st.i;
  let q = st.q;
  let s = step_quarter(Quarter(st.s0, st.s1, st.s2, st.s3), q, i, lid, i);
  store_quarter(st.at + q, s);
  let y = read_quarter(s, q, lid, i);
  let v = sh_v[i];
  // Group norm over the head's 64 rows (each row's y counted once, by its q = 0 invocation).
  let own = select(0.0, y, q == 0u);
  // Set 0 was the kernel's prep sum (prep_sums), so these take 1, then 0 again.
  let mean = head_sum2(vec2<f32>(own, 0.0), lid, sg_lane, 1u).x / f32(N);
  let d = y - mean;
  let var_ = head_sum2(vec2<f32>(select(0.0, d * d, q == 0u), 0.0), lid, sg_lane, 0u).x / f32(N);
  if (q == 0u) {
    let c = h * N + i;
    let yn = d * inverseSqrt(var_ + GN_EPS) * params[P.lnx_w + c] + params[P.lnx_b + c];
    act[P.y_off + row * P.c + c] = (yn + bonus * v) * sh_g[i];
  }
}
