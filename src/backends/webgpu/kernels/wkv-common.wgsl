// Parameters, bindings and helpers shared by the wkv kernels (wkv = fused single-token path;
// wkv-prep / wkv-scan / wkv-post = the prefill path). One uniform block serves all of them.
const DECAY_SCALE: f32 = 0.606531; // exp(-0.5), as in the reference demo
const GN_EPS: f32 = 64e-5;

struct Params {
  c: u32,
  layer0: u32,
  r_off: u32,
  k_off: u32,
  v_off: u32,
  vfirst_off: u32,
  y_off: u32,
  hid_off: u32,
  hid_stride: u32,
  // ranks (actual) and where each hidden vector starts inside a row of `hid`
  dw: u32,
  da: u32,
  dv: u32,
  dg: u32,
  hw: u32,
  ha: u32,
  hv: u32,
  hg: u32,
  // LoRA up matrices, transposed to [C][rank] (rows padded to whole vec4)
  w2: u32,
  a2: u32,
  v2: u32,
  g2: u32,
  w2_vec: u32,
  a2_vec: u32,
  v2_vec: u32,
  g2_vec: u32,
  // params offsets
  w0: u32,
  a0: u32,
  v0: u32,
  k_k: u32,
  k_a: u32,
  r_k: u32,
  lnx_w: u32,
  lnx_b: u32,
  // state slot layout in the layer's pool buffer and the sequence table in `rows`
  wkv_off: u32,
  slot_stride: u32,
  seq_base: u32,
  // prefill: where wkv-prep leaves its per-token vectors (six planes of [rows][C]) and bonus
  planes: u32,
  plane: u32,
  bonus_off: u32,
  n_head: u32,
  // Single-token steps: weights (vec4 offset and count in `wts`) that wkv-decode's extra
  // workgroups read into L2 for the next GEMVs, and where their never-taken sink store goes.
  pf_off: u32,
  pf_vecs: u32,
  pf_sink: u32,
  pf_magic: u32,
  // Chunked prefill scan: where wkv-chunk-mats leaves ṽ and ŷ (two [rows][C] planes, see that
  // kernel).
  chunk_vecs: u32,
}

//#if ACT4
// The chunked scan reads its per-chunk vectors as vec4 (every region offset is a multiple of 4
// floats, act-layout.ts): a quarter of the load instructions.
@group(0) @binding(0) var<storage, read_write> act: array<vec4<f32>>;
//#else
@group(0) @binding(0) var<storage, read_write> act: array<f32>;
//#endif
@group(0) @binding(1) var<storage, read> params: array<f32>;
@group(0) @binding(2) var<storage, read> wts: array<vec4<u32>>;
//#if POOL4
// Head-size-64 single-token kernels move state rows as vec4 (slot and wkv offsets are
// multiples of 4 floats because C is a multiple of 8).
@group(0) @binding(3) var<storage, read_write> pool: array<vec4<f32>>;
//#else
@group(0) @binding(3) var<storage, read_write> pool: array<f32>;
//#endif
@group(0) @binding(4) var<storage, read> rows: array<vec4<u32>>; // seqs: first row, count, slot
@group(0) @binding(5) var<uniform> P: Params;

//#include math
