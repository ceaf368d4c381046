// Greedy pick (top-1) of each wanted logits row in two dispatches, so the whole GPU reads the
// row instead of one workgroup (topk.wgsl with k = 1 took ~80 µs per 65 536-entry row on the
// H100). Pass 1 (grid: chunks × rows): each workgroup reduces one chunk of a row to its best
// (value, index). Pass 2 (FINAL, one workgroup per row): reduces the chunks' partials.
// The order is a total one on non-NaN values — larger logit first, then lower token id — so
// the pick equals the CPU's argmax (lowest id on ties) whatever the chunking. With FEEDBACK,
// the pick also becomes the row's input token of the next step.
const WG: u32 = 256u;

struct Params {
  vocab: u32,
  // Entries each pass-1 workgroup covers, and workgroups (partials) per row.
  chunk: u32,
  chunks: u32,
  _p0: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<vec2<u32>>; // index, f32 bits
@group(0) @binding(2) var<storage, read_write> picks: array<vec2<u32>>; // token, f32 bits
@group(0) @binding(3) var<storage, read_write> rows: array<vec4<u32>>;
@group(0) @binding(4) var<uniform> P: Params;

//#include rank-order

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
//#if FINAL
  let row = wid.x;
  var bv = 0.0;
  var bi = NONE;
  for (var c = lid; c < P.chunks; c += WG) {
    let p = partials[row * P.chunks + c];
    let v = bitcast<f32>(p.y);
    if (before(v, p.x, bv, bi)) {
      bv = v;
      bi = p.x;
    }
  }
  reduce_workgroup(lid, bv, bi);
  if (lid == 0u) {
    picks[row] = vec2<u32>(best_i[0], bitcast<u32>(best_v[0]));
//#if FEEDBACK
    rows[row].x = best_i[0];
//#endif
  }
//#else
  let row = wid.y;
  let start = wid.x * P.chunk;
  let end = min(start + P.chunk, P.vocab);
  let base = row * P.vocab;
  var bv = 0.0;
  var bi = NONE;
  // Ascending indices per invocation: a later equal value never replaces an earlier one.
  for (var t = start + lid; t < end; t += WG) {
    let v = logits[base + t];
    if (before(v, t, bv, bi)) {
      bv = v;
      bi = t;
    }
  }
  reduce_workgroup(lid, bv, bi);
  if (lid == 0u) {
    partials[row * P.chunks + wid.x] = vec2<u32>(best_i[0], bitcast<u32>(best_v[0]));
  }
//#endif
}
