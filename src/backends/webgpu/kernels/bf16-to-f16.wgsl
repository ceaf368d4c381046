// Weights stored as bf16 (two per u32, the first in the low half) rewritten in place as f16, for
// the tensor-core GEMM with f16 X (weights-to-f16.ts says when and why). A bf16 value has 8
// significant bits and f16 11, so every value in f16's normal range converts exactly; values
// outside its finite range (and non-finite ones) are counted in `bad` for the caller to refuse,
// as pack2x16float leaves them undefined. One invocation per vec4 (eight weights).
struct Params {
  vecs: u32, // vec4s in the buffer
  row: u32, // invocations per row of the grid (grid x · 256)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read_write> w: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> bad: atomic<u32>;
@group(0) @binding(2) var<uniform> P: Params;

// 65520 and above round to infinity in f16 (65504 is its largest finite value).
const F16_LIMIT: f32 = 65520.0;

fn unpack_bf16(word: u32) -> vec2<f32> {
  return vec2<f32>(bitcast<f32>(word << 16u), bitcast<f32>(word & 0xffff0000u));
}

// How many of the pair f16 cannot hold. NaN fails every comparison, so `a < F16_LIMIT` is
// false for it as for ±inf and large values.
fn out_of_range(v: vec2<f32>) -> u32 {
  let a = abs(v);
  return select(1u, 0u, a.x < F16_LIMIT) + select(1u, 0u, a.y < F16_LIMIT);
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = wid.y * P.row + wid.x * 256u + lid;
  if (i >= P.vecs) {
    return;
  }
  let q = w[i];
  var out = vec4<u32>(0u);
  var n = 0u;
  for (var e = 0u; e < 4u; e++) {
    let v = unpack_bf16(q[e]);
    let b = out_of_range(v);
    if (b == 0u) {
      out[e] = pack2x16float(v);
    }
    n += b;
  }
  w[i] = out;
  if (n > 0u) {
    atomicAdd(&bad, n);
  }
}
