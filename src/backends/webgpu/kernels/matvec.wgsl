// Matrix × a few vectors (decode: M ≤ MR rows), bound by reading W once. Each output row gets
// LANES threads that stride over K in 16-byte loads of W; every loaded weight is used for all
// M input rows; the partial sums meet in workgroup memory.
// COPY (steps of a single token, layout matmulLn): workgroup 0 also copies LN(x), left in a
// scratch plane by the layer's matvec-ln dispatch, into the state's token shift — here, in a
// later dispatch, because every workgroup of matvec-ln still reads the old shift. For the
// layer's `out` and `ffn.value` this is the simple kernel on purpose: measured on the H100, it
// beat matvec-ln's multi-row split with prefetch on those shapes (long K or few rows).
const WG: u32 = 256u;
const LANES: u32 = {{LANES}}u;
const ROWS: u32 = WG / LANES;
const MR: u32 = {{MR}}u;

//#include matmul-common
//#include weights
//#if COPY
//#include single-glue
//#endif

var<workgroup> part: array<f32, WG * MR>;

// One vec4<u32> of weights (EPV elements at column block kv) times input row m.
fn term(u: vec4<u32>, seg: Seg, m: u32, kv: u32) -> f32 {
//#if W32
  return dot(w_first4(u), act[seg.x_off + m * seg.x_stride + kv]);
//#else
  let xi = seg.x_off + m * seg.x_stride + 2u * kv;
  return dot(w_first4(u), act[xi]) + dot(w_last4(u), act[xi + 1u]);
//#endif
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
  let row = prow - seg.row_start + lid / LANES;
  var acc: array<f32, MR>;
  if (row < seg.n_rows) {
    let wb = seg.w_off + row * seg.k_vec;
    // Four 16-byte weight loads in flight per iteration (their latencies overlap; with two,
    // the long-K matrices such as ffn.value left the GPU short of bytes in flight).
    var kv = lane;
    for (; kv + 3u * LANES < seg.k_vec; kv += 4u * LANES) {
      let u0 = wts[wb + kv];
      let u1 = wts[wb + kv + LANES];
      let u2 = wts[wb + kv + 2u * LANES];
      let u3 = wts[wb + kv + 3u * LANES];
      for (var m = 0u; m < MR; m++) {
        if (m < m_count) {
          acc[m] += term(u0, seg, m, kv) + term(u1, seg, m, kv + LANES) +
            term(u2, seg, m, kv + 2u * LANES) + term(u3, seg, m, kv + 3u * LANES);
        }
      }
    }
    for (; kv < seg.k_vec; kv += LANES) {
      let u0 = wts[wb + kv];
      for (var m = 0u; m < MR; m++) {
        if (m < m_count) {
          acc[m] += term(u0, seg, m, kv);
        }
      }
    }
  }
  for (var m = 0u; m < MR; m++) {
    part[m * WG + lid] = acc[m];
  }
  workgroupBarrier();
  for (var s = LANES / 2u; s > 0u; s = s / 2u) {
    if (lane < s) {
      for (var m = 0u; m < MR; m++) {
        part[m * WG + lid] += part[m * WG + lid + s];
      }
    }
    workgroupBarrier();
  }
  if (lane == 0u && row < seg.n_rows) {
    for (var m = 0u; m < m_count; m++) {
      put(seg, m, row, part[m * WG + lid]);
    }
  }
}
