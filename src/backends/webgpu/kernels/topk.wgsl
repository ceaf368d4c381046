// The k largest logits of each wanted row, in descending order (ties: lower token id first),
// so sampling needs k values instead of a whole vocabulary row per token. One workgroup per
// row runs k rounds of a workgroup argmax over the entries ranked below the previous pick.
// With FEEDBACK, the best token also becomes the row's input token of the next step
// (greedy decoding without a round trip to the CPU).
const WG: u32 = 256u;

struct Params {
  vocab: u32,
  k: u32,
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> picks: array<vec2<u32>>; // token, f32 bits
@group(0) @binding(2) var<storage, read_write> rows: array<vec4<u32>>;
@group(0) @binding(3) var<uniform> P: Params;

//#include rank-order

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let base = row * P.vocab;
  var prev_v = 0.0;
  var prev_i = NONE; // nothing picked yet: every entry is eligible
  for (var n = 0u; n < P.k; n++) {
    var bv = 0.0;
    var bi = NONE;
    for (var t = lid; t < P.vocab; t += WG) {
      let v = logits[base + t];
      if ((n == 0u || before(prev_v, prev_i, v, t)) && before(v, t, bv, bi)) {
        bv = v;
        bi = t;
      }
    }
    reduce_workgroup(lid, bv, bi);
    prev_v = best_v[0];
    prev_i = best_i[0];
    if (lid == 0u) {
      picks[row * P.k + n] = vec2<u32>(prev_i, bitcast<u32>(prev_v));
//#if FEEDBACK
      if (n == 0u) {
        rows[row].x = prev_i;
      }
//#endif
    }
    workgroupBarrier();
  }
}
