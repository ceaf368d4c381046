// X as a matrix kernel reads it: as stored, or through tanh / sigmoid (Seg.x_act, MatmulTerm.xAct
// in matmul-jobs.ts). The LoRA up-projections of the batched and prefill wkv paths use it: their
// hidden vectors are read by nothing else, so no separate pass applies the activation.
// Needs math.wgsl (tanh_safe, sigmoid) included before it.
fn x_in(v: vec4<f32>, kind: u32) -> vec4<f32> {
  if (kind == 1u) {
    return vec4<f32>(tanh_safe(v.x), tanh_safe(v.y), tanh_safe(v.z), tanh_safe(v.w));
  }
  if (kind == 2u) {
    return vec4<f32>(sigmoid(v.x), sigmoid(v.y), sigmoid(v.z), sigmoid(v.w));
  }
  return v;
}
