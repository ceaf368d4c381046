// Counts the bf16 weights (two per u32) that f16 cannot hold: the tensor-core GEMM converts W to
// f16 as it stages it (matmul-sgm.wgsl), and a value of magnitude ≥ 65520 or a non-finite one
// has no f16 (pack2x16float leaves it undefined). f16-range.ts says what the count decides. One
// invocation per vec4 (eight weights); the weights are only read.
struct Params {
  vecs: u32, // vec4s in the buffer
  row: u32, // invocations per row of the grid (grid x · 256)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> w: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> bad: atomic<u32>;
@group(0) @binding(2) var<uniform> P: Params;

// 65520 and above round to infinity in f16 (65504 is its largest finite value).
const F16_LIMIT: f32 = 65520.0;

// How many of the word's two bf16 values f16 cannot hold. NaN fails every comparison, so
// `a < F16_LIMIT` is false for it as for ±inf and large values.
fn out_of_range(word: u32) -> u32 {
  let a = abs(vec2<f32>(bitcast<f32>(word << 16u), bitcast<f32>(word & 0xffff0000u)));
  return select(1u, 0u, a.x < F16_LIMIT) + select(1u, 0u, a.y < F16_LIMIT);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wid.y * P.row + wid.x * 256u + lid;
  if (i >= P.vecs) {
    return;
  }
  let q = w[i];
  let n = out_of_range(q.x) + out_of_range(q.y) + out_of_range(q.z) + out_of_range(q.w);
  if (n > 0u) {
    atomicAdd(&bad, n);
  }
}
