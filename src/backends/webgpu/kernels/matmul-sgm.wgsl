enable f16;
//#if SGM_EMULATED
//#else
enable subgroups;
enable chromium_experimental_subgroup_matrix;
//#endif
// Matrix × many vectors on the tensor cores (WGSL subgroup matrices): the same product, segment
// table and outputs as matmul-tiled.wgsl, for devices whose gate in sgm-gemm.ts passed (f16
// 16×16×16 matrices with f32 results, subgroups of exactly 32 lanes).
//
// A workgroup of SG_M × SG_N subgroups computes a BM × BN output tile; each subgroup owns FM × FN
// 16×16 accumulators (f32). K advances in steps of BK (16, 32, 64 or 128): X (f32) and W (bf16 /
// f16) of the next step are loaded into registers while the tensor cores multiply the current one
// out of workgroup memory, then converted to f16 and stored (into the other stage when DOUBLE).
//
// Precision: W converts to f16 exactly (bf16 has fewer mantissa bits; only values below 2^-14
// lose bits as f16 subnormals, by at most 2^-25 absolutely; a model with bf16 weights of 65520
// or more never gets here: f16-range.ts). X would lose 11 bits, so with
// X_SPLIT it is stored as hi = f16(x) and lo = f16(x − hi) and each product is taken twice
// (relative error ~1e-7 per term instead of ~5e-4). |x| must stay below 65504 (f16's range).
//
// The sums leave through a per-subgroup 16×16 f32 tile in workgroup memory, so every output
// goes through `emit` exactly as in the f32 kernel (store / residual add / relu², logits,
// split-K partials). The unrolled parts (accumulators, products, epilogue) are written out by
// sgm-source.ts: named accumulators stay in registers where arrays indexed in loops might not.
//
// Robustness: where Dawn cannot prove a subgroupMatrixLoad's offset in range, it guards the load
// (offset and stride chosen by a select; seen in Dawn's dump_shaders output on the H100), and the
// driver's fast fragment loads are lost: the kernel ran 1.3–1.5× slower than with robustness off.
// Dawn's range analysis follows local_invocation_index, constants, +, ×, /, %, min() and loops
// that count by one from a constant, so the offsets below are built only from those (the min()s
// on subgroup ids, the k loop by 16-steps); every fragment load then takes a constant stride.
const SG_M: u32 = {{SG_M}}u;
const SG_N: u32 = {{SG_N}}u;
const WG: u32 = SG_M * SG_N * 32u;
const BM: u32 = SG_M * {{FM}}u * 16u;
const BN: u32 = SG_N * {{FN}}u * 16u;
// K step: 16, 32, 64 or 128 (128 × 128 tiles with BK 64 fit 48 KB only without the lo tile).
const BK: u32 = {{BK}}u;
// f16 row stride of the staged tiles: BK + 8 halves keeps rows 16-byte aligned for the matrix
// loads and spreads 8 consecutive rows over different banks.
const LDS: u32 = BK + 8u;
// 2: double-buffered stages (one barrier per K step); 1: one stage, two barriers.
const STAGES: u32 = {{STAGES}}u;
const XPARTS: u32 = {{XPARTS}}u; // 2 with X_SPLIT (hi and lo tiles), else 1
const XTILE: u32 = BM * LDS;
const WTILE: u32 = BN * LDS;
const SCRATCH: u32 = {{SCRATCH}}u;

//#include matmul-common
//#include weights
//#include math
//#include matmul-out
//#if SGM_EMULATED
//#include sgm-emulate
//#endif

// Double-buffered stages: [buffer][part][row][k] for X, [buffer][row][k] for W.
var<workgroup> xs: array<f16, STAGES * XPARTS * XTILE>;
var<workgroup> ws: array<f16, STAGES * WTILE>;
// One 16×16 f32 tile per subgroup for the epilogue.
var<workgroup> cs: array<f32, SG_M * SG_N * 256u>;

// Global → register loads per thread for one K step: X is BM rows × XV vec4<f32>; W is BN rows ×
// WV vec4<u32> of 8 packed 16-bit values.
const XV: u32 = BK / 4u;
const WV: u32 = BK / EPV;
const XL: u32 = (BM * XV + WG - 1u) / WG;
const WL: u32 = (BN * WV + WG - 1u) / WG;

// Conversions to f16 go through pack2x16float (two values per call) rather than vec2<f16>(…) /
// vec4<f16>(…), which convert one value at a time: measured on the H100 (bench/RESULTS.md,
// seventeenth session), 2.9B prefill T = 4096 with split X 16 686 → 17 240 tok/s, and with f16 X
// on bf16 weights 21 938 → 22 508, within 1 % of weights stored as f16 (where W needs no
// conversion). Same values: bf16 above 2^-14 and the split's hi are exact in f16.

/// The two 16-bit weights of one word as f16 (exact for bf16 above 2^-14), low half first.
fn w_pair(word: u32) -> vec2<f16> {
//#if W_F16
  return bitcast<vec2<f16>>(word);
//#else
  let w = vec2<f32>(bitcast<f32>(word << 16u), bitcast<f32>(word & 0xffff0000u));
  return bitcast<vec2<f16>>(pack2x16float(w));
//#endif
}

fn to_f16x4(v: vec4<f32>) -> vec4<f16> {
  return bitcast<vec4<f16>>(vec2<u32>(pack2x16float(v.xy), pack2x16float(v.zw)));
}

/// Lane's eight outputs of the subgroup's f32 tile at cs[q..q + 7] (row m, columns n..n + 7).
fn emit_lane(o: Out, m: u32, n: u32, q: u32) {
  emit(o, m, n, vec4<f32>(cs[q], cs[q + 1u], cs[q + 2u], cs[q + 3u]));
  emit(o, m, n + 4u, vec4<f32>(cs[q + 4u], cs[q + 5u], cs[q + 6u], cs[q + 7u]));
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
//#if SGM_EMULATED
) {
  let sg = lid / 32u;
  let lane = lid % 32u;
//#else
  @builtin(subgroup_id) sg: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
//#endif
  // Workgroups in launch order walk down the input rows of one W tile before moving on to the
  // next (grid x numbers W tiles, y input-row tiles), so that the workgroups resident at a time
  // share W tiles in L2 instead of each streaming its own from memory. H100 probe, M = 1024,
  // K = 2560, 4 segments of N = 2560: 76.7 → 86–91 TFLOP/s; N = 2560, K = 10240: 87 → 90.
  let lin = wid.x + wid.y * nwg.x;
  let job = tile_job(vec3<u32>(lin / nwg.y, lin % nwg.y, wid.z), nwg, BM, BN, BK);
  if (job.m0 >= job.m_count) {
    return; // the head's rows can be fewer than the dispatch's grid assumes
  }
  let seg = job.seg;
  // The min()s state what is true (subgroup ids stay below SG_M · SG_N) in a form Dawn's
  // robustness pass can follow, so that the matrix loads' offsets below are known in range.
  let sm = min(sg / SG_N, SG_M - 1u);
  let sn = min(sg % SG_N, SG_N - 1u);

  var xr: array<vec4<f32>, XL>;
  var wr: array<vec4<u32>, WL>;
{{ACC_DECL}}

  // Rows past the end are clamped to the last one: they only feed outputs never written.
  let x_last = job.m_count - 1u;
  let w_last = seg.n_rows - 1u;
  for (var kb = job.kb_begin; kb <= job.kb_end; kb++) {
    let cur = min((kb - job.kb_begin) % STAGES, STAGES - 1u);
    if (kb < job.kb_end) {
      // Next step's loads, in flight while this step's products run.
      for (var i = 0u; i < XL; i++) {
        let idx = lid + i * WG;
        let row = min(job.m0 + idx / XV, x_last);
        xr[i] = act[seg.x_off + row * seg.x_stride + kb * XV + idx % XV];
      }
      for (var i = 0u; i < WL; i++) {
        let idx = lid + i * WG;
        let row = min(job.n0 + idx / WV, w_last);
        wr[i] = wts[seg.w_off + row * seg.k_vec + kb * WV + idx % WV];
      }
    }
    if (kb > job.kb_begin) {
      // Multiply out the stage written last iteration (k steps of 16).
      let xb = cur * XPARTS * XTILE + sm * ({{FM}}u * 16u) * LDS;
      let wb = cur * WTILE + sn * ({{FN}}u * 16u) * LDS;
      for (var k16 = 0u; k16 < BK / 16u; k16++) {
        let kk = k16 * 16u;
{{MMA}}
      }
    }
//#if DOUBLE
//#else
    workgroupBarrier(); // the single stage is read out before it is overwritten
//#endif
    if (kb < job.kb_end) {
      // Double-buffered: into the stage not read this iteration (the other was last read
      // before the previous barrier).
      let nxt = min((cur + 1u) % STAGES, STAGES - 1u);
      for (var i = 0u; i < XL; i++) {
        let idx = lid + i * WG;
        if (idx < BM * XV) {
//#if X_ACT
          let v = x_in(xr[i], seg.x_act);
//#else
          let v = xr[i];
//#endif
//#if X_SPLIT
          // hi keeps f16's 11 significant bits by truncation (bit masking: a round trip through
          // f16 was folded away by the driver, measured: lo came out zero); lo = x − hi is exact
          // in f32 and rounds to f16 with 2^-11 of its own size.
          let hi32 = bitcast<vec4<f32>>(bitcast<vec4<u32>>(v) & vec4<u32>(0xffffe000u));
          let hi = to_f16x4(hi32);
//#else
          let hi = to_f16x4(v);
//#endif
          let o = nxt * XPARTS * XTILE + (idx / XV) * LDS + (idx % XV) * 4u;
          xs[o] = hi.x;
          xs[o + 1u] = hi.y;
          xs[o + 2u] = hi.z;
          xs[o + 3u] = hi.w;
//#if X_SPLIT
          let lo = to_f16x4(v - hi32);
          xs[o + XTILE] = lo.x;
          xs[o + XTILE + 1u] = lo.y;
          xs[o + XTILE + 2u] = lo.z;
          xs[o + XTILE + 3u] = lo.w;
//#endif
        }
      }
      for (var i = 0u; i < WL; i++) {
        let idx = lid + i * WG;
        if (idx < BN * WV) {
          // Written out word by word: constant offsets from o, no dynamic vector index.
          let o = nxt * WTILE + (idx / WV) * LDS + (idx % WV) * 8u;
          let p0 = w_pair(wr[i].x);
          let p1 = w_pair(wr[i].y);
          let p2 = w_pair(wr[i].z);
          let p3 = w_pair(wr[i].w);
          ws[o] = p0.x;
          ws[o + 1u] = p0.y;
          ws[o + 2u] = p1.x;
          ws[o + 3u] = p1.y;
          ws[o + 4u] = p2.x;
          ws[o + 5u] = p2.y;
          ws[o + 6u] = p3.x;
          ws[o + 7u] = p3.y;
        }
      }
    }
    workgroupBarrier();
  }

  // Each accumulator goes through the subgroup's f32 tile: lane l emits row l / 2, columns
  // 8·(l % 2) .. +7 of it.
  let o = Out(seg, job.m_count, wid.z, nwg.z, padded_total());
  let cb = (sm * SG_N + sn) * 256u;
  let cr = min(lane, 31u) / 2u;
  let cc = (min(lane, 31u) % 2u) * 8u;
  let q = cb + cr * 16u + cc;
  let m_sg = job.m0 + sm * ({{FM}}u * 16u) + cr;
  let n_sg = job.n0 + sn * ({{FN}}u * 16u) + cc;
{{EMIT}}
}
