// Bindings of the per-layer glue that steps of a single token (one sequence) fold into their
// GEMVs (matvec-ln.wgsl: LayerNorm + token-shift mix; matvec.wgsl with COPY: saving the new
// shift). They follow matmul-common's bindings 0–3 (layout `matmulLn` in pipelines.ts).

struct LnParams {
  x_off: u32,      // act offset of x [1][C]
  ln_w: u32,       // params offsets
  ln_b: u32,
  shift_off: u32,  // offset of the shift inside a state slot of the layer's pool buffer
  slot_stride: u32,
  scratch: u32,    // act offset where matvec-ln writes LN(x) and COPY reads it
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(4) var<storage, read> params: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> pool: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> rows: array<vec4<u32>>; // token, slot, first, last
@group(0) @binding(7) var<uniform> L: LnParams;

// vec4 index of the single sequence's shift in `pool`.
fn shift_at() -> u32 {
  return (rows[0].y * L.slot_stride + L.shift_off) / 4u;
}
