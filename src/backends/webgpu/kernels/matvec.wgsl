// Matrix × a few vectors (decode: M ≤ MR rows), bound by reading W once. Each output row gets
// LANES threads that stride over K in 16-byte loads of W; every loaded weight is used for all
// M input rows, and every loaded input vector for the R output rows a thread owns; the partial
// sums meet in workgroup memory.
// The accumulators are named variables (a<r>_<m>), written out by matvec-source.ts, because
// arrays indexed in loops went to local memory in the tiled kernel on NVIDIA; with them and
// R = 2, batch 4–8 decode measured 16–29 % faster on the H100 (bench/RESULTS.md).
// COPY (steps of a single token, layout matmulLn): workgroup 0 also copies LN(x), left in a
// scratch plane by the layer's matvec-ln dispatch, into the state's token shift — here, in a
// later dispatch, because every workgroup of matvec-ln still reads the old shift. For the
// layer's `out` and `ffn.value` this is the simple kernel on purpose: measured on the H100, it
// beat matvec-ln's multi-row split with prefetch on those shapes (long K or few rows).
const WG: u32 = 256u;
const LANES: u32 = {{LANES}}u;
const R: u32 = {{R}}u;
const ROWS: u32 = WG / LANES * R;
const MR: u32 = {{MR}}u;
/** Accumulators reduced per round through `part` (8 KiB fits every device's limit). */
const CHUNK: u32 = 8u;

//#include matmul-common
//#include weights
//#if X_ACT
//#include math
//#include x-act
//#endif
//#if COPY
//#include single-glue
//#endif

var<workgroup> part: array<f32, WG * CHUNK>;

// 16 bytes of weights, widened, and the matching input floats of one row of X.
//#if W32
struct Wv { a: vec4<f32> }
struct Xv { a: vec4<f32> }
fn wv(u: vec4<u32>) -> Wv {
  return Wv(w_first4(u));
}
fn xv(x_row: u32, kv: u32, kind: u32) -> Xv {
//#if X_ACT
  return Xv(x_in(act[x_row + kv], kind));
//#else
  return Xv(act[x_row + kv]);
//#endif
}
fn xdot(w: Wv, x: Xv) -> f32 {
  return dot(w.a, x.a);
}
//#else
struct Wv { a: vec4<f32>, b: vec4<f32> }
struct Xv { a: vec4<f32>, b: vec4<f32> }
fn wv(u: vec4<u32>) -> Wv {
  return Wv(w_first4(u), w_last4(u));
}
fn xv(x_row: u32, kv: u32, kind: u32) -> Xv {
  let i = x_row + 2u * kv;
//#if X_ACT
  return Xv(x_in(act[i], kind), x_in(act[i + 1u], kind));
//#else
  return Xv(act[i], act[i + 1u]);
//#endif
}
fn xdot(w: Wv, x: Xv) -> f32 {
  return dot(w.a, x.a) + dot(w.b, x.b);
}
//#endif

// Tree sum over the LANES threads of each row group, for the `n` values each put in `part`.
fn reduce_part(lane: u32, lid: u32, n: u32) {
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s = s / 2u) {
    if (lane < s) {
      for (var c = 0u; c < n; c++) {
        part[c * WG + lid] += part[c * WG + lid + s];
      }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
//#if COPY
  if (wid.x == 0u) {
    let shift = shift_at();
    for (var k = lid; k < {{C4}}u; k += WG) {
      pool[shift + k] = act[L.scratch / 4u + k];
    }
  }
//#endif
  let prow = wid.x * ROWS;
  let seg = segs[find_seg(prow)];
  let m_count = min(seg_rows(seg), MR);
  let lane = lid % LANES;
  // This thread's first output row; it owns rows row0 .. row0 + R - 1.
  let row0 = prow - seg.row_start + (lid / LANES) * R;
  // Rows past the matrix (segment padding) and input rows past m_count read a valid row
  // instead of branching in the loop; their sums are never stored.
  let last_row = seg.n_rows - 1u;
  let last_m = max(m_count, 1u) - 1u;
{{SETUP}}
  // Loads of weights in flight per iteration: U steps of kv for each of the R rows (four in
  // all; with two, the long-K matrices such as ffn.value left the GPU short of bytes in flight).
  var kv = lane;
  for (; kv + ({{U}}u - 1u) * LANES < seg.k_vec; kv += {{U}}u * LANES) {
{{STEP_U}}
  }
  for (; kv < seg.k_vec; kv += LANES) {
{{STEP_1}}
  }
{{REDUCE}}
}
