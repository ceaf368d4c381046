// Prefill, chunked wkv, step 2a of the scan: per (sequence, head, chunk of L = 16 tokens),
// everything the recurrence over the chunk needs that does not depend on the state, so that
// wkv-chunk-scan (the only part that runs in order over a sequence) is two small products per
// chunk instead of 16 dependent token steps.
//
// One head's recurrence (S: N×N, value row i, key column j; S_{-1} = the state before the chunk):
//   S_t = S_{t-1}·diag(w_t) + u_t·β_tᵀ + v_t·k_tᵀ,   u_t = −S_{t-1}·α_t,   y_t = S_t·r_t
// with w = decay, α = kk, β = kk·a (kernels/wkv-prep-elem.wgsl). With Γ_t = w_0∘…∘w_t (Γ_{-1} = 1)
// it unrolls to
//   S_t = S_{-1}·diag(Γ_t) + Σ_{s≤t} (u_s·β_sᵀ + v_s·k_sᵀ)·diag(Γ_t / Γ_s),
// so with ã_t = α_t∘Γ_{t-1}, r̃_t = r_t∘Γ_t, b̂_s = β_s / Γ_s, k̂_s = k_s / Γ_s and
//   A[t][s] = ã_t·b̂_s, B[t][s] = ã_t·k̂_s (s < t),   P[t][s] = r̃_t·b̂_s, Q[t][s] = r̃_t·k̂_s (s ≤ t),
//   c_t = S_{-1}·ã_t, d_t = S_{-1}·r̃_t:
//   (I + A)·U = −C − B·V,   Y = D + P·U + Q·V,
//   S_end = S_{-1}·diag(Γ_end) + Σ_s (u_s·(b̂_s∘Γ_end)ᵀ + v_s·(k̂_s∘Γ_end)ᵀ)
// (rows of U, V, C, D, Y are tokens). With M = (I + A)⁻¹ (forward substitution) both products
// with the state fold into per-token vectors, as C and D are S_{-1} applied to Ã and R̃:
//   U = −S_{-1}·W̃ − Ṽ,  Y = S_{-1}·R̂ + Ŷ   (per value row i: u_t,i = −S_i·w̃_t − ṽ_t,i, …)
//   W̃ = M·Ã,  R̂ = R̃ − (P·M)·Ã,  Ṽ = (M·B)·V,  Ŷ = (Q − P·M·B)·V
// so the scan does, per chunk, one pass of dot products with the state (U and Y) and the state
// update, with a barrier each (before: the 16 × 16 matrices applied to C there, four barriers).
//
// Why this is safe in f32: RWKV-7's decay is exp(−e^{−1/2}·sigmoid(·)) > 0.545, so over 16
// tokens Γ ≥ 0.545^16 ≈ 6e-5 and 1/Γ ≤ 1.6e4; every A…Q entry is a product Γ_{t'}/Γ_s ≤ 1 of
// factors of modest size (|kk| = 1, a < 1), as in the recurrence itself.
//
// Outputs, in place of the prefill planes (wkv-prep) for rows of the chunk: plane 0 ← Γ_t,
// plane 1 ← w̃_t, plane 2 ← b̂_t∘Γ_end, plane 3 ← k̂_t∘Γ_end, r ← r̂_t; and in the two [rows][C]
// planes at P.chunk_vecs, ṽ_t and ŷ_t (plane 4, v, stays for the scan and wkv-post).
const N: u32 = 64u; // head size
const L: u32 = 16u; // tokens per chunk
const WG: u32 = 256u;
const LP: u32 = N + 1u; // row stride of the token × channel tiles: rows start in different banks
const_assert L * L == WG;
const_assert 4u * L == N;
const_assert WG == 4u * N;

//#include wkv-common

var<workgroup> gam: array<f32, L * N>; // decays, then their running products Γ_t
var<workgroup> xa: array<f32, L * LP>; // ã_t
var<workgroup> xb: array<f32, L * LP>; // b̂_t
var<workgroup> xk: array<f32, L * LP>; // k̂_t
var<workgroup> xr: array<f32, L * LP>; // r̃_t
var<workgroup> ma: array<f32, L * L>; // A, later P·M
var<workgroup> mbk: array<f32, L * L>; // B, later Q − P·M·B
var<workgroup> mp: array<f32, L * L>; // P
var<workgroup> mm: array<f32, L * L>; // M = (I + A)⁻¹
var<workgroup> mmb: array<f32, L * L>; // M·B

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let seq = rows[P.seq_base + wid.x];
  let t0 = wid.z * L;
  if (t0 >= seq.y) {
    return; // the grid covers the longest sequence a step can hold (whole workgroup: uniform)
  }
  let n = min(L, seq.y - t0); // tokens in this chunk
  let first = seq.x + t0;
  let hc = wid.y * N;

  // This thread's elements: channel j of tokens tq, tq + 4, tq + 8, tq + 12. Tokens past the
  // chunk's end are no decay and zero vectors: they add nothing to any sum.
  let j = lid % N;
  let tq = lid / N;
  var kk: array<f32, 4>;
  var kka: array<f32, 4>;
  var kv: array<f32, 4>;
  var rv: array<f32, 4>;
  var vv: array<f32, 4>;
  for (var e = 0u; e < 4u; e++) {
    let t = tq + 4u * e;
    let ok = t < n;
    let at = (first + min(t, n - 1u)) * P.c + hc + j;
    let pa = P.planes + at;
    gam[t * N + j] = select(1.0, act[pa], ok);
    kk[e] = select(0.0, act[pa + P.plane], ok);
    kka[e] = select(0.0, act[pa + 2u * P.plane], ok);
    kv[e] = select(0.0, act[pa + 3u * P.plane], ok);
    rv[e] = select(0.0, act[P.r_off + at], ok);
    vv[e] = select(0.0, act[pa + 4u * P.plane], ok);
  }
  workgroupBarrier();
  if (lid < N) {
    var g = 1.0;
    for (var t = 0u; t < L; t++) {
      g *= gam[t * N + lid];
      gam[t * N + lid] = g;
    }
  }
  workgroupBarrier();

  let g_end = gam[(n - 1u) * N + j];
  for (var e = 0u; e < 4u; e++) {
    let t = tq + 4u * e;
    let g = gam[t * N + j];
    let g_prev = select(1.0, gam[(max(t, 1u) - 1u) * N + j], t > 0u);
    let a_t = kk[e] * g_prev;
    let r_t = rv[e] * g;
    xa[t * LP + j] = a_t;
    xb[t * LP + j] = kka[e] / g;
    xk[t * LP + j] = kv[e] / g;
    xr[t * LP + j] = r_t;
    if (t < n) {
      let at = (first + t) * P.c + hc + j;
      let pa = P.planes + at;
      let to_end = g_end / g; // ≤ 1
      act[pa] = g;
      act[pa + 2u * P.plane] = kka[e] * to_end;
      act[pa + 3u * P.plane] = kv[e] * to_end;
    }
  }
  workgroupBarrier();

  // Entry (t, s) of A, B, P, Q: four dot products over the head's channels.
  let t = lid / L;
  let s = lid % L;
  var sa = 0.0;
  var sb = 0.0;
  var sp = 0.0;
  var sq = 0.0;
  for (var c = 0u; c < N; c++) {
    let at_c = xa[t * LP + c];
    let rt_c = xr[t * LP + c];
    let bs_c = xb[s * LP + c];
    let ks_c = xk[s * LP + c];
    sa += at_c * bs_c;
    sb += at_c * ks_c;
    sp += rt_c * bs_c;
    sq += rt_c * ks_c;
  }
  ma[lid] = select(0.0, sa, s < t);
  mbk[lid] = select(0.0, sb, s < t);
  mp[lid] = select(0.0, sp, s <= t);
  let q_ts = select(0.0, sq, s <= t);
  workgroupBarrier();

  // b̂ is read: its tile takes V for the products at the end.
  for (var e = 0u; e < 4u; e++) {
    xb[(tq + 4u * e) * LP + j] = vv[e];
  }

  // M = (I + A)⁻¹, A strictly lower triangular, by forward substitution with every entry in
  // flight: invocation (t, s) holds M[t][s]; at step x row x is final and is published, and
  // each later row takes off its A[t][x]·M[x][s] (the same terms in the same order as a
  // column-by-column substitution: M[x][s] = 0 for x < s). 16 barriers with one product each
  // instead of 16 invocations each running up to 120 dependent products, which took 4.1 of
  // this kernel's 6.8 ms per 1024-token 2.9B chunk on the H100 (bench/RESULTS.md).
  var m_ts = select(0.0, 1.0, s == t);
  for (var x = 0u; x < L; x++) {
    if (t == x) {
      mm[lid] = m_ts;
    }
    workgroupBarrier();
    if (t > x) {
      m_ts -= ma[t * L + x] * mm[x * L + s];
    }
  }

  var m_b = 0.0;
  var p_m = 0.0;
  for (var x = 0u; x < L; x++) {
    m_b += mm[t * L + x] * mbk[x * L + s];
    p_m += mp[t * L + x] * mm[x * L + s];
  }
  mmb[lid] = m_b;
  workgroupBarrier();
  var p_mb = 0.0;
  for (var x = 0u; x < L; x++) {
    p_mb += mp[t * L + x] * mmb[x * L + s];
  }
  // A and B are no longer read (the substitution and M·B are done): their tiles take P·M and
  // Q − P·M·B.
  ma[lid] = p_m;
  mbk[lid] = q_ts - p_mb;
  workgroupBarrier();

  // The per-token vectors of channel j (as a value row for ṽ, ŷ): every matrix is lower
  // triangular and tokens past n have zero ã and v, so the sums run over the whole chunk.
  var a_col: array<f32, L>;
  var v_col: array<f32, L>;
  for (var x = 0u; x < L; x++) {
    a_col[x] = xa[x * LP + j];
    v_col[x] = xb[x * LP + j];
  }
  for (var e = 0u; e < 4u; e++) {
    let tt = tq + 4u * e;
    var w = 0.0;
    var rh = xr[tt * LP + j];
    var vt = 0.0;
    var yt = 0.0;
    for (var x = 0u; x < L; x++) {
      let m = tt * L + x;
      w += mm[m] * a_col[x];
      rh -= ma[m] * a_col[x];
      vt += mmb[m] * v_col[x];
      yt += mbk[m] * v_col[x];
    }
    if (tt < n) {
      let at = (first + tt) * P.c + hc + j;
      act[P.planes + P.plane + at] = w;
      act[P.r_off + at] = rh;
      act[P.chunk_vecs + at] = vt;
      act[P.chunk_vecs + P.plane + at] = yt;
    }
  }
}
