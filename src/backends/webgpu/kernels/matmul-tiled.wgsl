// Matrix × many vectors (batched decode, prefill), exact f32 FMA. A workgroup of 256 threads
// computes a BM × BN output tile: TY threads along M, TX = 256 / TY along N, each thread TM × TN
// outputs (TM, TN ∈ {4, 8}), so every value read from workgroup memory feeds TM or TN
// FMAs (8×8 per thread: 16 FMAs per 16-byte read, against 8 for 4×4). K advances in steps of BK
// = 16: the next step's X and W are loaded from memory into registers while the current one is
// multiplied out of workgroup memory, so global latency hides behind the FMAs.
//
// Grid: x = output tiles of BN rows of W, segment by segment (a segment has ceil(n_rows / BN)
// of them); y = tiles of BM input rows; z = splits of K. With one split the tile is written
// through `put`; with several, split s writes its partial tile to the scratch region of `act`
// (SCRATCH, vec4 units; [split][row][padded output row]) and kernels/matmul-reduce.wgsl adds
// the splits in a fixed order, so results are the same run to run.
// Requires K to be a multiple of 16 (the dispatcher only tiles K that are multiples of 32).
const WG: u32 = 256u;
const TY: u32 = {{TY}}u;
const TX: u32 = WG / TY;
// TM, TN are 4 or 8 (WIDE_M, WIDE_N: the second block of 4 rows / columns per thread).
const TM: u32 = {{TM}}u;
const TN: u32 = {{TN}}u;
const BM: u32 = TY * TM;
const BN: u32 = TX * TN;
const BK: u32 = 16u;
// Row strides of the staged tiles in floats. The +4 keeps vec4 alignment and turns the
// transposing stores (a thread writes one column of the tile) from 4-way into 2-way bank
// conflicts; the reads of the hot loop are conflict-free either way.
const SM: u32 = BM + 4u;
const SN: u32 = BN + 4u;
const SCRATCH: u32 = {{SCRATCH}}u;

//#include matmul-common
//#include weights
//#include math
//#include matmul-out

var<workgroup> xs: array<vec4<f32>, BK * SM / 4u>; // [k][m]
var<workgroup> ws: array<vec4<f32>, BK * SN / 4u>; // [k][n]

// Global → register loads per thread for one K step: X is BM rows × 4 vec4; W is BN rows ×
// WV vec4<u32> (16 elements: 2 vec4 of packed 16-bit values, or 4 of f32).
const WV: u32 = BK / EPV;
const XL: u32 = (BM * 4u + WG - 1u) / WG;
const WL: u32 = (BN * WV + WG - 1u) / WG;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let job = tile_job(wid, nwg, BM, BN, BK);
  if (job.m0 >= job.m_count) {
    return; // the head's rows can be fewer than the dispatch's grid assumes
  }
  let seg = job.seg;
  let tx = lid % TX;
  let ty = lid / TX;

  var xr: array<vec4<f32>, XL>;
  var wr: array<vec4<u32>, WL>;
  var c00 = vec4<f32>(0.0);
  var c10 = vec4<f32>(0.0);
  var c20 = vec4<f32>(0.0);
  var c30 = vec4<f32>(0.0);
//#if WIDE_N
  var c01 = vec4<f32>(0.0);
  var c11 = vec4<f32>(0.0);
  var c21 = vec4<f32>(0.0);
  var c31 = vec4<f32>(0.0);
//#endif
//#if WIDE_M
  var c40 = vec4<f32>(0.0);
  var c50 = vec4<f32>(0.0);
  var c60 = vec4<f32>(0.0);
  var c70 = vec4<f32>(0.0);
//#if WIDE_N
  var c41 = vec4<f32>(0.0);
  var c51 = vec4<f32>(0.0);
  var c61 = vec4<f32>(0.0);
  var c71 = vec4<f32>(0.0);
//#endif
//#endif

  // Loads of K step kb into registers. Rows past the end are clamped to the last one: they
  // only feed outputs that are never written.
  let x_last = job.m_count - 1u;
  let w_last = seg.n_rows - 1u;
  for (var kb = job.kb_begin; kb <= job.kb_end; kb++) {
    if (kb > job.kb_begin) {
      // Stage the registers loaded last iteration, then multiply them out below.
      for (var i = 0u; i < XL; i++) {
        let idx = lid + i * WG;
        if (idx < BM * 4u) {
          let mm = idx / 4u;
          let kq = (idx % 4u) * 4u;
//#if X_ACT
          let v = x_in(xr[i], seg.x_act);
//#else
          let v = xr[i];
//#endif
          xs[((kq + 0u) * SM + mm) / 4u][mm % 4u] = v.x;
          xs[((kq + 1u) * SM + mm) / 4u][mm % 4u] = v.y;
          xs[((kq + 2u) * SM + mm) / 4u][mm % 4u] = v.z;
          xs[((kq + 3u) * SM + mm) / 4u][mm % 4u] = v.w;
        }
      }
      for (var i = 0u; i < WL; i++) {
        let idx = lid + i * WG;
        if (idx < BN * WV) {
          let nn = idx / WV;
          let kq = (idx % WV) * EPV;
          let a = w_first4(wr[i]);
          ws[((kq + 0u) * SN + nn) / 4u][nn % 4u] = a.x;
          ws[((kq + 1u) * SN + nn) / 4u][nn % 4u] = a.y;
          ws[((kq + 2u) * SN + nn) / 4u][nn % 4u] = a.z;
          ws[((kq + 3u) * SN + nn) / 4u][nn % 4u] = a.w;
//#if W32
//#else
          let b = w_last4(wr[i]);
          ws[((kq + 4u) * SN + nn) / 4u][nn % 4u] = b.x;
          ws[((kq + 5u) * SN + nn) / 4u][nn % 4u] = b.y;
          ws[((kq + 6u) * SN + nn) / 4u][nn % 4u] = b.z;
          ws[((kq + 7u) * SN + nn) / 4u][nn % 4u] = b.w;
//#endif
        }
      }
      workgroupBarrier();
    }
    if (kb < job.kb_end) {
      // Next step's loads, in flight while this step's FMAs run.
      for (var i = 0u; i < XL; i++) {
        let idx = lid + i * WG;
        let row = min(job.m0 + idx / 4u, x_last);
        xr[i] = act[seg.x_off + row * seg.x_stride + kb * (BK / 4u) + idx % 4u];
      }
      for (var i = 0u; i < WL; i++) {
        let idx = lid + i * WG;
        let row = min(job.n0 + idx / WV, w_last);
        wr[i] = wts[seg.w_off + row * seg.k_vec + kb * WV + idx % WV];
      }
    }
    if (kb > job.kb_begin) {
      for (var k = 0u; k < BK; k++) {
        // Accumulators are named variables, not an array: with an array indexed by three nested
        // loops the driver left it in local memory (measured on the H100: 2 TFLOP/s, not 30).
        let a0 = xs[k * (SM / 4u) + ty];
        let b0 = ws[k * (SN / 4u) + tx];
        c00 = fma(vec4<f32>(a0.x), b0, c00);
        c10 = fma(vec4<f32>(a0.y), b0, c10);
        c20 = fma(vec4<f32>(a0.z), b0, c20);
        c30 = fma(vec4<f32>(a0.w), b0, c30);
//#if WIDE_N
        let b1 = ws[k * (SN / 4u) + TX + tx];
        c01 = fma(vec4<f32>(a0.x), b1, c01);
        c11 = fma(vec4<f32>(a0.y), b1, c11);
        c21 = fma(vec4<f32>(a0.z), b1, c21);
        c31 = fma(vec4<f32>(a0.w), b1, c31);
//#endif
//#if WIDE_M
        let a1 = xs[k * (SM / 4u) + TY + ty];
        c40 = fma(vec4<f32>(a1.x), b0, c40);
        c50 = fma(vec4<f32>(a1.y), b0, c50);
        c60 = fma(vec4<f32>(a1.z), b0, c60);
        c70 = fma(vec4<f32>(a1.w), b0, c70);
//#if WIDE_N
        c41 = fma(vec4<f32>(a1.x), b1, c41);
        c51 = fma(vec4<f32>(a1.y), b1, c51);
        c61 = fma(vec4<f32>(a1.z), b1, c61);
        c71 = fma(vec4<f32>(a1.w), b1, c71);
//#endif
//#endif
      }
      workgroupBarrier();
    }
  }

  // Thread outputs: rows r·4·TY + 4·ty + i, columns c·4·TX + 4·tx + j (r, c < 2).
  let o = Out(seg, job.m_count, wid.z, nwg.z, padded_total());
  let m = job.m0 + ty * 4u;
  let n = job.n0 + tx * 4u;
  emit(o, m, n, c00);
  emit(o, m + 1u, n, c10);
  emit(o, m + 2u, n, c20);
  emit(o, m + 3u, n, c30);
//#if WIDE_N
  emit(o, m, n + 4u * TX, c01);
  emit(o, m + 1u, n + 4u * TX, c11);
  emit(o, m + 2u, n + 4u * TX, c21);
  emit(o, m + 3u, n + 4u * TX, c31);
//#endif
//#if WIDE_M
  let m4 = m + 4u * TY;
  emit(o, m4, n, c40);
  emit(o, m4 + 1u, n, c50);
  emit(o, m4 + 2u, n, c60);
  emit(o, m4 + 3u, n, c70);
//#if WIDE_N
  emit(o, m4, n + 4u * TX, c41);
  emit(o, m4 + 1u, n + 4u * TX, c51);
  emit(o, m4 + 2u, n + 4u * TX, c61);
  emit(o, m4 + 3u, n + 4u * TX, c71);
//#endif
//#endif
}
