// Prefill, chunked wkv, step 2b of the scan: the recurrence over a sequence's tokens, one chunk
// of L = 16 tokens at a time, with what wkv-chunk-mats prepared (its header has the formulas).
// A workgroup owns RB value rows of one head (rows are independent given the chunk's vectors);
// per chunk, for token t and row i:
//   u_t = −S_i·w̃_t − ṽ_t,   y_t = S_i·r̂_t + ŷ_t          (state before the chunk; group norm
//                                                       in wkv-post)
//   S_ij ← Γ_end,j·S_ij + Σ_s (u_s·b̄_s,j + v_s·k̄_s,j)
// Two barriers per chunk: the dot products (reading the state rows, w̃ and r̂), then the update
// (reading u, v, b̄ and k̄). Each tile has one buffer, written while the other phase runs: w̃ and
// r̂ of the next chunk during the update, b̄, k̄ and v before the dot products. The next chunk's
// loads are issued a chunk ahead.
//
// What bounds it (H100, 2.9B, bench/RESULTS.md): reads from workgroup memory. A thread of the
// dot products reads a state row and two token vectors (vec4s) per 64-term dot product pair,
// a thread of the update u and v of its rows (a vec4 every lane of the warp shares) and one
// b̄, k̄ column value per token. With 16 rows per workgroup and one row per thread (twelfth
// session: 6.1 ms per 1024 tokens, against 7.8 with 8 rows) the 160 workgroups put two on 28
// of the 132 multiprocessors, and those set the pace; 32 rows with one row per thread (512
// invocations, one workgroup per multiprocessor) read as much per multiprocessor and took as
// long. Each dot-product thread now takes RD rows of one token, so a token vector read serves
// RD products: 32 rows with RD = 2 in 256 invocations took 4.6 ms per 1024 tokens (fourteenth
// session; the other shapes measured are in wkv-scan-form.ts). The global loads are vec4s (the
// `act` binding viewed as vec4, ACT4); every workgroup of a head reads the chunk's w̃, r̂, b̄, k̄
// whole (16 KB).
const N: u32 = 64u;
const L: u32 = 16u; // tokens per chunk (as wkv-chunk-mats)
// Value rows per workgroup (wkv-scan-form.ts).
const RB: u32 = {{SCAN_ROWS}}u;
// Rows per thread in the dot products: each state row and token vector read from workgroup
// memory serves RD rows' products.
const RD: u32 = {{SCAN_DOT_ROWS}}u;
const RH: u32 = RB / RD; // dot-product threads per token
const WG: u32 = RH * L; // dot-product role: one thread per (token, RD rows)
const G: u32 = WG / N; // update role: G groups of the N columns
const RU: u32 = RB / G; // rows per update thread (consecutive, whole vec4s)
const U4: u32 = RU / 4u;
const R4: u32 = RB / 4u; // vec4s per token in the [token][row] tiles
const C4: u32 = N / 4u; // vec4s per token in the [token][channel] tiles
const LP4: u32 = C4 + 1u; // their row stride (and the state's): 68 floats puts 8 consecutive
// rows in 8 different 16-byte bank groups
const TV: u32 = (L * C4 + WG - 1u) / WG; // vec4s of each [token][channel] tile a thread loads
const_assert WG == G * N;
const_assert RB == G * RU;
const_assert RU % 4u == 0u;
const_assert RB == RD * RH;

//#include wkv-common

var<workgroup> xw: array<vec4<f32>, L * LP4>; // w̃_t
var<workgroup> xr: array<vec4<f32>, L * LP4>; // r̂_t
var<workgroup> xb: array<vec4<f32>, L * LP4>; // b̄_t
var<workgroup> xk: array<vec4<f32>, L * LP4>; // k̄_t
var<workgroup> st: array<vec4<f32>, RB * LP4>; // the block's state rows
var<workgroup> us: array<vec4<f32>, L * R4>; // u [t][i]
var<workgroup> vs: array<vec4<f32>, L * R4>; // v [t][i]

fn act_at(i: u32) -> f32 {
  return act[i / 4u][i % 4u];
}

// One chunk's inputs as a thread holds them between their loads and their use: vec4 e of the
// four [token][channel] tiles is the tile's vec4 lid + WG·e; v, ṽ, ŷ of (token tt, rows
// il + RH·d); Γ_end of column j. Tokens past the chunk's n read the last token's (finite)
// values: b̄ and k̄ are zeroed when staged, so their u and v add nothing to the state, and their
// y is not stored.
struct Chunk {
  w: array<vec4<f32>, TV>,
  r: array<vec4<f32>, TV>,
  b: array<vec4<f32>, TV>,
  k: array<vec4<f32>, TV>,
  v: array<f32, RD>,
  vt: array<f32, RD>,
  yt: array<f32, RD>,
  g_end: f32,
}

fn load_chunk(first: u32, n: u32, hc: u32, i0: u32, j: u32, tt: u32, il: u32, lid: u32) -> Chunk {
  var out: Chunk;
  let last = max(n, 1u) - 1u;
  for (var e = 0u; e < TV; e++) {
    let q = min(lid + WG * e, L * C4 - 1u);
    let at = ((first + min(q / C4, last)) * P.c + hc) / 4u + q % C4;
    out.w[e] = act[(P.planes + P.plane) / 4u + at];
    out.r[e] = act[P.r_off / 4u + at];
    out.b[e] = act[(P.planes + 2u * P.plane) / 4u + at];
    out.k[e] = act[(P.planes + 3u * P.plane) / 4u + at];
  }
  let row_at = (first + min(tt, last)) * P.c + hc + i0 + il;
  for (var d = 0u; d < RD; d++) {
    out.v[d] = act_at(P.planes + 4u * P.plane + row_at + RH * d);
    out.vt[d] = act_at(P.chunk_vecs + row_at + RH * d);
    out.yt[d] = act_at(P.chunk_vecs + P.plane + row_at + RH * d);
  }
  out.g_end = act_at(P.planes + (first + last) * P.c + hc + j);
  return out;
}

// w̃ and r̂, read by the dot products only: written during the update before them.
fn stage_wr(lid: u32, c: Chunk) {
  for (var e = 0u; e < TV; e++) {
    let q = lid + WG * e;
    if (q < L * C4) {
      let o = (q / C4) * LP4 + q % C4;
      xw[o] = c.w[e];
      xr[o] = c.r[e];
    }
  }
}

// b̄, k̄ (zero past the chunk's n tokens) and v, read by the update only: one buffer, written
// before the dot products.
fn stage_bkv(lid: u32, tt: u32, il: u32, n: u32, c: Chunk) {
  let z = vec4<f32>(0.0);
  for (var e = 0u; e < TV; e++) {
    let q = lid + WG * e;
    if (q < L * C4) {
      let o = (q / C4) * LP4 + q % C4;
      xb[o] = select(z, c.b[e], q / C4 < n);
      xk[o] = select(z, c.k[e], q / C4 < n);
    }
  }
  for (var d = 0u; d < RD; d++) {
    let i = il + RH * d;
    vs[tt * R4 + i / 4u][i % 4u] = c.v[d];
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let seq = rows[P.seq_base + wid.x];
  let hc = wid.y * N;
  let i0 = wid.z * RB;
  // Update role: column j of rows RU·iq … RU·iq + RU − 1 (in registers, mirrored in `st`).
  let j = lid % N;
  let iq = lid / N;
  let s_at = seq.z * P.slot_stride + P.wkv_off + wid.y * N * N + i0 * N + j;
  var own: array<vec4<f32>, U4>;
  for (var u = 0u; u < U4; u++) {
    for (var e = 0u; e < 4u; e++) {
      let i = RU * iq + 4u * u + e;
      own[u][e] = pool[s_at + i * N];
      st[i * LP4 + j / 4u][j % 4u] = own[u][e];
    }
  }
  // Dot-product role: rows il, il + RH, … of token tt (rows vary fastest).
  let il = lid % RH;
  let tt = lid / RH;
  var cur = load_chunk(seq.x, min(L, seq.y), hc, i0, j, tt, il, lid);
  stage_wr(lid, cur);
  var nxt = cur;
  workgroupBarrier();
  for (var t0 = 0u; t0 < seq.y; t0 += L) {
    let n = min(L, seq.y - t0);
    let first = seq.x + t0;
    let more = t0 + L < seq.y;
    // Their last readers were the previous chunk's update, before the barrier that ended it.
    stage_bkv(lid, tt, il, n, cur);
    if (more) {
      // The next chunk's loads, in flight during this chunk's products.
      nxt = load_chunk(first + L, min(L, seq.y - t0 - L), hc, i0, j, tt, il, lid);
    }

    // Zeroed by value each chunk: a bare `var au: array<…>;` in the loop kept the previous chunk's
    // sums on lavapipe (its implicit zero was not repeated per iteration).
    var au = array<vec4<f32>, RD>();
    var ay = array<vec4<f32>, RD>();
    for (var x = 0u; x < C4; x++) {
      let w = xw[tt * LP4 + x];
      let r = xr[tt * LP4 + x];
      for (var d = 0u; d < RD; d++) {
        let s = st[(il + RH * d) * LP4 + x];
        au[d] += s * w;
        ay[d] += s * r;
      }
    }
    for (var d = 0u; d < RD; d++) {
      let i = il + RH * d;
      let u = -(au[d].x + au[d].y + au[d].z + au[d].w) - cur.vt[d];
      let y = ay[d].x + ay[d].y + ay[d].z + ay[d].w + cur.yt[d];
      us[tt * R4 + i / 4u][i % 4u] = u;
      if (tt < n) {
        let o = P.y_off + (first + tt) * P.c + hc + i0 + i;
        act[o / 4u][o % 4u] = y;
      }
    }
    workgroupBarrier();

    var x4: array<vec4<f32>, U4>;
    for (var u = 0u; u < U4; u++) {
      x4[u] = own[u] * cur.g_end;
    }
    for (var s = 0u; s < L; s++) {
      let q = s * LP4 + j / 4u;
      let b = xb[q][j % 4u];
      let k = xk[q][j % 4u];
      for (var u = 0u; u < U4; u++) {
        let at = s * R4 + iq * U4 + u;
        x4[u] += us[at] * b + vs[at] * k;
      }
    }
    for (var u = 0u; u < U4; u++) {
      own[u] = x4[u];
      for (var e = 0u; e < 4u; e++) {
        st[(RU * iq + 4u * u + e) * LP4 + j / 4u][j % 4u] = x4[u][e];
      }
    }
    if (more) {
      // Their last readers were this chunk's dot products, before the barrier above.
      stage_wr(lid, nxt);
      cur = nxt;
    }
    workgroupBarrier(); // the state rows and the staged w̃, r̂ are complete
  }
  for (var u = 0u; u < U4; u++) {
    for (var e = 0u; e < 4u; e++) {
      pool[s_at + (RU * iq + 4u * u + e) * N] = own[u][e];
    }
  }
}
