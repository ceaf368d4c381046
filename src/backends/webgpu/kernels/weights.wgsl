// Weight decoding shared by every kernel that reads matrices. Matrices are stored as the
// checkpoint stores them: two 16-bit values per u32 (element 2i in the low half), read 16 bytes
// (one vec4<u32>) at a time. bf16 is the top half of an f32, so widening is a shift; f16 uses
// unpack2x16float, which needs no shader-f16 (NVIDIA does not expose that through Dawn).
// W32 stores plain f32 (for checkpoints with f32 or mixed-precision matrices).

//#if W32
const EPV: u32 = 4u; // elements per vec4<u32>
fn w_first4(u: vec4<u32>) -> vec4<f32> {
  return bitcast<vec4<f32>>(u);
}
//#else
const EPV: u32 = 8u;
//#if W_F16
fn w_first4(u: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(u.x), unpack2x16float(u.y));
}
fn w_last4(u: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(unpack2x16float(u.z), unpack2x16float(u.w));
}
//#else
fn w_first4(u: vec4<u32>) -> vec4<f32> {
  return bitcast<vec4<f32>>(vec4<u32>(u.x << 16u, u.x & 0xffff0000u, u.y << 16u, u.y & 0xffff0000u));
}
fn w_last4(u: vec4<u32>) -> vec4<f32> {
  return bitcast<vec4<f32>>(vec4<u32>(u.z << 16u, u.z & 0xffff0000u, u.w << 16u, u.w & 0xffff0000u));
}
//#endif
//#endif
