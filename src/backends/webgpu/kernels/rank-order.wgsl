// The order of logits for top-k and argmax: larger value first, then lower token id, so a GPU
// pick equals the CPU's (lowest id on ties) whatever the split of the work. An index of NONE
// (no candidate) ranks after everything. Needs WG (the workgroup size) from the includer.
const NONE: u32 = 0xffffffffu;

var<workgroup> best_v: array<f32, WG>;
var<workgroup> best_i: array<u32, WG>;

// (v, i) ranks before (w, j).
fn before(v: f32, i: u32, w: f32, j: u32) -> bool {
  return i != NONE && (j == NONE || v > w || (v == w && i < j));
}

// Tree reduction of every invocation's candidate; the winner ends in slot 0.
fn reduce_workgroup(lid: u32, v: f32, i: u32) {
  best_v[lid] = v;
  best_i[lid] = i;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s && before(best_v[lid + s], best_i[lid + s], best_v[lid], best_i[lid])) {
      best_v[lid] = best_v[lid + s];
      best_i[lid] = best_i[lid + s];
    }
    workgroupBarrier();
  }
}
