// Matrix × many vectors (batched decode, prefill): 64×64 output tiles per workgroup, K in
// steps of 32 staged through workgroup memory (W widened to f32 once per tile), 4×4 outputs
// per thread. Requires K to be a multiple of 32. Output tile: wid.x (across segments) × wid.y.
const WG: u32 = 256u;
const BM: u32 = 64u;
const BN: u32 = 64u;
const BK: u32 = 32u;

//#include matmul-common
//#include weights

var<workgroup> xs: array<vec4<f32>, BK * BM / 4u>; // [k][m]
var<workgroup> ws: array<vec4<f32>, BK * BN / 4u>; // [k][n]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let seg = segs[find_seg(wid.x * BN)];
  let m_count = seg_rows(seg);
  let m0 = wid.y * BM;
  let n0 = wid.x * BN - seg.row_start;
  let tx = lid % 16u; // 4 output columns (n)
  let ty = lid / 16u; // 4 output rows (m)
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  let k_total = seg.k_vec * EPV;
  for (var k0 = 0u; k0 < k_total; k0 += BK) {
    // X tile: 64 rows × 8 vec4.
    for (var i = 0u; i < 2u; i++) {
      let idx = lid + i * WG;
      let mm = idx / 8u;
      let kq = idx % 8u;
      var v = vec4<f32>(0.0);
      if (m0 + mm < m_count) {
        v = act[seg.x_off + (m0 + mm) * seg.x_stride + k0 / 4u + kq];
      }
      let kb = kq * 4u;
      xs[((kb + 0u) * BM + mm) / 4u][mm % 4u] = v.x;
      xs[((kb + 1u) * BM + mm) / 4u][mm % 4u] = v.y;
      xs[((kb + 2u) * BM + mm) / 4u][mm % 4u] = v.z;
      xs[((kb + 3u) * BM + mm) / 4u][mm % 4u] = v.w;
    }
    // W tile: 64 rows × 32 elements.
//#if W32
    for (var i = 0u; i < 2u; i++) {
      let idx = lid + i * WG;
      let nn = idx / 8u;
      let kq = idx % 8u;
      let row = min(n0 + nn, seg.n_rows - 1u);
      let a = w_first4(wts[seg.w_off + row * seg.k_vec + k0 / 4u + kq]);
      let kb = kq * 4u;
      ws[((kb + 0u) * BN + nn) / 4u][nn % 4u] = a.x;
      ws[((kb + 1u) * BN + nn) / 4u][nn % 4u] = a.y;
      ws[((kb + 2u) * BN + nn) / 4u][nn % 4u] = a.z;
      ws[((kb + 3u) * BN + nn) / 4u][nn % 4u] = a.w;
    }
//#else
    {
      let nn = lid / 4u;
      let kq = lid % 4u;
      let row = min(n0 + nn, seg.n_rows - 1u);
      let u = wts[seg.w_off + row * seg.k_vec + k0 / 8u + kq];
      let a = w_first4(u);
      let b = w_last4(u);
      let kb = kq * 8u;
      ws[((kb + 0u) * BN + nn) / 4u][nn % 4u] = a.x;
      ws[((kb + 1u) * BN + nn) / 4u][nn % 4u] = a.y;
      ws[((kb + 2u) * BN + nn) / 4u][nn % 4u] = a.z;
      ws[((kb + 3u) * BN + nn) / 4u][nn % 4u] = a.w;
      ws[((kb + 4u) * BN + nn) / 4u][nn % 4u] = b.x;
      ws[((kb + 5u) * BN + nn) / 4u][nn % 4u] = b.y;
      ws[((kb + 6u) * BN + nn) / 4u][nn % 4u] = b.z;
      ws[((kb + 7u) * BN + nn) / 4u][nn % 4u] = b.w;
    }
//#endif
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let a = xs[k * (BM / 4u) + ty];
      let b = ws[k * (BN / 4u) + tx];
      acc0 += a.x * b;
      acc1 += a.y * b;
      acc2 += a.z * b;
      acc3 += a.w * b;
    }
    workgroupBarrier();
  }
  let n = n0 + tx * 4u;
  let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + ty * 4u + i;
    if (m < m_count) {
      for (var j = 0u; j < 4u; j++) {
        if (n + j < seg.n_rows) {
          put(seg, m, n + j, accs[i][j]);
        }
      }
    }
  }
}
