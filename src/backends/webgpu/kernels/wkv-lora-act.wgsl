// Before the batched LoRA up-projection GEMM: the decay hidden vector goes through tanh and
// the gate's through sigmoid, in place (the in-context-rate and value-residual ones are used
// as they are). One workgroup per row of the step.
const WG: u32 = 256u;

//#include wkv-common

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let hrow = P.hid_off + wid.x * P.hid_stride;
  for (var q = lid; q < P.dw; q += WG) {
    act[hrow + P.hw + q] = tanh_safe(act[hrow + P.hw + q]);
  }
  for (var q = lid; q < P.dg; q += WG) {
    act[hrow + P.hg + q] = sigmoid(act[hrow + P.hg + q]);
  }
}
