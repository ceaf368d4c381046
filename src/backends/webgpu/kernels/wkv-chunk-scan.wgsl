// Prefill, chunked wkv, step 2b of the scan: the recurrence over a sequence's tokens, one chunk
// of L = 16 tokens at a time, with what wkv-chunk-mats prepared (its header has the formulas).
// A workgroup owns RB value rows of one head (rows are independent given the chunk's vectors);
// per chunk, for token t and row i:
//   c = S_i·ã_t,  d = S_i·r̃_t                              (state before the chunk)
//   u_t = −Σ_s M[t][s]·c_s − Σ_s MB[t][s]·v_s
//   y_t = d_t − Σ_s PM[t][s]·c_s + Σ_s QP[t][s]·v_s          (read-out; group norm in wkv-post)
//   S_ij ← Γ_end,j·S_ij + Σ_s (u_s·b̄_s,j + v_s·k̄_s,j)
// Three barriers per chunk instead of two dependent 4-lane sums per token (wkv-scan.wgsl). The
// next chunk's inputs are loaded while this one is multiplied out (as in wkv-scan: a head has
// only N / RB workgroups, too few per multiprocessor to hide load latency otherwise).
const N: u32 = 64u;
const L: u32 = 16u; // tokens per chunk (as wkv-chunk-mats)
// Value rows per workgroup (wkv-scan-form.ts): fewer rows, more and smaller workgroups. Each
// workgroup reads the chunk's vectors and matrices whole, so its workgroup-memory reads per
// chunk shrink only in the parts that scale with its rows.
const RB: u32 = {{SCAN_ROWS}}u;
const WG: u32 = RB * L; // read-out role: one thread per (token, row)
const G: u32 = WG / N; // state-update role: G groups of the N columns, RB / G rows each
const TE: u32 = L / G; // tokens per thread when staging the chunk's N-wide vectors
const LP: u32 = N + 1u; // row stride of the token × channel and state tiles
const MP: u32 = L + 1u; // row stride of the L×L matrices
const_assert WG % N == 0u;
const_assert L % G == 0u;
const_assert RB % G == 0u;

//#include wkv-common

var<workgroup> xa: array<f32, L * LP>; // ã_t
var<workgroup> xr: array<f32, L * LP>; // r̃_t
var<workgroup> mats: array<f32, 4u * L * MP>; // M, M·B, P·M, Q − P·M·B
var<workgroup> st: array<f32, RB * LP>; // the block's state rows
var<workgroup> cs: array<f32, L * RB>; // c [t][i]
var<workgroup> us: array<f32, L * RB>; // u [t][i]
var<workgroup> vs: array<f32, L * RB>; // v [t][i]

// What a thread moves into workgroup memory for one chunk: ã, r̃ and the matrices' row-major
// entry at (token iq + G·e, column j) for e < TE, and v of (token tt, row il). Tokens past the
// chunk's n are zeros: they add nothing.
struct Stage {
  a: array<f32, TE>,
  r: array<f32, TE>,
  m: array<f32, TE>,
  v: f32,
}

fn load_stage(first: u32, n: u32, hc: u32, i0: u32, j: u32, iq: u32, tt: u32, il: u32) -> Stage {
  var out: Stage;
  for (var e = 0u; e < TE; e++) {
    let t = iq + G * e;
    let ok = t < n;
    let at = (first + min(t, n - 1u)) * P.c + hc + j;
    out.a[e] = select(0.0, act[P.planes + P.plane + at], ok);
    out.r[e] = select(0.0, act[P.r_off + at], ok);
    out.m[e] = select(0.0, act[P.mats + at], ok);
  }
  let v_at = P.planes + 4u * P.plane + (first + min(tt, n - 1u)) * P.c + hc + i0 + il;
  out.v = select(0.0, act[v_at], tt < n);
  return out;
}

fn store_stage(j: u32, iq: u32, tt: u32, il: u32, s: Stage) {
  for (var e = 0u; e < TE; e++) {
    let t = iq + G * e;
    xa[t * LP + j] = s.a[e];
    xr[t * LP + j] = s.r[e];
    mats[(j / L) * L * MP + t * MP + j % L] = s.m[e];
  }
  vs[tt * RB + il] = s.v;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let seq = rows[P.seq_base + wid.x];
  let hc = wid.y * N;
  let i0 = wid.z * RB;
  // State update role: column j of rows iq, iq + G, … (held in registers, mirrored in `st`).
  let j = lid % N;
  let iq = lid / N;
  let s_at = seq.z * P.slot_stride + P.wkv_off + wid.y * N * N + i0 * N + j;
  var own: array<f32, RB / G>;
  for (var e = 0u; e < RB / G; e++) {
    let i = iq + G * e;
    own[e] = pool[s_at + i * N];
    st[i * LP + j] = own[e];
  }
  // Read-out role: token tt, row il.
  let tt = lid % L;
  let il = lid / L;
  var nxt = load_stage(seq.x, min(L, seq.y), hc, i0, j, iq, tt, il);
  for (var t0 = 0u; t0 < seq.y; t0 += L) {
    let n = min(L, seq.y - t0);
    let first = seq.x + t0;
    store_stage(j, iq, tt, il, nxt);
    if (t0 + L < seq.y) {
      // The next chunk's loads, in flight during this chunk's products.
      nxt = load_stage(seq.x + t0 + L, min(L, seq.y - t0 - L), hc, i0, j, iq, tt, il);
    }
    // This thread's column of b̄ and k̄ for every token, and Γ_end.
    var bb: array<f32, L>;
    var kb: array<f32, L>;
    for (var t = 0u; t < L; t++) {
      let at = P.planes + (first + min(t, n - 1u)) * P.c + hc + j;
      bb[t] = select(0.0, act[at + 2u * P.plane], t < n);
      kb[t] = select(0.0, act[at + 3u * P.plane], t < n);
    }
    let g_end = act[P.planes + (first + n - 1u) * P.c + hc + j];
    workgroupBarrier();

    var c = 0.0;
    var d = 0.0;
    for (var x = 0u; x < N; x++) {
      let s = st[il * LP + x];
      c += s * xa[tt * LP + x];
      d += s * xr[tt * LP + x];
    }
    cs[tt * RB + il] = c;
    workgroupBarrier();

    var u = 0.0;
    var y = d;
    for (var s = 0u; s < L; s++) {
      let c_s = cs[s * RB + il];
      let v_s = vs[s * RB + il];
      let m = tt * MP + s;
      u -= mats[m] * c_s + mats[L * MP + m] * v_s;
      y += mats[3u * L * MP + m] * v_s - mats[2u * L * MP + m] * c_s;
    }
    us[tt * RB + il] = u;
    if (tt < n) {
      act[P.y_off + (first + tt) * P.c + hc + i0 + il] = y;
    }
    workgroupBarrier();

    for (var e = 0u; e < RB / G; e++) {
      let i = iq + G * e;
      var x = own[e] * g_end;
      for (var s = 0u; s < L; s++) {
        x += us[s * RB + i] * bb[s] + vs[s * RB + i] * kb[s];
      }
      own[e] = x;
      st[i * LP + j] = x;
    }
    workgroupBarrier(); // the next chunk's staging overwrites what this one read
  }
  for (var e = 0u; e < RB / G; e++) {
    pool[s_at + (iq + G * e) * N] = own[e];
  }
}
