// Shared by the single-token wkv kernels for head size 64 (wkv-update-fn for wkv-decode, and
// wkv-batch): the head's state-free vectors in workgroup memory, the 4-invocation row sum, and
// one token's update of one invocation's quarter of a value row i — the vec4 columns q, q + 4,
// q + 8, q + 12 (so the four invocations of a row read 64 contiguous bytes per load):
//   sk = S_i·kk;  S_i ← S_i∘decay − sk·(kk·a) + v_i·k;  y_i = S_i·r
// Needs const N = 64, wkv-common with POOL4, wkv-prep-elem (Prep) before it, and without
// subgroups a var<workgroup> red: array<f32, WG> declared by the kernel.

var<workgroup> sh_dec: array<vec4<f32>, 16>;
var<workgroup> sh_kk: array<vec4<f32>, 16>;
var<workgroup> sh_kka: array<vec4<f32>, 16>;
var<workgroup> sh_k: array<vec4<f32>, 16>;
var<workgroup> sh_r: array<vec4<f32>, 16>;
var<workgroup> sh_v: array<f32, N>;
var<workgroup> sh_g: array<f32, N>;

// Channel j's state-free values (call for j < N, then a barrier before the updates).
fn share_prep(j: u32, p: Prep) {
  sh_dec[j / 4u][j % 4u] = p.decay;
  sh_kk[j / 4u][j % 4u] = p.kk;
  sh_kka[j / 4u][j % 4u] = p.kka;
  sh_k[j / 4u][j % 4u] = p.k;
  sh_r[j / 4u][j % 4u] = p.r;
  sh_v[j] = p.v;
  sh_g[j] = p.g;
}

// Sum over the four invocations of a row; `slot`: the row's place among the workgroup's rows
// (the workgroup-memory path sums red[4·slot … 4·slot + 3]). Uniform control flow.
fn row_sum(x: f32, lid: u32, slot: u32) -> f32 {
//#if SUBGROUPS
  let s = x + subgroupShuffleXor(x, 1u);
  return s + subgroupShuffleXor(s, 2u);
//#else
  red[lid] = x;
  workgroupBarrier();
  let s = red[slot * 4u] + red[slot * 4u + 1u] + red[slot * 4u + 2u] + red[slot * 4u + 3u];
  workgroupBarrier();
  return s;
//#endif
}

struct Quarter {
  s0: vec4<f32>,
  s1: vec4<f32>,
  s2: vec4<f32>,
  s3: vec4<f32>,
}

// S_i after this token, for row i (its v_i) in row-sum slot `slot`. Uniform control flow.
fn step_quarter(st: Quarter, q: u32, i: u32, lid: u32, slot: u32) -> Quarter {
  let sk = row_sum(
    dot(st.s0, sh_kk[q]) + dot(st.s1, sh_kk[q + 4u]) + dot(st.s2, sh_kk[q + 8u]) + dot(st.s3, sh_kk[q + 12u]),
    lid,
    slot,
  );
  let v = sh_v[i];
  return Quarter(
    st.s0 * sh_dec[q] - sk * sh_kka[q] + v * sh_k[q],
    st.s1 * sh_dec[q + 4u] - sk * sh_kka[q + 4u] + v * sh_k[q + 4u],
    st.s2 * sh_dec[q + 8u] - sk * sh_kka[q + 8u] + v * sh_k[q + 8u],
    st.s3 * sh_dec[q + 12u] - sk * sh_kka[q + 12u] + v * sh_k[q + 12u],
  );
}

// Writes a quarter back; `at`: vec4 index of its first column (q included).
fn store_quarter(at: u32, st: Quarter) {
  pool[at] = st.s0;
  pool[at + 4u] = st.s1;
  pool[at + 8u] = st.s2;
  pool[at + 12u] = st.s3;
}

// y_i = S_i·r. Uniform control flow.
fn read_quarter(st: Quarter, q: u32, lid: u32, slot: u32) -> f32 {
  return row_sum(
    dot(st.s0, sh_r[q]) + dot(st.s1, sh_r[q + 4u]) + dot(st.s2, sh_r[q + 8u]) + dot(st.s3, sh_r[q + 12u]),
    lid,
    slot,
  );
}
